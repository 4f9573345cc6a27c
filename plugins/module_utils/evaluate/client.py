# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scoring task files and texts through an OpenAI-compatible endpoint (standard library only).

Log-likelihoods need what vLLM offers beside the OpenAI API: ``POST /tokenize`` (the served
model's own tokenizer, so no tokenizer is needed where this runs) and prompt log-probabilities
(``/v1/completions`` with the prompt as token ids, ``echo``, ``logprobs`` and ``max_tokens: 0``).
Sending token ids makes the context/continuation split exact: nothing is tokenized twice.
Generation scoring needs only ``/v1/chat/completions`` or ``/v1/completions``, which every
OpenAI-compatible server (Ollama too) has.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.onprem.llm.plugins.module_utils.bench.client import BenchError, simple_request
from ansible_collections.onprem.llm.plugins.module_utils.evaluate import scoring


class EvalError(Exception):
    pass


def _post(endpoint, path, payload, timeout):
    try:
        status, body = simple_request(endpoint, "POST", path, payload, timeout=timeout)
    except (BenchError, OSError) as exc:
        raise EvalError("%s: POST %s failed: %s" % (endpoint["name"], path, exc))
    if status != 200:
        if path == "/tokenize" and status in (404, 405):
            raise EvalError("%s: POST /tokenize answered %d: log-likelihood scoring and perplexity need the "
                            "endpoint's /tokenize and prompt log-probabilities, which vLLM serves; score "
                            "this endpoint with scoring: generate" % (endpoint["name"], status))
        raise EvalError("%s: POST %s answered %d: %s" % (endpoint["name"], path, status, body[:300]))
    try:
        return json.loads(body)
    except ValueError:
        raise EvalError("%s: POST %s answered 200 with a body that is not JSON: %s"
                        % (endpoint["name"], path, body[:200]))


class Scorer(object):
    """One endpoint: tokenize, prompt log-probabilities, greedy generation."""

    def __init__(self, endpoint, timeout=300.0, max_tokens=32):
        self.endpoint = endpoint
        self.timeout = float(timeout)
        self.max_tokens = int(max_tokens)
        self.max_model_len = None
        self._lock = threading.Lock()

    def tokenize(self, text):
        doc = _post(self.endpoint, "/tokenize",
                    {"model": self.endpoint["model"], "prompt": text, "add_special_tokens": True}, self.timeout)
        tokens = doc.get("tokens")
        if not isinstance(tokens, list):
            raise EvalError("%s: /tokenize answered without a token list" % self.endpoint["name"])
        if doc.get("max_model_len"):
            with self._lock:
                self.max_model_len = int(doc["max_model_len"])
        return [int(t) for t in tokens]

    def max_prompt_tokens(self):
        """The longest prompt to send: vLLM runs an echo with max_tokens 0 as one output token, and
        holds one token of the context back for it as its own truncation does."""
        return self.max_model_len - 1 if self.max_model_len else None

    def token_logprobs(self, ids):
        """The log-probability of each token of ``ids`` given the ones before it (None for the first)."""
        if self.max_model_len and len(ids) > self.max_prompt_tokens():
            raise EvalError("%s: %d tokens do not fit the model's context (max_model_len %d, one token held back)"
                            % (self.endpoint["name"], len(ids), self.max_model_len))
        doc = _post(self.endpoint, "/v1/completions",
                    {"model": self.endpoint["model"], "prompt": ids, "max_tokens": 0, "echo": True,
                     "logprobs": 1, "temperature": 0}, self.timeout)
        try:
            values = doc["choices"][0]["logprobs"]["token_logprobs"]
        except (KeyError, IndexError, TypeError):
            raise EvalError("%s: /v1/completions with echo and logprobs answered without token_logprobs"
                            % self.endpoint["name"])
        if len(values) != len(ids):
            raise EvalError("%s: %d prompt log-probabilities for %d prompt tokens"
                            % (self.endpoint["name"], len(values), len(ids)))
        return values

    def generate(self, prompt):
        ep = self.endpoint
        if ep.get("api", "chat") == "chat":
            payload = {"model": ep["model"], "messages": [{"role": "user", "content": prompt}],
                       "max_tokens": self.max_tokens, "temperature": 0}
            doc = _post(ep, "/v1/chat/completions", payload, self.timeout)
            path = ("message", "content")
        else:
            payload = {"model": ep["model"], "prompt": prompt, "max_tokens": self.max_tokens, "temperature": 0}
            doc = _post(ep, "/v1/completions", payload, self.timeout)
            path = ("text",)
        try:
            value = doc["choices"][0]
            for key in path:
                value = value[key]
        except (KeyError, IndexError, TypeError):
            raise EvalError("%s: the completion answered without %s" % (ep["name"], ".".join(path)))
        return value or ""

    # ---------------------------------------------------------------------------------- one item
    def choice_by_loglikelihood(self, item):
        context = self.tokenize(item["question"])
        lls = []
        continuations = [" " + c for c in item["choices"]]
        for text in continuations:
            whole = self.tokenize(item["question"] + text)
            start = scoring.continuation_start(context, whole)
            lls.append(scoring.sum_logprobs(self.token_logprobs(whole), start))
        pick, pick_norm = scoring.pick_choice(lls, continuations)
        return {"pred": pick, "pred_norm": pick_norm, "loglikelihoods": [round(v, 6) for v in lls],
                "correct": pick == item["answer"], "correct_norm": pick_norm == item["answer"]}

    def choice_by_generation(self, item):
        reply = self.generate(scoring.choice_prompt(item["question"], item["choices"]))
        pick = scoring.reply_choice(reply, len(item["choices"]))
        return {"pred": pick, "reply": reply, "correct": pick == item["answer"]}

    def short_answer(self, item):
        reply = self.generate(item["question"])
        return {"reply": reply, "correct": scoring.answer_matches(reply, item["answers"])}

    def text_logprobs(self, text, window=0):
        """(scored log-probabilities, token count) of a text, window by window."""
        ids = self.tokenize(text)
        size = int(window) or self.max_prompt_tokens() or len(ids)
        if self.max_model_len:
            size = min(size, self.max_prompt_tokens())
        values = []
        for start, end in scoring.windows(len(ids), size):
            values += self.token_logprobs(ids[start:end])[1:]
        if any(v is None for v in values):
            raise EvalError("%s: the endpoint returned no log-probability for some text token" % self.endpoint["name"])
        return values, len(ids)


def score_tasks(scorer, items, scoring_method, parallel=4):
    """Per-item results, in file order, ``parallel`` requests at a time."""
    if scoring_method == "loglikelihood":
        one = scorer.choice_by_loglikelihood
    elif items and items[0]["kind"] == "choice":
        one = scorer.choice_by_generation
    else:
        one = scorer.short_answer
    if scoring_method == "loglikelihood" and items and items[0]["kind"] != "choice":
        raise EvalError("log-likelihood scoring is for multiple-choice files; short answers are scored by generation")
    with ThreadPoolExecutor(max_workers=max(1, int(parallel))) as pool:
        results = list(pool.map(one, items))
    for item, result in zip(items, results):
        result["line"] = item["line"]
        result["id"] = item["id"]
    return results


def summarize_tasks(items, results):
    total = len(results)
    out = {"questions": total, "kind": items[0]["kind"] if items else "",
           "correct": sum(1 for r in results if r["correct"]),
           "accuracy": scoring.accuracy(sum(1 for r in results if r["correct"]), total)}
    if results and "correct_norm" in results[0]:
        out["accuracy_norm"] = scoring.accuracy(sum(1 for r in results if r["correct_norm"]), total)
    if results and "pred" in results[0] and "reply" in results[0]:
        out["unparsed"] = sum(1 for r in results if r["pred"] is None)
    return out
