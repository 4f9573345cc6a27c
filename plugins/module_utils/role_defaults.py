# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A role's public defaults (lookup onprem.llm.role_defaults).

The closed-network check and the bundle plan other roles' downloads from the inventory over those roles'
defaults. They take them from here: the options the role's meta/argument_specs.yml declares, with
the values of its defaults/main.yml (templates included: a default such as ollama_download_base_url
follows onprem_closed_network, which the argument spec can only describe).
"""

from __future__ import annotations


def role_defaults(defaults, specs, role, entry_point="main"):
    """{option: default} of one entry point's options that defaults/main.yml sets, sorted by name.

    defaults is the parsed defaults/main.yml, specs the parsed meta/argument_specs.yml, of role.
    """
    if not isinstance(specs, dict) or not isinstance(specs.get("argument_specs"), dict):
        raise ValueError("role %s: meta/argument_specs.yml has no argument_specs mapping" % role)
    if not isinstance(defaults, dict):
        raise ValueError("role %s: defaults/main.yml is not a mapping" % role)
    entries = specs["argument_specs"]
    if entry_point not in entries:
        raise ValueError("role %s has no entry point %s (it has %s)" % (role, entry_point, ", ".join(sorted(entries))))
    options = (entries[entry_point] or {}).get("options") or {}
    return {name: defaults[name] for name in sorted(options) if name in defaults}
