"""Every private variable (``__<role>_*``, ``__<stage>_*``) a role or playbook sets is read somewhere.

A variable set in vars/, by set_fact or by register and never read is dead weight a maintainer must
still understand; this fails on the first one. Reads count in tasks, templates and Jinja anywhere
under roles/ and playbooks/.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFINITION = re.compile(r"^\s*(?:-\s+)?(__[a-z0-9_]+):|\bregister:\s*(__[a-z0-9_]+)", re.M)


def _sources():
    paths = [*ROOT.glob("roles/**/*.yml"), *ROOT.glob("roles/**/*.j2"), *ROOT.glob("playbooks/**/*.yml")]
    return {path: path.read_text() for path in sorted(paths)}


def unread_variables(sources):
    definitions = {}
    for path, text in sources.items():
        for match in DEFINITION.finditer(text):
            name = match.group(1) or match.group(2)
            definitions.setdefault(name, []).append(path)
    everything = "\n".join(sources.values())
    return sorted(name for name, places in definitions.items()
                  if len(re.findall(r"\b%s\b" % re.escape(name), everything)) <= len(places))


def test_every_private_variable_is_read():
    assert unread_variables(_sources()) == []


def test_an_unread_variable_is_found():
    sources = {Path("a.yml"): "- name: x\n  ansible.builtin.command: true\n  register: __a_result\n",
               Path("vars.yml"): "__a_used: 1\n__a_dead: 2\n",
               Path("t.j2"): "{{ __a_used }}\n"}
    assert unread_variables(sources) == ["__a_dead", "__a_result"]
