#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: llm_benchmark
short_description: Smoke-test and benchmark OpenAI-compatible LLM endpoints (vLLM, Ollama, the gateway)
version_added: 0.1.0
description:
  - Runs on a node close to the endpoints (backends listen on loopback, so usually the serving
    node itself, or the gateway node for gateway endpoints) and talks to them with the Python
    standard library only (C(http.client), one thread and one keep-alive connection per concurrent
    client).
  - O(mode=benchmark) sends, for each endpoint and each O(concurrency) level, a fixed number of
    streamed completions (C(stream=true) with C(stream_options.include_usage)) and measures the
    time to first token, the time per output token, the request latency (mean, p50, p95, p99),
    output tokens per second over the level's wall time, and errors - the same figures and
    definitions as C(vllm bench serve), so the two can be compared.
  - O(mode=smoke) checks each endpoint once - C(GET /v1/models) lists the model, a completion
    answers with text and usage, a streamed completion delivers tokens and C([DONE]), and an
    endpoint with a key refuses a request without it (401) - and fails naming every failed check.
author:
  - onprem.llm contributors (@onprem-llm)
options:
  endpoints:
    description:
      - The endpoints, as the C(onprem.llm.llm_endpoints) filter derives them from the inventory.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Label used in results and reports.
        type: str
        required: true
      url:
        description: Base URL, V(http://127.0.0.1:8000) or V(https://gateway:8443) (a trailing C(/v1) is ignored).
        type: str
        required: true
      model:
        description: The C(model) field of every request (vLLM's served model name, Ollama's C(name:tag)).
        type: str
        required: true
      kind:
        description: Server behind the endpoint; V(vllm) requests get C(ignore_eos) when O(ignore_eos) is set.
        type: str
        choices: [vllm, ollama, other]
        default: other
      route:
        description: V(direct) to the backend or through the V(gateway) (reported only).
        type: str
        default: direct
      api:
        description: V(chat) uses C(/v1/chat/completions), V(completions) C(/v1/completions).
        type: str
        choices: [chat, completions]
        default: chat
      api_key:
        description: Bearer token sent as C(Authorization), "" for none.
        type: str
        default: ""
      validate_certs:
        description: Verify the HTTPS certificate.
        type: bool
        default: true
      ca_path:
        description: PEM file on this node to trust for HTTPS (the gateway's self-signed certificate), "" for the system CAs.
        type: str
        default: ""
      tls_server_name:
        description: Name the certificate must carry (and SNI) when the URL names an address, "" for the URL's host.
        type: str
        default: ""
      runner:
        description: Inventory host the client runs on (informational here; playbooks delegate to it).
        type: str
        default: ""
      model_path:
        description: Model directory on the vLLM node (tokenizer for vllm bench serve; informational here).
        type: str
        default: ""
      vllm_python:
        description: Interpreter of the vLLM venv (for vllm bench serve; informational here).
        type: str
        default: ""
  mode:
    description: V(benchmark) measures, V(smoke) checks.
    type: str
    choices: [benchmark, smoke]
    default: benchmark
  concurrency:
    description: Concurrent clients per level (benchmark).
    type: list
    elements: int
    default: [1, 5, 10, 50]
  num_requests:
    description: Requests per level; V(0) means twice the concurrency, at least 20.
    type: int
    default: 0
  input_tokens:
    description:
      - Prompt length to aim at, in tokens of the model's tokenizer. The prompt is made of common
        words; warm-up requests read C(usage.prompt_tokens) and size it so the text part has about
        this many tokens (the chat template adds its own).
    type: int
    default: 128
  output_tokens:
    description: C(max_tokens) of every request.
    type: int
    default: 64
  ignore_eos:
    description: Send C(ignore_eos=true) to vLLM endpoints so every answer has O(output_tokens) tokens (as vllm bench serve --ignore-eos).
    type: bool
    default: true
  warmup:
    description: Send the warm-up and prompt-sizing requests before measuring (benchmark).
    type: bool
    default: true
  connect_first:
    description:
      - Open every client's connection (TCP, and the TLS handshake for HTTPS) before a level's clock
        starts, so no request's TTFT or latency includes connecting - the figures of clients that
        are already connected, as long-lived keep-alive clients are.
      - V(false) (the default) measures as C(vllm bench serve) does - each client connects on its
        first request - so the first C(concurrency) requests of a level carry the handshake, which
        shows in p99 when they are more than 1% of the requests.
    type: bool
    default: false
  timeout:
    description: Seconds a request may take (connect and between reads).
    type: float
    default: 300
attributes:
  check_mode:
    support: partial
    description: Both modes change nothing on the node.
    details: In check mode O(mode=smoke) runs (it only reads); O(mode=benchmark) returns the planned levels without sending load.
  diff_mode:
    support: none
    description: Nothing on the node changes.
  platform:
    support: full
    platforms: posix
    description: Needs only the Python standard library on the node.
notes:
  - Keep the client off the measured server's cores where you can; the benchmark playbook compares
    its figures with C(vllm bench serve) on the same server and reports the ratio.
"""

EXAMPLES = r"""
- name: Benchmark a vLLM server on its own node
  onprem.llm.llm_benchmark:
    endpoints:
      - name: vllm/tiny
        kind: vllm
        url: http://127.0.0.1:8000
        model: tiny-llama
    concurrency: [1, 5]
    num_requests: 20
  register: bench

- name: Smoke-test an endpoint through the gateway
  onprem.llm.llm_benchmark:
    mode: smoke
    endpoints:
      - name: gateway/tiny-llama
        route: gateway
        url: https://127.0.0.1:8443
        tls_server_name: llm.example.internal
        ca_path: /etc/onprem-llm/gateway/tls.crt
        model: tiny-llama
        api_key: "{{ vault_gateway_key_ops }}"
"""

RETURN = r"""
results:
  description: Benchmark mode, one entry per endpoint and level, in order.
  returned: mode=benchmark, not in check mode
  type: list
  elements: dict
  contains:
    endpoint:
      description: The endpoint (name, kind, route, url, model; never the key).
      type: dict
    concurrency:
      description: Concurrent clients.
      type: int
    prompt_words:
      description: Words in the prompt after sizing.
      type: int
    summary:
      description:
        - requests, completed, errors, error_messages, duration_s, request_throughput,
          output_tokens, output_tokens_per_s, mean_prompt_tokens, mean_output_tokens, and
          ttft_ms / tpot_ms / latency_ms each with mean, p50, p95, p99.
      type: dict
  sample:
    - endpoint: {name: vllm/node1/tiny, kind: vllm, route: direct, url: "http://127.0.0.1:8000", model: tiny-llama}
      concurrency: 5
      prompt_words: 120
      summary: {requests: 20, errors: 0, output_tokens_per_s: 1480.2, ttft_ms: {mean: 31.2, p50: 30.1, p95: 44.0, p99: 47.3}}
planned:
  description: Check mode, benchmark - the levels that would run.
  returned: mode=benchmark in check mode
  type: list
  elements: dict
checks:
  description: Smoke mode, one entry per endpoint with its checks (name, ok, detail).
  returned: mode=smoke
  type: list
  elements: dict
"""

import json

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.onprem.llm.plugins.module_utils.bench import client
from ansible_collections.onprem.llm.plugins.module_utils.bench.endpoints import ENDPOINT_ARGSPEC
from ansible_collections.onprem.llm.plugins.module_utils.bench.stats import summarize

PUBLIC = ("name", "kind", "route", "url", "model", "api")


def public(ep):
    return dict((k, ep.get(k)) for k in PUBLIC)


def size_prompt(ep, target, max_tokens, timeout, ignore_eos=False):
    """Warm up and return a word count whose prompt has about ``target`` tokens of text."""
    # ignore_eos as in the measured requests: a base model may end a completion at once, and a
    # warm-up without a token would fail the run.
    def tokens(words):
        samples, _wall = client.run_level(ep, 1, 1, client.make_prompt(words), min(max_tokens, 8),
                                          ignore_eos=ignore_eos, timeout=timeout)
        sample = samples[0]
        if not sample["ok"]:
            raise client.BenchError("warm-up request to %s failed: %s" % (ep["name"], sample["error"]))
        return sample.get("prompt_tokens")

    # A short probe: a word may be several tokens, and a prompt of ``target`` words could exceed
    # the context of a small model.
    probe = max(2, min(16, target))
    one = tokens(1)
    many = tokens(probe)
    if one is None or many is None or many <= one:
        return target
    per_word = float(many - one) / (probe - 1)
    return max(1, int(round(target / per_word)))


def run_benchmark(module, endpoints):
    p = module.params
    levels = [c for c in p["concurrency"] if c > 0]
    if not levels:
        module.fail_json(msg="concurrency needs at least one level above 0")
    plan = []
    for ep in endpoints:
        for conc in levels:
            plan.append({"endpoint": public(ep), "concurrency": conc,
                         "num_requests": p["num_requests"] or max(20, 2 * conc)})
    if module.check_mode:
        module.exit_json(changed=False, planned=plan)
    results = []
    for ep in endpoints:
        words = p["input_tokens"]
        ignore_eos = p["ignore_eos"] and ep["kind"] == "vllm"
        if p["warmup"]:
            try:
                words = size_prompt(ep, p["input_tokens"], p["output_tokens"], p["timeout"], ignore_eos)
            except client.BenchError as exc:
                module.fail_json(msg=str(exc))
        prompt = client.make_prompt(words, seed=7)
        for item in [i for i in plan if i["endpoint"]["name"] == ep["name"]]:
            samples, wall = client.run_level(ep, item["concurrency"], item["num_requests"], prompt,
                                             p["output_tokens"], ignore_eos=ignore_eos, timeout=p["timeout"],
                                             connect_first=p["connect_first"])
            results.append({"endpoint": public(ep), "concurrency": item["concurrency"], "prompt_words": words,
                            "summary": summarize(samples, wall)})
    module.exit_json(changed=False, results=results)


def _check(name, ok, detail):
    return {"name": name, "ok": bool(ok), "detail": detail}


def smoke_one(ep, max_tokens, timeout):
    checks = []
    try:
        status, body = client.simple_request(ep, "GET", "/v1/models", timeout=timeout)
        ids = [m.get("id") for m in json.loads(body).get("data", [])] if status == 200 else []
        checks.append(_check("models", status == 200 and ep["model"] in ids,
                             "HTTP %d, models: %s" % (status, ", ".join(str(i) for i in ids) or body[:200])))
    except (OSError, ValueError, client.BenchError) as exc:
        checks.append(_check("models", False, "%s: %s" % (type(exc).__name__, exc)))
    path, _body, _headers = client.request_for(ep, "Say hello.", max_tokens, stream=False)
    payload = json.loads(_body.decode("utf-8"))
    try:
        status, body = client.simple_request(ep, "POST", path[len(client.split_url(ep["url"])[3]):], payload,
                                             timeout=timeout)
        doc = json.loads(body) if status == 200 else {}
        choice = (doc.get("choices") or [{}])[0]
        text = (choice.get("message") or {}).get("content") if "message" in choice else choice.get("text")
        usage = doc.get("usage") or {}
        checks.append(_check("completion", status == 200 and bool(text) and usage.get("completion_tokens", 0) > 0,
                             "HTTP %d, %s tokens: %r" % (status, usage.get("completion_tokens"),
                                                         (text or body)[:80])))
    except (OSError, ValueError, client.BenchError) as exc:
        checks.append(_check("completion", False, "%s: %s" % (type(exc).__name__, exc)))
    samples, _wall = client.run_level(ep, 1, 1, "Say hello.", max_tokens, timeout=timeout)
    sample = samples[0]
    checks.append(_check("stream", sample["ok"], sample["error"] or "first token after %.1f ms, %d tokens" % (
        sample["ttft"] * 1000.0, sample["output_tokens"])))
    if ep.get("api_key"):
        anonymous = dict(ep, api_key="")
        try:
            status, body = client.simple_request(anonymous, "GET", "/v1/models", timeout=timeout)
            checks.append(_check("auth", status == 401, "without a key: HTTP %d" % status))
        except (OSError, ValueError, client.BenchError) as exc:
            checks.append(_check("auth", False, "%s: %s" % (type(exc).__name__, exc)))
    return checks


def run_smoke(module, endpoints):
    out = []
    failed = []
    for ep in endpoints:
        checks = smoke_one(ep, min(module.params["output_tokens"], 16), module.params["timeout"])
        out.append({"endpoint": public(ep), "checks": checks})
        failed += ["%s: %s (%s)" % (ep["name"], c["name"], c["detail"]) for c in checks if not c["ok"]]
    if failed:
        module.fail_json(msg="smoke test failed: " + "; ".join(failed), checks=out)
    module.exit_json(changed=False, checks=out)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            endpoints=dict(type="list", elements="dict", required=True, options=ENDPOINT_ARGSPEC),
            mode=dict(type="str", default="benchmark", choices=["benchmark", "smoke"]),
            concurrency=dict(type="list", elements="int", default=[1, 5, 10, 50]),
            num_requests=dict(type="int", default=0),
            input_tokens=dict(type="int", default=128, no_log=False),
            output_tokens=dict(type="int", default=64, no_log=False),
            ignore_eos=dict(type="bool", default=True),
            warmup=dict(type="bool", default=True),
            connect_first=dict(type="bool", default=False),
            timeout=dict(type="float", default=300.0),
        ),
        supports_check_mode=True,
    )
    endpoints = module.params["endpoints"]
    for ep in endpoints:
        try:
            client.split_url(ep["url"])
        except client.BenchError as exc:
            module.fail_json(msg="%s: %s" % (ep["name"], exc))
    if module.params["mode"] == "smoke":
        run_smoke(module, endpoints)
    run_benchmark(module, endpoints)


if __name__ == "__main__":
    main()
