# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""onprem.llm.llm_evaluate through main(): files checked first (file and line named), generation
scoring against the Ollama double, perplexity skipped for Ollama with the reason."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.onprem.llm.plugins.modules import llm_evaluate


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            llm_evaluate.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)


def files(tmp_path, bad=False):
    tasks = tmp_path / "ko.jsonl"
    lines = ['{"question": "수도는?", "choices": ["서울", "부산"], "answer": 0}']
    if bad:
        lines += ["", '{"question": "둘째", "choices": ["가"], "answer": 0}']
    tasks.write_text("\n".join(lines) + "\n", encoding="utf-8")
    text = tmp_path / "wiki.txt"
    text.write_text("대한민국의 수도는 서울이다.\n", encoding="utf-8")
    return [{"name": "ko", "path": str(tasks)}], [{"name": "wiki", "path": str(text)}]


def test_check_mode_reads_the_files_only(tmp_path, capsys):
    tasks, texts = files(tmp_path)
    code, out = run({"mode": "check", "tasks": tasks, "texts": texts}, capsys)
    assert code == 0 and out["changed"] is False
    assert out["files"] == [{"name": "ko", "path": tasks[0]["path"], "kind": "choice", "questions": 1},
                            {"name": "wiki", "path": texts[0]["path"], "kind": "text", "characters": 16}]


def test_a_malformed_line_fails_with_file_and_line(tmp_path, capsys):
    tasks, texts = files(tmp_path, bad=True)
    code, out = run({"mode": "check", "tasks": tasks, "texts": texts}, capsys)
    assert code == 1
    assert out["msg"].startswith("%s:3: 'choices' must be a list of 2 to 26 non-empty strings" % tasks[0]["path"])


def test_names_must_be_unique_and_something_given(tmp_path, capsys):
    tasks, texts = files(tmp_path)
    code, out = run({"mode": "check", "tasks": tasks, "texts": [dict(texts[0], name="ko")]}, capsys)
    assert code == 1 and out["msg"] == "task and text names must be unique: ko"
    code, out = run({"mode": "check"}, capsys)
    assert code == 1 and out["msg"].startswith("nothing to evaluate")
    code, out = run({"tasks": tasks}, capsys)
    assert code == 1 and out["msg"] == "mode=evaluate needs at least one endpoint"


def test_evaluate_an_ollama_endpoint(tmp_path, capsys, ollama_double):
    tasks, texts = files(tmp_path)
    ep = {"name": "ollama/h/tiny:latest", "kind": "ollama", "url": ollama_double, "model": "tiny:latest",
          "api_key": "not-a-secret-but-hidden"}
    code, out = run({"endpoints": [ep], "tasks": tasks, "texts": texts, "details": True}, capsys)
    assert code == 0 and out["changed"] is False
    res = out["results"][0]
    assert res["endpoint"] == {"name": "ollama/h/tiny:latest", "kind": "ollama", "route": "direct",
                               "url": ollama_double, "model": "tiny:latest", "api": "chat"}
    # auto: an Ollama endpoint is scored by generation.
    assert res["tasks"][0]["scoring"] == "generate" and res["tasks"][0]["summary"]["questions"] == 1
    assert len(res["tasks"][0]["items"]) == 1
    assert res["texts"] == [{"name": "wiki", "skipped": "Ollama's OpenAI API returns no prompt log-probabilities"}]


def test_forced_loglikelihood_on_ollama_fails_naming_the_way_out(tmp_path, capsys, ollama_double):
    tasks, _texts = files(tmp_path)
    ep = {"name": "ollama/h/tiny:latest", "kind": "ollama", "url": ollama_double, "model": "tiny:latest"}
    code, out = run({"endpoints": [ep], "tasks": [dict(tasks[0], scoring="loglikelihood")]}, capsys)
    assert code == 1
    assert out["msg"].startswith("ollama/h/tiny:latest: POST /tokenize answered 404")
    assert "scoring: generate" in out["msg"]
