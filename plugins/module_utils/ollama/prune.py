# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which Ollama models the inventory no longer lists, among those the ollama role made present.

The model store is shared with people: a model pulled by hand with ``ollama pull`` is not the
inventory's to remove. So the role keeps a record (a JSON list of names) of the models it made
present; a recorded model that ``ollama_models`` no longer lists is stale, and tasks/prune.yml
deletes it through the API and drops it from the record. Names compare as the server normalises
them (``tiny`` is ``tiny:latest``, ``library/tiny`` too).
"""

from __future__ import absolute_import, division, print_function

from ansible_collections.onprem.llm.plugins.module_utils.ollama.names import parse_name


def _names(items, state=None):
    """ModelName of each ``ollama_models`` item (dict) or name (str), optionally of one state."""
    out = []
    for item in items or []:
        if isinstance(item, dict):
            if state is not None and item.get("state", "present") != state:
                continue
            name = item.get("name")
        else:
            name = item
        try:
            out.append(parse_name(name))
        except ValueError:
            # A name the role could not have made present is not in the record; the ollama_model
            # task reports it with its reason.
            continue
    return out


def _unique_sorted(names):
    seen = {}
    for name in names:
        seen.setdefault(name, str(name))
    return sorted(seen.values())


def record_after_apply(recorded, models):
    """The record once ``models`` (``ollama_models``) are applied: recorded + present - absent."""
    absent = set(_names(models, "absent"))
    kept = [name for name in _names(recorded) if name not in absent]
    return _unique_sorted(kept + _names(models, "present"))


def stale_models(recorded, models):
    """Recorded names that ``models`` does not list (as present or absent), sorted."""
    listed = set(_names(models))
    return _unique_sorted(name for name in _names(recorded) if name not in listed)
