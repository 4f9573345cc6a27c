# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters behind the ollama role: the record of the models it made present, and those no longer listed."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.onprem.llm.plugins.module_utils.ollama import prune as _prune


def _check(recorded, models, name):
    if not isinstance(recorded, list) or not all(isinstance(item, str) for item in recorded):
        raise AnsibleFilterError(
            "%s expects the record of managed models (a list of names) as input, got %r; "
            "remove the damaged record file and run the role again" % (name, recorded))
    if not isinstance(models, list):
        raise AnsibleFilterError("%s expects ollama_models (a list), got %s" % (name, type(models).__name__))


def ollama_stale_models(recorded, models):
    _check(recorded, models, "ollama_stale_models")
    return _prune.stale_models(recorded, models)


def ollama_models_record(recorded, models):
    _check(recorded, models, "ollama_models_record")
    return _prune.record_after_apply(recorded, models)


class FilterModule(object):
    def filters(self):
        return {
            "ollama_stale_models": ollama_stale_models,
            "ollama_models_record": ollama_models_record,
        }
