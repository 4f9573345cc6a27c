"""The smoke checks of one endpoint (module_utils/bench/smoke.py) against the ollama double."""

from __future__ import annotations

from ansible_collections.onprem.llm.plugins.module_utils.bench import smoke


def _ep(url, **extra):
    return dict({"name": "o", "url": url, "model": "tiny:latest", "kind": "ollama", "route": "direct",
                 "api": "chat", "api_key": "", "validate_certs": True, "ca_path": "", "tls_server_name": ""}, **extra)


def test_every_check_of_a_served_model_passes(ollama_double):
    checks = smoke.check_endpoint(_ep(ollama_double), 8, 30)
    assert [(c["name"], c["ok"]) for c in checks] == [("models", True), ("completion", True), ("stream", True)]
    assert checks[0]["detail"] == "HTTP 200, models: tiny:latest"


def test_the_completions_api_is_checked_too(ollama_double):
    checks = smoke.check_endpoint(_ep(ollama_double, api="completions"), 8, 30)
    assert all(c["ok"] for c in checks), checks


def test_a_model_that_is_not_served(ollama_double):
    models, completion, stream = smoke.check_endpoint(_ep(ollama_double, model="absent:1b"), 8, 30)
    assert not models["ok"] and not completion["ok"] and not stream["ok"]
    assert completion["detail"].startswith("HTTP 404")


def test_a_key_that_is_not_required_fails_the_auth_check(ollama_double):
    auth = smoke.check_endpoint(_ep(ollama_double, api_key="k-1"), 8, 30)[-1]
    assert auth == {"name": "auth", "ok": False, "detail": "without a key: HTTP 200"}


def test_failures_name_endpoint_check_and_detail():
    results = [{"endpoint": {"name": "a"}, "checks": [{"name": "models", "ok": True, "detail": "x"}]},
               {"endpoint": {"name": "b"}, "checks": [{"name": "models", "ok": False, "detail": "HTTP 500"},
                                                      {"name": "stream", "ok": False, "detail": "timeout"}]}]
    assert smoke.failures(results) == ["b: models (HTTP 500)", "b: stream (timeout)"]
    assert smoke.failures(results[:1]) == []
