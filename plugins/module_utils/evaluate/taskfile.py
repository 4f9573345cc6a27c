# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evaluation task files: JSON Lines, one question per line (docs/evaluate.md).

A multiple-choice line::

    {"id": "kmmlu-1", "question": "...\\n정답:", "choices": ["서울", "부산"], "answer": 0}

``answer`` is the index of the right choice, its letter (``"A"``; a one-letter answer is always read
as a letter) or its text. A short-answer line
has no ``choices`` and one or more accepted answers::

    {"question": "대한민국의 수도는?\\n답:", "answer": ["서울", "서울특별시"]}

Blank lines are skipped. Anything else that is not such an object fails with the file and the
line number, before anything is sent to an endpoint.
"""

from __future__ import annotations

import json

KNOWN_KEYS = ("id", "question", "choices", "answer")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class TaskFileError(ValueError):
    pass


def _answer_index(answer, choices):
    if isinstance(answer, bool):
        return None
    if isinstance(answer, int):
        return answer if 0 <= answer < len(choices) else None
    if isinstance(answer, str):
        text = answer.strip()
        if len(text) == 1 and text.upper() in LETTERS[:len(choices)]:
            return LETTERS.index(text.upper())
        if answer in choices:
            return choices.index(answer)
    return None


def parse_line(obj):
    """One decoded line -> an item, or raise ValueError saying what is wrong with it."""
    if not isinstance(obj, dict):
        raise ValueError("a line must be a JSON object, got %s" % type(obj).__name__)
    unknown = sorted(set(obj) - set(KNOWN_KEYS))
    if unknown:
        raise ValueError("unknown keys %s (known: %s)" % (", ".join(unknown), ", ".join(KNOWN_KEYS)))
    question = obj.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ValueError("'question' must be a non-empty string")
    if "answer" not in obj:
        raise ValueError("'answer' is missing")
    answer = obj["answer"]
    item = {"id": str(obj.get("id", "")), "question": question}
    if "choices" in obj:
        choices = obj["choices"]
        if (not isinstance(choices, list) or len(choices) < 2 or len(choices) > len(LETTERS)
                or not all(isinstance(c, str) and c.strip() for c in choices)):
            raise ValueError("'choices' must be a list of 2 to 26 non-empty strings")
        index = _answer_index(answer, choices)
        if index is None:
            raise ValueError("'answer' must be the index (0-%d), the letter or the text of one of the %d choices, got %s"
                             % (len(choices) - 1, len(choices), json.dumps(answer, ensure_ascii=False)))
        item.update(kind="choice", choices=list(choices), answer=index)
        return item
    answers = answer if isinstance(answer, list) else [answer]
    if not answers or not all(isinstance(a, str) and a.strip() for a in answers):
        raise ValueError("'answer' of a short-answer line must be a non-empty string or a list of them")
    item.update(kind="answer", answers=list(answers))
    return item


def parse_task_file(name, text):
    """The items of one task file; ``name`` is how errors name the file (its path)."""
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise TaskFileError("%s:%d: not valid JSON (%s)" % (name, number, exc))
        try:
            item = parse_line(obj)
        except ValueError as exc:
            raise TaskFileError("%s:%d: %s" % (name, number, exc))
        item["line"] = number
        items.append(item)
    if not items:
        raise TaskFileError("%s: no questions (an empty file)" % name)
    kinds = sorted(set(item["kind"] for item in items))
    if len(kinds) > 1:
        first = dict((item["kind"], item["line"]) for item in reversed(items))
        raise TaskFileError("%s:%d: mixes multiple-choice (first at line %d) and short-answer lines; one kind per file"
                            % (name, max(first.values()), first["choice"]))
    return items


def _read_utf8(path):
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except (IOError, OSError) as exc:
        raise TaskFileError("%s: cannot read it (%s)" % (path, exc.strerror or exc))
    try:
        # utf-8-sig: files saved on Windows often start with a byte order mark.
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise TaskFileError("%s:%d: not UTF-8 (byte %d)" % (path, line, exc.start))


def read_task_file(path):
    return parse_task_file(path, _read_utf8(path))


def read_text_file(path):
    """A perplexity text: UTF-8, not empty."""
    text = _read_utf8(path)
    if not text.strip():
        raise TaskFileError("%s: an empty text" % path)
    return text
