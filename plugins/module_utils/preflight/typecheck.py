# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check one (templated) inventory value against its argument_specs option, strictly.

Ansible's own argument validation coerces: the string "yes" becomes true, "8000" becomes 8000, 0.20
becomes "0.2". The preflight refuses what it would coerce, so a typo never turns into a silent
change of meaning, and names the variable (with the list index and sub-option) and the fix.
"""

from __future__ import annotations

import difflib

STRING_BOOLEANS = ("yes", "no", "true", "false", "on", "off", "y", "n", "1", "0")
_SECRET_WORDS = ("key", "token", "password", "secret", "passphrase")


def is_secret(name, spec):
    lowered = str(name).lower()
    return bool((spec or {}).get("no_log")) or any(word in lowered for word in _SECRET_WORDS)


def show(value, secret=False):
    """A short, safe rendering of a value for a message (secrets never shown)."""
    if secret:
        return "(hidden)"
    if isinstance(value, str):
        text = repr(str(value))
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def did_you_mean(name, candidates):
    close = difflib.get_close_matches(str(name), sorted(candidates), n=1, cutoff=0.6)
    return close[0] if close else None


def _kind(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "the string %s"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return "a %s" % type(value).__name__


def _got(value, secret):
    kind = _kind(value)
    if "%s" in kind:
        return kind % show(value, secret)
    if isinstance(value, (bool, int, float)) and not secret:
        return "%s (%s)" % (kind, show(value))
    return kind


def type_problem(value, kind, secret=False):
    """None when ``value`` is a proper ``kind``, else the sentence after 'must be ...'."""
    if value is None:
        return None  # null means "unset": argument_specs treats it as the default
    if kind in ("str", "path"):
        if isinstance(value, str):
            return None
        if isinstance(value, bool):
            return "a string, got %s; quote it (\"%s\") if you mean the text" % (_got(value, secret),
                                                                                 str(value).lower())
        if isinstance(value, float):
            return "a string, got %s; quote it, YAML reads 0.20 as the number 0.2" % _got(value, secret)
        if isinstance(value, int):
            return None  # "550" and 550 mean the same; argument_specs converts losslessly
        return "a string, got %s" % _got(value, secret)
    if kind == "bool":
        if isinstance(value, bool):
            return None
        if isinstance(value, str) and value.strip().lower() in STRING_BOOLEANS:
            return ("a boolean, got %s (a string boolean); write true or false without quotes"
                    % _got(value, secret))
        if isinstance(value, int) and value in (0, 1):
            return "a boolean, got %s; write true or false" % _got(value, secret)
        return "a boolean (true or false), got %s" % _got(value, secret)
    if kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return None
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return "an integer, got %s; write it without quotes" % _got(value, secret)
        return "an integer, got %s" % _got(value, secret)
    if kind == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return None
        return "a number, got %s" % _got(value, secret)
    if kind == "list":
        return None if isinstance(value, (list, tuple)) else "a list, got %s" % _got(value, secret)
    if kind == "dict":
        return None if isinstance(value, dict) else "a mapping, got %s" % _got(value, secret)
    return None  # raw, json, bytes, bits ...: anything goes


def value_problems(path, value, spec, secret=False):
    """Problems of ``value`` at ``path`` (e.g. ``vllm_instances[1].port``) against ``spec``."""
    spec = spec or {}
    secret = secret or bool(spec.get("no_log"))
    kind = spec.get("type", "raw")
    problem = type_problem(value, kind, secret)
    if problem:
        return ["%s must be %s" % (path, problem)]
    if value is None:
        return []
    problems = []
    choices = spec.get("choices")
    if choices and kind != "list" and value not in choices:
        alternative = did_you_mean(value, [str(c) for c in choices]) if isinstance(value, str) else None
        problems.append("%s must be one of %s, got %s%s" % (
            path, ", ".join(repr(c) if c == "" else str(c) for c in choices), show(value, secret),
            "; did you mean %s?" % alternative if alternative else ""))
    if kind == "list":
        elements = spec.get("elements")
        for i, item in enumerate(value):
            where = "%s[%d]" % (path, i)
            if elements:
                item_problem = type_problem(item, elements, secret)
                if item_problem:
                    problems.append("%s must be %s" % (where, item_problem))
                    continue
            if choices and item not in choices:
                problems.append("%s must be one of %s, got %s" % (where, ", ".join(str(c) for c in choices),
                                                                  show(item, secret)))
            if elements == "dict" and spec.get("options") and isinstance(item, dict):
                problems += suboption_problems(where, item, spec["options"], secret)
    elif kind == "dict" and spec.get("options"):
        problems += suboption_problems(path, value, spec["options"], secret)
    return problems


def suboption_problems(path, value, options, secret=False):
    problems = []
    for key in value:
        if key not in options:
            alternative = did_you_mean(key, options)
            problems.append("%s.%s is not an option here (%s); %s" % (
                path, key,
                "did you mean %s?" % alternative if alternative else "known: %s" % ", ".join(sorted(options)),
                "rename or remove it"))
    for key, sub in sorted(options.items()):
        sub = sub or {}
        where = "%s.%s" % (path, key)
        if key not in value:
            if sub.get("required"):
                problems.append("%s is required; add it" % where)
            continue
        problems += value_problems(where, value[key], sub, secret or is_secret(key, sub))
    return problems
