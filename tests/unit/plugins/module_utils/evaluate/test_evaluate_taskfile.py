from __future__ import annotations

import json

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.evaluate import taskfile

CHOICE = {"question": "Q?\nAnswer:", "choices": ["a", "b", "c"], "answer": 1}


def lines(*objs):
    return "\n".join(o if isinstance(o, str) else json.dumps(o, ensure_ascii=False) for o in objs) + "\n"


@pytest.mark.parametrize("answer, index", [(1, 1), ("B", 1), ("b", 1), ("c", 2), ("a", 0), (0, 0)])
def test_choice_answer_as_index_letter_or_text(answer, index):
    # "c" and "a" are both a choice's text and a letter: the letter wins (A=0, C=2), as documented.
    items = taskfile.parse_task_file("f.jsonl", lines(dict(CHOICE, answer=answer)))
    assert items[0]["kind"] == "choice" and items[0]["answer"] == index and items[0]["line"] == 1


def test_choice_answer_text_that_is_no_letter():
    items = taskfile.parse_task_file("f.jsonl", lines({"question": "q", "choices": ["서울", "부산"], "answer": "부산"}))
    assert items[0]["answer"] == 1


def test_short_answers_and_blank_lines_keep_line_numbers():
    text = "\n" + lines({"id": 7, "question": "수도?", "answer": "서울"}, "", {"question": "q", "answer": ["x", "y"]})
    items = taskfile.parse_task_file("f.jsonl", text)
    assert [(i["kind"], i["line"], i["answers"], i["id"]) for i in items] == [
        ("answer", 2, ["서울"], "7"), ("answer", 4, ["x", "y"], "")]


@pytest.mark.parametrize("obj, message", [
    ("{not json", "f.jsonl:2: not valid JSON"),
    ([1, 2], "f.jsonl:2: a line must be a JSON object, got list"),
    ({"question": "q", "answer": "a", "extra": 1}, "f.jsonl:2: unknown keys extra"),
    ({"question": " ", "answer": "a"}, "f.jsonl:2: 'question' must be a non-empty string"),
    ({"question": "q"}, "f.jsonl:2: 'answer' is missing"),
    ({"question": "q", "choices": ["only"], "answer": 0}, "f.jsonl:2: 'choices' must be a list of 2 to 26"),
    ({"question": "q", "choices": ["a", "b"], "answer": 2}, "f.jsonl:2: 'answer' must be the index (0-1)"),
    ({"question": "q", "choices": ["a", "b"], "answer": True}, "f.jsonl:2: 'answer' must be the index"),
    ({"question": "q", "answer": []}, "f.jsonl:2: 'answer' of a short-answer line must be"),
    ({"question": "q", "answer": 3}, "f.jsonl:2: 'answer' of a short-answer line must be"),
])
def test_a_malformed_line_is_named_by_file_and_line(obj, message):
    with pytest.raises(taskfile.TaskFileError) as err:
        taskfile.parse_task_file("f.jsonl", lines(CHOICE, obj))
    assert str(err.value).startswith(message)


def test_one_kind_per_file_and_not_empty():
    with pytest.raises(taskfile.TaskFileError, match=r"^f.jsonl:2: mixes multiple-choice \(first at line 1\)"):
        taskfile.parse_task_file("f.jsonl", lines(CHOICE, {"question": "q", "answer": "a"}))
    with pytest.raises(taskfile.TaskFileError, match="f.jsonl: no questions"):
        taskfile.parse_task_file("f.jsonl", "\n\n")


def test_files_on_disk(tmp_path):
    good = tmp_path / "ok.jsonl"
    good.write_text(lines(CHOICE), encoding="utf-8")
    assert len(taskfile.read_task_file(str(good))) == 1
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + lines(CHOICE).encode("utf-8"))  # as Windows tools save UTF-8
    assert taskfile.read_task_file(str(bom))[0]["answer"] == 1
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"question": "q", "answer": "a"}\n{"question": "\xe9", "answer": "a"}\n')
    with pytest.raises(taskfile.TaskFileError, match=r"latin.jsonl:2: not UTF-8"):
        taskfile.read_task_file(str(latin))
    with pytest.raises(taskfile.TaskFileError, match="missing.jsonl: cannot read it"):
        taskfile.read_task_file(str(tmp_path / "missing.jsonl"))
    text = tmp_path / "t.txt"
    text.write_text("  \n", encoding="utf-8")
    with pytest.raises(taskfile.TaskFileError, match="an empty text"):
        taskfile.read_text_file(str(text))
    text.write_text("한국어 문장.\n", encoding="utf-8")
    assert taskfile.read_text_file(str(text)) == "한국어 문장.\n"


def test_the_shipped_example_files_parse():
    import os
    here = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "fixtures", "evaluate")
    assert len(taskfile.read_task_file(os.path.join(here, "ko-choice.jsonl"))) == 8
    assert len(taskfile.read_task_file(os.path.join(here, "ko-answer.jsonl"))) == 4
    with pytest.raises(taskfile.TaskFileError, match=r"bad-json.jsonl:2: not valid JSON"):
        taskfile.read_task_file(os.path.join(here, "bad-json.jsonl"))
    with pytest.raises(taskfile.TaskFileError, match=r"bad-answer.jsonl:3: 'answer' must be the index \(0-1\)"):
        taskfile.read_task_file(os.path.join(here, "bad-answer.jsonl"))
