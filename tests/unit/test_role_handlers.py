"""Handlers are named one way across the roles, and every notification reaches a handler.

One style (sentence case: a capital first letter, then lower case except names such as Ollama and
acronyms such as CA, MIG, vLLM) and one name per handler in the whole collection: a play that runs
two roles with a handler of the same name runs only one of them.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(path for path in (ROOT / "roles").iterdir() if (path / "tasks").is_dir())
PROPER_NOUNS = {"Ollama"}


def _handlers(role):
    path = role / "handlers" / "main.yml"
    return yaml.safe_load(path.read_text()) or [] if path.exists() else []


def _notified(node):
    if isinstance(node, dict):
        notify = node.get("notify")
        if isinstance(notify, str):
            yield notify
        elif isinstance(notify, list):
            yield from notify
        for value in node.values():
            yield from _notified(value)
    elif isinstance(node, list):
        for item in node:
            yield from _notified(item)


def test_handler_names_are_sentence_case():
    wrong = []
    for role in ROLES:
        for handler in _handlers(role):
            words = handler["name"].split()
            title_cased = [word for word in words[1:] if re.fullmatch(r"[A-Z][a-z]+", word) and word not in PROPER_NOUNS]
            if not words[0][0].isupper() or title_cased:
                wrong.append("%s: %s" % (role.name, handler["name"]))
    assert wrong == []


def test_handler_names_are_unique_across_the_roles():
    seen = {}
    for role in ROLES:
        for handler in _handlers(role):
            assert handler["name"] not in seen, "%r in %s and %s" % (handler["name"], seen.get(handler["name"]), role.name)
            seen[handler["name"]] = role.name


def test_every_notification_names_a_handler_of_its_role():
    missing = []
    for role in ROLES:
        names = {handler["name"] for handler in _handlers(role)} | {
            handler["listen"] for handler in _handlers(role) if "listen" in handler}
        for path in sorted((role / "tasks").glob("*.yml")):
            for name in _notified(yaml.safe_load(path.read_text())):
                if name not in names:
                    missing.append("%s: %s" % (path.relative_to(ROOT), name))
    assert missing == []
