# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""onprem.llm.llm_benchmark_report through main(): the three files, written once, nothing in check mode."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.onprem.llm.plugins.modules import llm_benchmark_report

EMPTY = {"mean": None, "p50": None, "p95": None, "p99": None}


def _summary(tok_s, ttft):
    return {"requests": 10, "completed": 10, "errors": 0, "error_messages": [], "output_tokens_per_s": tok_s,
            "ttft_ms": {"mean": ttft, "p50": ttft, "p95": None, "p99": None}, "tpot_ms": dict(EMPTY),
            "latency_ms": {"mean": 40.0, "p50": 40.0, "p95": 45.0, "p99": None}, "request_throughput": 5.0}


RUNS = [{"endpoint": {"name": "vllm/h/m", "kind": "vllm", "route": "direct", "model": "m", "url": "u"},
         "concurrency": c, "summary": _summary(95.0 * c, 20.0 + c)} for c in (1, 5)]
REFERENCE = [{"endpoint": {"name": "vllm/h/m"}, "concurrency": 1, "summary": _summary(100.0, 25.0)}]


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            llm_benchmark_report.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)


def test_writes_json_markdown_and_png_once(tmp_path, capsys):
    args = {"runs": RUNS, "reference": REFERENCE, "dest": str(tmp_path / "out"), "generated_at": "2026-12-03T00:00:00"}
    code, out = run(args, capsys)
    assert code == 0 and out["changed"] is True
    report = json.loads((tmp_path / "out" / "benchmark.json").read_text())
    assert report == out["report"]
    assert [(r["endpoint"], r["concurrency"]) for r in report["rows"]] == [("vllm/h/m", 1), ("vllm/h/m", 5)]
    assert report["rows"][0]["ratio"]["output_tokens_per_s"] == 0.95
    assert (tmp_path / "out" / "benchmark.md").read_text() == out["table"]
    assert (tmp_path / "out" / "benchmark.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # The same input again: the files are already right.
    code, again = run(args, capsys)
    assert code == 0 and again["changed"] is False


def test_check_mode_builds_the_report_and_writes_nothing(tmp_path, capsys):
    code, out = run({"runs": RUNS, "dest": str(tmp_path / "out"), "_ansible_check_mode": True}, capsys)
    assert code == 0 and out["changed"] is False
    assert len(out["report"]["rows"]) == 2
    assert not (tmp_path / "out").exists()


def test_without_a_chart_no_png_is_named_or_written(tmp_path, capsys):
    code, out = run({"runs": RUNS, "dest": str(tmp_path), "name": "bench", "chart": False}, capsys)
    assert code == 0 and out["png"] == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench.json", "bench.md"]


def test_a_run_without_its_summary_fails_naming_the_problem(tmp_path, capsys):
    code, out = run({"runs": [{"endpoint": {"name": "x"}, "concurrency": 1}], "dest": str(tmp_path)}, capsys)
    assert code == 1 and out["msg"].startswith("cannot build the report:")
    assert list(tmp_path.iterdir()) == []
