from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.bench import vllm_bench

FIXTURE = Path(__file__).resolve().parents[5] / "tests" / "fixtures" / "bench" / "vllm-bench-serve-result.json"
ENDPOINT = {"name": "vllm/n/tiny", "url": "http://127.0.0.1:8000", "model": "tiny-llama", "api": "chat",
            "model_path": "/srv/models/tiny-llama", "vllm_python": "/opt/onprem-llm/vllm/current/bin/python"}


def opt(argv, name):
    return argv[argv.index(name) + 1]


def test_argv_matches_our_level():
    argv = vllm_bench.bench_argv(ENDPOINT, 5, 40, 128, 64, "/var/tmp/b", "r.json")
    assert argv[:2] == ["/opt/onprem-llm/vllm/current/bin/python", "-c"]
    assert "from vllm.benchmarks.serve import add_cli_args, main" in argv[2]
    assert opt(argv, "--backend") == "openai-chat"
    assert opt(argv, "--endpoint") == "/v1/chat/completions"
    assert opt(argv, "--base-url") == "http://127.0.0.1:8000"
    assert opt(argv, "--model") == "tiny-llama"
    assert opt(argv, "--tokenizer") == "/srv/models/tiny-llama"
    assert opt(argv, "--dataset-name") == "random"
    assert opt(argv, "--random-input-len") == "128"
    assert opt(argv, "--random-output-len") == "64"
    assert opt(argv, "--max-concurrency") == "5"
    assert opt(argv, "--num-prompts") == "40"
    assert opt(argv, "--request-rate") == "inf"
    assert "--ignore-eos" in argv and "--save-result" in argv
    assert opt(argv, "--result-dir") == "/var/tmp/b" and opt(argv, "--result-filename") == "r.json"


def test_argv_completions_api():
    argv = vllm_bench.bench_argv(dict(ENDPOINT, api="completions", model_path=""), 1, 10, 8, 8, "/d", "f")
    assert opt(argv, "--backend") == "openai" and opt(argv, "--endpoint") == "/v1/completions"
    assert "--tokenizer" not in argv


def test_parse_result_fixture():
    doc = json.loads(FIXTURE.read_text())
    out = vllm_bench.parse_result(doc)
    assert out["completed"] == doc["completed"]
    assert out["errors"] == doc["failed"]
    assert out["output_tokens_per_s"] == pytest.approx(doc["output_throughput"], abs=1e-3)
    assert out["ttft_ms"]["mean"] == pytest.approx(doc["mean_ttft_ms"], abs=1e-3)
    assert out["ttft_ms"]["p99"] == pytest.approx(doc["p99_ttft_ms"], abs=1e-3)
    assert out["latency_ms"]["p95"] == pytest.approx(doc["p95_e2el_ms"], abs=1e-3)
    assert out["tpot_ms"]["p50"] == pytest.approx(doc["p50_tpot_ms"], abs=1e-3)


def test_parse_result_rejects_other_json():
    with pytest.raises(ValueError, match="not a vllm bench serve result"):
        vllm_bench.parse_result({"foo": 1})
