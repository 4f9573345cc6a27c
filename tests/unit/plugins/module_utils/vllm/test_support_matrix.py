# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/vllm/support_matrix.py: each supported OS on each driver branch gets a shipped lock,
runs of branches with one answer share a row, and docs/vllm-compatibility.md is what it generates."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.vllm import support_matrix

ROOT = Path(__file__).resolve().parents[5]
LOCKS = sorted(p.name for p in (ROOT / "data" / "vllm-locks").iterdir())


def test_generated_document_is_up_to_date():
    doc = (ROOT / "docs" / "vllm-compatibility.md").read_text(encoding="utf-8")
    names = sorted(p.name for p in (ROOT / "data" / "vllm-locks").iterdir())
    assert doc == support_matrix.render_document(names), (
        "docs/vllm-compatibility.md is stale: regenerate it with "
        "PYTHONPATH=collections .venv/bin/python -m ansible_collections.onprem.llm.plugins.module_utils"
        ".vllm.support_matrix data/vllm-locks > docs/vllm-compatibility.md"
    )


@pytest.mark.parametrize("target", support_matrix.OS_TARGETS, ids=lambda t: t["os"])
@pytest.mark.parametrize("branch", support_matrix.DRIVER_BRANCHES)
def test_every_os_and_driver_branch_gets_a_shipped_lock(target, branch):
    names = sorted(p.name for p in (ROOT / "data" / "vllm-locks").iterdir())
    got = support_matrix.answer(target, branch, names)
    assert "error" not in got, got
    assert got["lock"] and got["lock"].startswith("vllm-%s-%s-cp%s-" % (
        got["vllm_version"], got["variant"], target["python"].replace(".", "")))
    cuda_major = 13 if int(branch) >= 580 else 12
    assert got["cuda_version"].startswith("%d." % cuda_major)


def test_consecutive_branches_with_one_answer_share_a_row():
    rows = support_matrix.rows(LOCKS)
    assert [row["os"] for row in rows] == sorted([row["os"] for row in rows], key=[
        t["os"] for t in support_matrix.OS_TARGETS].index)
    for target in support_matrix.OS_TARGETS:
        mine = [row for row in rows if row["os"] == target["os"]]
        assert sum((row["branches"] for row in mine), []) == list(support_matrix.DRIVER_BRANCHES)
        assert all(a["answer"] != b["answer"] for a, b in zip(mine, mine[1:]))


def test_without_a_fitting_lock_the_answer_is_the_refusal():
    got = support_matrix.answer(support_matrix.OS_TARGETS[0], "580", [])
    assert list(got) == ["error"] and got["error"]
    assert "| refused: " in support_matrix.render_markdown([])
