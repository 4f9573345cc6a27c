#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: llm_evaluate
short_description: Score LLM endpoints on task files (accuracy) and texts (perplexity)
version_added: 0.1.0
description:
  - Reads multiple-choice and short-answer task files (JSON Lines, see C(docs/evaluate.md)) and
    plain texts, and scores each endpoint on them through its OpenAI-compatible API with the
    Python standard library only, from a node that reaches the endpoint (usually the serving node).
  - Multiple-choice files are scored by log-likelihood on vLLM endpoints (the model's own
    tokenizer through C(POST /tokenize), prompt log-probabilities through C(/v1/completions) with
    token ids, C(echo) and C(max_tokens=0)), reporting C(accuracy) and C(accuracy_norm) as
    lm-evaluation-harness defines C(acc) and C(acc_norm); on other endpoints, and whenever
    O(tasks[].scoring=generate), by greedy generation of a letter. Short answers are greedy
    generations compared with the accepted answers after normalization.
  - Perplexity of each text comes from its prompt log-probabilities in windows of the model's
    context (vLLM endpoints only; others get C(skipped) with the reason).
  - O(mode=check) only reads and checks the files, failing on the first malformed line with the
    file and the line number; the evaluation playbook runs it on the controller before anything.
author:
  - onprem.llm contributors (@onprem-llm)
extends_documentation_fragment:
  - onprem.llm.attributes.ENDPOINT_CLIENT
options:
  mode:
    description: V(evaluate) scores the endpoints, V(check) only checks the files.
    type: str
    choices: [evaluate, check]
    default: evaluate
  endpoints:
    description: The endpoints, as the C(onprem.llm.llm_endpoints) filter derives them (see M(onprem.llm.llm_benchmark)).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Label used in results.
        type: str
        required: true
      url:
        description: Base URL, V(http://127.0.0.1:8000) (a trailing C(/v1) is ignored).
        type: str
        required: true
      model:
        description: The C(model) field of every request.
        type: str
        required: true
      kind:
        description: V(vllm) endpoints are scored by log-likelihood; V(ollama) and V(other) by generation.
        type: str
        choices: [vllm, ollama, other]
        default: other
      route:
        description: V(direct) or V(gateway) (reported only; the gateway does not route C(/tokenize)).
        type: str
        default: direct
      api:
        description: Generation through V(chat) (C(/v1/chat/completions)) or V(completions).
        type: str
        choices: [chat, completions]
        default: chat
      api_key:
        description: Bearer token, "" for none.
        type: str
        default: ""
      validate_certs:
        description: Verify the HTTPS certificate.
        type: bool
        default: true
      ca_path:
        description: PEM file on this node to trust for HTTPS, "" for the system CAs.
        type: str
        default: ""
      tls_server_name:
        description: Name the certificate must carry when the URL names an address, "" for the URL's host.
        type: str
        default: ""
      runner:
        description: Inventory host the client runs on (informational).
        type: str
        default: ""
      model_path:
        description: Model directory on the vLLM node (informational).
        type: str
        default: ""
      vllm_python:
        description: Interpreter of the vLLM venv (informational).
        type: str
        default: ""
  tasks:
    description: Task files on this node.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Label of the task in results.
        type: str
        required: true
      path:
        description: The JSON Lines file.
        type: path
        required: true
      scoring:
        description:
          - V(auto) scores multiple-choice files by log-likelihood on vLLM endpoints and by
            generation elsewhere; V(loglikelihood) and V(generate) force one (log-likelihood
            fails on an endpoint without C(/tokenize)).
        type: str
        choices: [auto, loglikelihood, generate]
        default: auto
  texts:
    description: Texts on this node whose perplexity is computed.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Label of the text in results.
        type: str
        required: true
      path:
        description: A UTF-8 text file.
        type: path
        required: true
      window:
        description: Tokens per window, V(0) for the model's whole context (C(max_model_len)).
        type: int
        default: 0
  parallel:
    description: Requests in flight at once per endpoint.
    type: int
    default: 4
  max_tokens:
    description: C(max_tokens) of generated answers.
    type: int
    default: 32
  details:
    description: Also return each question's result (prediction, log-likelihoods, reply).
    type: bool
    default: false
  timeout:
    description: Seconds a request may take.
    type: float
    default: 300
attributes:
  check_mode:
    support: full
    description: Nothing on the node changes; in check mode O(mode=evaluate) checks the files and returns the plan.
seealso:
  - module: onprem.llm.llm_benchmark
  - module: onprem.llm.llm_evaluate_report
"""

EXAMPLES = r"""
- name: Check the task files on the controller before anything runs
  onprem.llm.llm_evaluate:
    mode: check
    tasks:
      - {name: kobest-boolq, path: /srv/eval/kobest_boolq.jsonl}
    texts:
      - {name: ko-wiki, path: /srv/eval/ko_wiki.txt}
  delegate_to: localhost

- name: Score a vLLM endpoint on its node
  onprem.llm.llm_evaluate:
    endpoints:
      - {name: vllm/node1/qwen, kind: vllm, url: "http://127.0.0.1:8000", model: qwen2.5-7b}
    tasks:
      - {name: kobest-boolq, path: /var/tmp/onprem-llm-eval/kobest_boolq.jsonl}
    texts:
      - {name: ko-wiki, path: /var/tmp/onprem-llm-eval/ko_wiki.txt}
  register: scores
"""

RETURN = r"""
files:
  description: What each file holds (name, path, questions or characters, kind).
  returned: always
  type: list
  elements: dict
results:
  description: One entry per endpoint.
  returned: mode=evaluate, not in check mode
  type: list
  elements: dict
  contains:
    endpoint:
      description: The endpoint (name, kind, route, url, model, api; never the key).
      type: dict
    tasks:
      description:
        - Per task file - name, scoring (V(loglikelihood) or V(generate)) and summary
          (questions, correct, accuracy, accuracy_norm with log-likelihood, unparsed replies of
          generated choices), with O(details) also items.
      type: list
    texts:
      description:
        - Per text - name, tokens, scored_tokens, mean_logprob, perplexity, or skipped with the reason.
      type: list
    seconds:
      description: Wall time of this endpoint's evaluation.
      type: float
  sample:
    - endpoint: {name: vllm/node1/tiny, kind: vllm, route: direct, url: "http://127.0.0.1:8000", model: tiny-llama}
      tasks: [{name: ko-choice, scoring: loglikelihood, summary: {questions: 8, correct: 3, accuracy: 0.375}}]
      texts: [{name: ko-text, tokens: 412, scored_tokens: 411, perplexity: 498.2}]
      seconds: 2.4
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.onprem.llm.plugins.module_utils.bench.client import bad_url
from ansible_collections.onprem.llm.plugins.module_utils.bench.endpoints import ENDPOINT_ARGSPEC
from ansible_collections.onprem.llm.plugins.module_utils.evaluate import client as evaluate
from ansible_collections.onprem.llm.plugins.module_utils.evaluate import taskfile

PUBLIC = ("name", "kind", "route", "url", "model", "api")


def read_files(module):
    """Every task and text, checked; fails naming the file and line of the first problem."""
    p = module.params
    tasks, texts, files = [], [], []
    names = [t["name"] for t in p["tasks"]] + [t["name"] for t in p["texts"]]
    dupes = sorted(set(n for n in names if names.count(n) > 1))
    if dupes:
        module.fail_json(msg="task and text names must be unique: %s" % ", ".join(dupes))
    try:
        for task in p["tasks"]:
            items = taskfile.read_task_file(task["path"])
            tasks.append((task, items))
            files.append({"name": task["name"], "path": task["path"], "kind": items[0]["kind"],
                          "questions": len(items)})
        for text in p["texts"]:
            if text["window"] < 0 or text["window"] == 1:
                module.fail_json(msg="texts %s: window must be 0 (the model's context) or at least 2" % text["name"])
            body = taskfile.read_text_file(text["path"])
            texts.append((text, body))
            files.append({"name": text["name"], "path": text["path"], "kind": "text", "characters": len(body)})
    except taskfile.TaskFileError as exc:
        module.fail_json(msg=str(exc), files=files)
    return tasks, texts, files


def method_for(task, items, endpoint):
    if items[0]["kind"] != "choice" or task["scoring"] == "generate":
        return "generate"
    if task["scoring"] == "loglikelihood" or endpoint["kind"] == "vllm":
        return "loglikelihood"
    return "generate"


def evaluate_endpoint(module, endpoint, tasks, texts):
    p = module.params
    scorer = evaluate.Scorer(endpoint, timeout=p["timeout"], max_tokens=p["max_tokens"])
    started = time.time()
    out = {"endpoint": dict((k, endpoint.get(k)) for k in PUBLIC), "tasks": [], "texts": []}
    for task, items in tasks:
        method = method_for(task, items, endpoint)
        results = evaluate.score_tasks(scorer, items, method, p["parallel"])
        entry = {"name": task["name"], "scoring": method, "summary": evaluate.summarize_tasks(items, results)}
        if p["details"]:
            entry["items"] = results
        out["tasks"].append(entry)
    for text, body in texts:
        if endpoint["kind"] == "ollama":
            out["texts"].append({"name": text["name"], "skipped": "Ollama's OpenAI API returns no prompt log-probabilities"})
            continue
        values, count = scorer.text_logprobs(body, text["window"])
        mean = sum(values) / len(values)
        out["texts"].append({"name": text["name"], "tokens": count, "scored_tokens": len(values),
                             "window": min(w for w in (text["window"], scorer.max_prompt_tokens(), count) if w),
                             "mean_logprob": round(mean, 6),
                             "perplexity": round(evaluate.scoring.perplexity(values), 6)})
    out["seconds"] = round(time.time() - started, 3)
    return out


def main():
    module = AnsibleModule(
        argument_spec=dict(
            mode=dict(type="str", default="evaluate", choices=["evaluate", "check"]),
            endpoints=dict(type="list", elements="dict", default=[], options=ENDPOINT_ARGSPEC),
            tasks=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True),
                path=dict(type="path", required=True),
                scoring=dict(type="str", default="auto", choices=["auto", "loglikelihood", "generate"]),
            )),
            texts=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True),
                path=dict(type="path", required=True),
                window=dict(type="int", default=0),
            )),
            parallel=dict(type="int", default=4),
            max_tokens=dict(type="int", default=32, no_log=False),
            details=dict(type="bool", default=False),
            timeout=dict(type="float", default=300.0),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not p["tasks"] and not p["texts"]:
        module.fail_json(msg="nothing to evaluate: give tasks (JSON Lines task files) or texts (perplexity)")
    tasks, texts, files = read_files(module)
    if p["mode"] == "check" or module.check_mode:
        module.exit_json(changed=False, files=files)
    if not p["endpoints"]:
        module.fail_json(msg="mode=evaluate needs at least one endpoint", files=files)
    if bad_url(p["endpoints"]):
        module.fail_json(msg=bad_url(p["endpoints"]))
    results = []
    for ep in p["endpoints"]:
        try:
            results.append(evaluate_endpoint(module, ep, tasks, texts))
        except (evaluate.EvalError, ValueError) as exc:
            module.fail_json(msg="%s: %s" % (ep["name"], exc) if not str(exc).startswith(ep["name"]) else str(exc),
                             files=files, results=results)
    module.exit_json(changed=False, files=files, results=results)


if __name__ == "__main__":
    main()
