from __future__ import annotations

from ansible_collections.onprem.llm.plugins.module_utils.bench import report

EMPTY = {"mean": None, "p50": None, "p95": None, "p99": None}


def summary(tok_s, ttft_mean, errors=0):
    return {"requests": 10, "completed": 10 - errors, "errors": errors, "error_messages": ["boom"] if errors else [],
            "output_tokens_per_s": tok_s, "ttft_ms": {"mean": ttft_mean, "p50": ttft_mean, "p95": None, "p99": None},
            "tpot_ms": dict(EMPTY), "latency_ms": dict(EMPTY)}


def run(name, kind, route, conc, tok_s, ttft, errors=0):
    return {"endpoint": {"name": name, "kind": kind, "route": route, "model": "m", "url": "u"},
            "concurrency": conc, "summary": summary(tok_s, ttft, errors)}


def test_rows_ratios_and_order():
    runs = [run("gateway/m", "vllm", "gateway", 1, 90.0, 30.0), run("vllm/h/m", "vllm", "direct", 5, 450.0, 22.0),
            run("vllm/h/m", "vllm", "direct", 1, 95.0, 20.0), run("ollama/h/x", "ollama", "direct", 1, 40.0, 50.0, 2)]
    ref = [{"endpoint": {"name": "vllm/h/m"}, "concurrency": 1, "summary": summary(100.0, 25.0)},
           {"endpoint": {"name": "vllm/h/m"}, "concurrency": 5, "summary": summary(500.0, 20.0)}]
    doc = report.build_report(runs, ref, {"concurrency": [1, 5]}, "2026-01-01T00:00:00")
    assert [(r["endpoint"], r["concurrency"]) for r in doc["rows"]] == [
        ("ollama/h/x", 1), ("vllm/h/m", 1), ("vllm/h/m", 5), ("gateway/m", 1)]
    rows = {(r["endpoint"], r["concurrency"]): r for r in doc["rows"]}
    assert rows[("vllm/h/m", 1)]["ratio"] == {"output_tokens_per_s": 0.95, "ttft_mean": 0.8, "ttft_p50": 0.8}
    assert rows[("vllm/h/m", 5)]["ratio"]["output_tokens_per_s"] == 0.9
    assert rows[("ollama/h/x", 1)]["ratio"] is None and rows[("gateway/m", 1)]["vllm_bench"] is None
    table = report.markdown(doc)
    body = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| endpoint")]
    assert len(body) == 4
    assert "| vllm/h/m | direct | 1 | 10 | 0 | 20.0 | - | - | 95.0 |" in table
    assert body[1].endswith("| 100.0 | 0.950 | 0.800 |")
    assert "- ollama/h/x, concurrency 1: boom" in table
