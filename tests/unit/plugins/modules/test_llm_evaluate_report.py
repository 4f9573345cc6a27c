# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""onprem.llm.llm_evaluate_report through main(): the three files, written once, nothing in check mode."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.onprem.llm.plugins.modules import llm_evaluate_report

RESULTS = [{"endpoint": {"name": "vllm/h/%s" % n, "kind": "vllm", "route": "direct", "model": n},
            "tasks": [{"name": "ko", "scoring": "loglikelihood", "summary": {"questions": 4, "correct": c, "accuracy": c / 4.0}}],
            "texts": [{"name": "wiki", "tokens": 10, "scored_tokens": 9, "perplexity": p}], "seconds": 2.0}
           for n, c, p in (("q4", 2, 14.0), ("fp16", 3, 11.0))]
SPEED = [{"endpoint": {"name": "vllm/h/%s" % n}, "concurrency": 4,
          "summary": {"output_tokens_per_s": t, "ttft_ms": {"p50": 20.0}, "errors": 0}} for n, t in (("q4", 400.0), ("fp16", 250.0))]
MEMORY = {"vllm/h/q4": {"bytes": 6 << 30, "source": "GPU"}, "vllm/h/fp16": {"bytes": 15 << 30, "source": "GPU"}}


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            llm_evaluate_report.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)


def test_writes_json_markdown_and_png_once(tmp_path, capsys):
    args = {"results": RESULTS, "speed": SPEED, "memory": MEMORY, "dest": str(tmp_path / "out"),
            "generated_at": "2026-12-03T00:00:00"}
    code, out = run(args, capsys)
    assert code == 0 and out["changed"] is True
    doc = json.loads((tmp_path / "out" / "evaluation.json").read_text())
    assert doc == out["report"] and [r["quality"] for r in doc["rows"]] == [0.75, 0.5]
    assert (tmp_path / "out" / "evaluation.md").read_text(encoding="utf-8") == out["table"]
    assert (tmp_path / "out" / "evaluation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, again = run(args, capsys)
    assert code == 0 and again["changed"] is False


def test_check_mode_writes_nothing_and_no_chart_without_speed(tmp_path, capsys):
    with patch_module_args({"results": RESULTS, "dest": str(tmp_path / "out"), "_ansible_check_mode": True}):
        with pytest.raises(SystemExit):
            llm_evaluate_report.main()
    out = json.loads(capsys.readouterr().out)
    assert out["changed"] is False and not (tmp_path / "out").exists()
    assert out["png"] == "" and "| vllm/h/q4 | q4 |" in out["table"]
