"""onprem.llm.llm_smoke end to end against the ollama double (a real streaming HTTP server)."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.onprem.llm.plugins.modules import llm_smoke


def run(capsys, args, check_mode=False):
    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exited:
            llm_smoke.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("check_mode", [False, True])
def test_smoke_passes_in_both_modes(ollama_double, capsys, check_mode):
    code, out = run(capsys, {"endpoints": [{"name": "o", "url": ollama_double, "model": "tiny:latest"}]}, check_mode)
    assert code == 0 and out["changed"] is False, out
    (result,) = out["checks"]
    assert result["endpoint"] == {"name": "o", "kind": "other", "route": "direct", "url": ollama_double,
                                  "model": "tiny:latest", "api": "chat"}
    assert [c["name"] for c in result["checks"]] == ["models", "completion", "stream"]
    assert all(c["ok"] for c in result["checks"])


def test_max_tokens_is_what_the_completions_ask_for(ollama_double, capsys):
    # The double answers exactly max_tokens tokens.
    code, out = run(capsys, {"endpoints": [{"name": "o", "url": ollama_double, "model": "tiny:latest"}],
                             "max_tokens": 24})
    assert code == 0, out
    checks = {c["name"]: c["detail"] for c in out["checks"][0]["checks"]}
    assert checks["completion"].startswith("HTTP 200, 24 tokens")
    assert checks["stream"].endswith(", 24 tokens")


def test_smoke_fails_naming_every_failed_check_and_never_the_key(ollama_double, capsys):
    code, out = run(capsys, {"endpoints": [{"name": "o", "url": ollama_double, "model": "absent:1b",
                                            "api_key": "k-123"}]})
    assert code == 1
    assert "o: models (HTTP 200, models: tiny:latest)" in out["msg"]
    assert "o: completion (HTTP 404" in out["msg"]
    # The double has no authentication: a key-protected endpoint that answers without one fails.
    assert "o: auth (without a key: HTTP 200)" in out["msg"]
    assert [c["name"] for c in out["checks"][0]["checks"]] == ["models", "completion", "stream", "auth"]
    assert "k-123" not in json.dumps(out)


def test_an_unreachable_endpoint_fails_every_check(capsys):
    code, out = run(capsys, {"endpoints": [{"name": "gone", "url": "http://127.0.0.1:9", "model": "m"}],
                             "timeout": 5})
    assert code == 1
    assert [c["ok"] for c in out["checks"][0]["checks"]] == [False, False, False]
    assert "gone: models (ConnectionRefusedError" in out["msg"]


def test_a_bad_url_is_named_before_any_request(capsys):
    code, out = run(capsys, {"endpoints": [{"name": "bad", "url": "ftp://host/x", "model": "m"}]})
    assert code == 1 and out["msg"].startswith("bad: ")
