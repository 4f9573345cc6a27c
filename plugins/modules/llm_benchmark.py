#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: llm_benchmark
short_description: Benchmark OpenAI-compatible LLM endpoints (vLLM, Ollama, the gateway)
version_added: 0.1.0
description:
  - Runs on a node close to the endpoints (backends listen on loopback, so usually the serving
    node itself, or the gateway node for gateway endpoints) and talks to them with the Python
    standard library only (C(http.client), one thread and one keep-alive connection per concurrent
    client).
  - It sends, for each endpoint and each O(concurrency) level, a fixed number of
    streamed completions (C(stream=true) with C(stream_options.include_usage)) and measures the
    time to first token, the time per output token, the request latency (mean, p50, p95, p99),
    output tokens per second over the level's wall time, and errors - the same figures and
    definitions as C(vllm bench serve), so the two can be compared.
  - M(onprem.llm.llm_smoke) checks endpoints once instead of measuring them.
author:
  - onprem.llm contributors (@onprem-llm)
extends_documentation_fragment:
  - onprem.llm.attributes.ENDPOINT_CLIENT
  - onprem.llm.llm_endpoints
options:
  concurrency:
    description: Concurrent clients per level.
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
    description: Send the warm-up and prompt-sizing requests before measuring.
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
    description: Nothing on the node changes.
    details: In check mode it returns the planned levels without sending load.
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
"""

RETURN = r"""
results:
  description: One entry per endpoint and level, in order.
  returned: not in check mode
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
  description: Check mode - the levels that would run.
  returned: in check mode
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.onprem.llm.plugins.module_utils.bench import client
from ansible_collections.onprem.llm.plugins.module_utils.bench.endpoints import ENDPOINT_ARGSPEC, public_view
from ansible_collections.onprem.llm.plugins.module_utils.bench.stats import summarize


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
            plan.append({"endpoint": public_view(ep), "concurrency": conc,
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
            results.append({"endpoint": public_view(ep), "concurrency": item["concurrency"], "prompt_words": words,
                            "summary": summarize(samples, wall)})
    module.exit_json(changed=False, results=results)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            endpoints=dict(type="list", elements="dict", required=True, options=ENDPOINT_ARGSPEC),
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
    if client.bad_url(endpoints):
        module.fail_json(msg=client.bad_url(endpoints))
    run_benchmark(module, endpoints)


if __name__ == "__main__":
    main()
