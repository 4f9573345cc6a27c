# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Smoke checks of one OpenAI-compatible endpoint (module onprem.llm.llm_smoke): the model is listed,
a completion answers with text and usage, a streamed completion delivers tokens and ``[DONE]``, and an
endpoint with a key refuses a request without it."""

from __future__ import annotations

import json

from ansible_collections.onprem.llm.plugins.module_utils.bench import client

ERRORS = (OSError, ValueError, client.BenchError)


def _check(name, ok, detail):
    return {"name": name, "ok": bool(ok), "detail": detail}


def _error(name, exc):
    return _check(name, False, "%s: %s" % (type(exc).__name__, exc))


def check_models(ep, timeout):
    try:
        status, body = client.simple_request(ep, "GET", "/v1/models", timeout=timeout)
        ids = [m.get("id") for m in json.loads(body).get("data", [])] if status == 200 else []
        return _check("models", status == 200 and ep["model"] in ids,
                      "HTTP %d, models: %s" % (status, ", ".join(str(i) for i in ids) or body[:200]))
    except ERRORS as exc:
        return _error("models", exc)


def check_completion(ep, max_tokens, timeout):
    path, body, _headers = client.request_for(ep, "Say hello.", max_tokens, stream=False)
    payload = json.loads(body.decode("utf-8"))
    try:
        status, answer = client.simple_request(ep, "POST", path[len(client.split_url(ep["url"])[3]):], payload,
                                               timeout=timeout)
        doc = json.loads(answer) if status == 200 else {}
        choice = (doc.get("choices") or [{}])[0]
        text = (choice.get("message") or {}).get("content") if "message" in choice else choice.get("text")
        usage = doc.get("usage") or {}
        return _check("completion", status == 200 and bool(text) and usage.get("completion_tokens", 0) > 0,
                      "HTTP %d, %s tokens: %r" % (status, usage.get("completion_tokens"), (text or answer)[:80]))
    except ERRORS as exc:
        return _error("completion", exc)


def check_stream(ep, max_tokens, timeout):
    samples, _wall = client.run_level(ep, 1, 1, "Say hello.", max_tokens, timeout=timeout)
    sample = samples[0]
    return _check("stream", sample["ok"], sample["error"] or "first token after %.1f ms, %d tokens" % (
        sample["ttft"] * 1000.0, sample["output_tokens"]))


def check_auth(ep, timeout):
    try:
        status, _body = client.simple_request(dict(ep, api_key=""), "GET", "/v1/models", timeout=timeout)
        return _check("auth", status == 401, "without a key: HTTP %d" % status)
    except ERRORS as exc:
        return _error("auth", exc)


def check_endpoint(ep, max_tokens, timeout):
    """Every check of one endpoint, in order: models, completion, stream, and auth when it has a key."""
    checks = [check_models(ep, timeout), check_completion(ep, max_tokens, timeout),
              check_stream(ep, max_tokens, timeout)]
    if ep.get("api_key"):
        checks.append(check_auth(ep, timeout))
    return checks


def failures(results):
    """``endpoint: check (detail)`` for every failed check of ``[{endpoint, checks}]``."""
    return ["%s: %s (%s)" % (item["endpoint"]["name"], check["name"], check["detail"])
            for item in results for check in item["checks"] if not check["ok"]]
