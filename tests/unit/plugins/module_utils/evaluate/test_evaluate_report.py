from __future__ import annotations

from ansible_collections.onprem.llm.plugins.module_utils.evaluate import report


def result(name, kind, acc, ppl=None, items=None, skipped=None):
    task = {"name": "ko", "scoring": "loglikelihood", "summary": {"questions": 4, "correct": int(acc * 4), "accuracy": acc}}
    if items is not None:
        task["items"] = items
    texts = []
    if ppl is not None:
        texts.append({"name": "wiki", "tokens": 10, "scored_tokens": 9, "perplexity": ppl})
    if skipped:
        texts.append({"name": "wiki", "skipped": skipped})
    return {"endpoint": {"name": name, "kind": kind, "route": "direct", "model": name.split("/")[-1]},
            "tasks": [task], "texts": texts, "seconds": 1.5}


def speed(name, tok_s, ttft):
    return {"endpoint": {"name": name}, "concurrency": 4,
            "summary": {"output_tokens_per_s": tok_s, "ttft_ms": {"p50": ttft}, "errors": 0}}


def test_rows_join_quality_speed_and_memory():
    doc = report.build_report(
        [result("vllm/h/q4", "vllm", 0.5, 12.5, items=[{"pred": 1}]), result("ollama/h/m:latest", "ollama", 0.25, skipped="no logprobs")],
        [speed("vllm/h/q4", 300.0, 20.0)],
        {"vllm/h/q4": {"bytes": 2 * 1048576, "source": "GPU memory"}},
        {"concurrency": 4}, "2026-12-03T00:00:00")
    assert [r["endpoint"] for r in doc["rows"]] == ["ollama/h/m:latest", "vllm/h/q4"]
    q4 = doc["rows"][1]
    assert q4["quality"] == 0.5 and q4["perplexity"] == 12.5 and q4["memory_bytes"] == 2 * 1048576
    assert q4["speed"] == {"concurrency": 4, "output_tokens_per_s": 300.0, "ttft_p50_ms": 20.0, "errors": 0}
    assert q4["tasks"]["ko"]["items"] == [{"pred": 1}] and q4["tasks"]["ko"]["scoring"] == "loglikelihood"
    assert doc["rows"][0]["speed"] is None and doc["rows"][0]["perplexity"] is None

    table = report.markdown(doc)
    assert "| vllm/h/q4 | q4 | 0.500 (loglikelihood) | 12.50 | 0.500 | 300.0 | 20.0 | 2 MiB |" in table
    assert "| ollama/h/m:latest | m:latest | 0.250 (loglikelihood) | skipped | 0.250 | - | - | - |" in table
    assert "Skipped: ollama/h/m:latest wiki: no logprobs." in table
    assert "memory: GPU memory." in table

    points, axis = report.chart_points(doc)
    assert axis == "quality (mean accuracy)" and points == [("vllm/h/q4", 300.0, 0.5, 2 * 1048576)]


def test_without_task_files_the_chart_plots_perplexity():
    res = result("vllm/h/a", "vllm", 0.0, 30.0)
    res["tasks"] = []
    doc = report.build_report([res], [speed("vllm/h/a", 50.0, 9.0)])
    assert doc["rows"][0]["quality"] is None
    assert report.chart_points(doc) == ([("vllm/h/a", 50.0, 30.0, None)], "perplexity (lower is better)")
    assert "memory: not measured." in report.markdown(doc)
