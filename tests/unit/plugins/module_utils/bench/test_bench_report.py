from __future__ import annotations

from ansible_collections.onprem.llm.plugins.module_utils.bench import report

EMPTY = {"mean": None, "p50": None, "p95": None, "p99": None}


def summary(tok_s, ttft_mean, errors=0, p99=None, rate=None):
    return {"requests": 10, "completed": 10 - errors, "errors": errors, "error_messages": ["boom"] if errors else [],
            "output_tokens_per_s": tok_s, "ttft_ms": {"mean": ttft_mean, "p50": ttft_mean, "p95": None, "p99": p99},
            "tpot_ms": dict(EMPTY), "latency_ms": dict(EMPTY), "request_throughput": rate}


def run(name, kind, route, conc, tok_s, ttft, errors=0, model="m", p99=None, rate=None):
    return {"endpoint": {"name": name, "kind": kind, "route": route, "model": model, "url": "u"},
            "concurrency": conc, "summary": summary(tok_s, ttft, errors, p99, rate)}


def test_rows_ratios_and_order():
    runs = [run("gateway/m", "vllm", "gateway", 1, 90.0, 30.0), run("vllm/h/m", "vllm", "direct", 5, 450.0, 22.0),
            run("vllm/h/m", "vllm", "direct", 1, 95.0, 20.0), run("ollama/h/x", "ollama", "direct", 1, 40.0, 50.0, 2, model="x")]
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
    main_table = table.split("\n\n")[3]
    body = [line for line in main_table.splitlines() if line.startswith("| ") and not line.startswith("| endpoint")]
    assert len(body) == 4
    assert "| vllm/h/m | direct | 1 | 10 | 0 | 20.0 | - | - | - | 95.0 |" in table
    # The gateway row of m at concurrency 1 is compared with the one direct row of m at 1.
    assert "| gateway/m | gateway | 1 | 10 | 0 | 30.0 | - | - | 10.00 | 90.0 |" in table
    assert body[1].endswith("| 100.0 | 0.950 | 0.800 |")
    assert "- ollama/h/x, concurrency 1: boom" in table


def test_gateway_overhead_pairs_a_gateway_row_with_the_one_direct_row_of_its_model_and_level():
    runs = [
        run("vllm/h/fixed", "vllm", "direct", 1, 90.0, 20.4, model="fixed", p99=21.0, rate=10.0),
        run("gateway/fixed", "vllm", "gateway", 1, 90.0, 20.9, model="fixed", p99=22.5, rate=9.9),
        run("vllm/h/fixed", "vllm", "direct", 50, 900.0, 25.0, model="fixed", p99=40.0, rate=400.0),
        run("gateway/fixed", "vllm", "gateway", 50, 880.0, 25.75, model="fixed", p99=45.0, rate=390.0, errors=1),
        # Two direct endpoints of "shared": the gateway spreads the load, no pair.
        run("vllm/a/shared", "vllm", "direct", 1, 1.0, 1.0, model="shared"),
        run("vllm/b/shared", "vllm", "direct", 1, 1.0, 1.0, model="shared"),
        run("gateway/shared", "vllm", "gateway", 1, 1.0, 2.0, model="shared"),
        # Measured through the gateway only: no pair.
        run("gateway/alone", "ollama", "gateway", 1, 1.0, 2.0, model="alone"),
    ]
    doc = report.build_report(runs)
    assert [(p["gateway"], p["direct"], p["concurrency"]) for p in doc["gateway_overhead"]] == [
        ("gateway/fixed", "vllm/h/fixed", 1), ("gateway/fixed", "vllm/h/fixed", 50)]
    one, fifty = doc["gateway_overhead"]
    assert one["ttft_added_ms"] == {"p50": 0.5, "p99": 1.5}
    assert one["request_rate_ratio"] == 0.99
    assert fifty["ttft_added_ms"] == {"p50": 0.75, "p99": 5.0}
    assert fifty["request_rate_ratio"] == 0.975
    assert fifty["errors"] == {"direct": 0, "gateway": 1}
    added = {(r["endpoint"], r["concurrency"]): r["gateway_added_ttft_ms"] for r in doc["rows"]}
    assert added[("gateway/fixed", 50)] == {"p50": 0.75, "p99": 5.0}
    assert added[("gateway/shared", 1)] is None and added[("gateway/alone", 1)] is None
    assert added[("vllm/h/fixed", 1)] is None
    table = report.markdown(doc)
    assert "## Gateway overhead" in table
    assert "| fixed | 50 | 25.00 / 25.75 | 0.75 | 40.00 / 45.00 | 5.00 | 400.0 / 390.0 | 0.975 | 0 / 1 |" in table


def test_no_overhead_section_without_a_pair():
    doc = report.build_report([run("vllm/h/m", "vllm", "direct", 1, 1.0, 1.0)])
    assert doc["gateway_overhead"] == []
    assert "Gateway overhead" not in report.markdown(doc)
