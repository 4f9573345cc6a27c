# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which per-OS vars files a role loads, in order (roles/_common/tasks/os_vars.yml).

The linux-system-roles habit: a role's vars/main.yml holds what every OS shares; a file per OS
family, distribution, major release and exact release holds only what differs there. Each file that
exists is loaded, the more specific later, so it wins.
"""

from __future__ import annotations

_KEYS = ("os_family", "distribution", "distribution_major_version", "distribution_version")


def os_vars_files(facts):
    """Names of the candidate files for a host's ansible_facts, least specific first, no repeats.

    Debian 12.12: Debian.yml, Debian_12.yml, Debian_12.12.yml (its OS family is its distribution).
    Rocky 9.6: RedHat.yml, Rocky.yml, Rocky_9.yml, Rocky_9.6.yml.
    """
    if not isinstance(facts, dict):
        raise ValueError("expects the host's ansible_facts (a dict), got %s" % type(facts).__name__)
    missing = [key for key in _KEYS if not str(facts.get(key) or "").strip()]
    if missing:
        raise ValueError("ansible_facts lacks %s: gather them first (ansible.builtin.setup, gather_subset min)"
                         % ", ".join(missing))
    family, distribution, major, version = (str(facts[key]).strip() for key in _KEYS)
    names = []
    for name in (family, distribution, "%s_%s" % (distribution, major), "%s_%s" % (distribution, version)):
        if name + ".yml" not in names:
            names.append(name + ".yml")
    return names
