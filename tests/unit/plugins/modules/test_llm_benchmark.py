"""onprem.llm.llm_benchmark end to end against the ollama double (a real streaming HTTP server)."""

from __future__ import annotations

import contextlib
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.onprem.llm.plugins.modules import llm_benchmark


@contextlib.contextmanager
def module_args(args, check_mode=False):
    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    with patch_module_args(args):
        yield


def run(capsys, args, check_mode=False):
    with module_args(args, check_mode):
        with pytest.raises(SystemExit) as exited:
            llm_benchmark.main()
    return exited.value.code, json.loads(capsys.readouterr().out)


def test_benchmark_levels(ollama_double, capsys):
    code, out = run(capsys, {"endpoints": [{"name": "o", "url": ollama_double, "model": "tiny", "kind": "ollama"}],
                             "concurrency": [1, 3], "num_requests": 6, "input_tokens": 30, "output_tokens": 8})
    assert code == 0 and out["changed"] is False
    assert [(r["endpoint"]["name"], r["concurrency"]) for r in out["results"]] == [("o", 1), ("o", 3)]
    for res in out["results"]:
        assert res["summary"]["requests"] == 6 and res["summary"]["errors"] == 0
        assert res["summary"]["mean_output_tokens"] == 8.0
    # The double counts 4 characters per token: the prompt was sized to about 30 tokens of text.
    assert 25 <= out["results"][0]["summary"]["mean_prompt_tokens"] <= 36


def test_benchmark_check_mode_sends_nothing(capsys):
    code, out = run(capsys, {"endpoints": [{"name": "o", "url": "http://127.0.0.1:9", "model": "m"}],
                             "concurrency": [1, 50]}, check_mode=True)
    assert code == 0 and "results" not in out
    assert [(p["concurrency"], p["num_requests"]) for p in out["planned"]] == [(1, 20), (50, 100)]
