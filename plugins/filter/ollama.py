# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters behind the ollama role: the record of the models it made present, those no longer listed, and
the tuning from the GPUs."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.onprem.llm.plugins.module_utils.ollama import prune as _prune
from ansible_collections.onprem.llm.plugins.module_utils.ollama import tuning as _tuning


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


def ollama_tuning(gpus, num_parallel=0, flash_attention="auto", cuda_visible_devices="auto"):
    if not isinstance(gpus, list) or not all(isinstance(gpu, dict) for gpu in gpus):
        raise AnsibleFilterError("ollama_tuning expects the GPUs of gpu_facts (a list of mappings), got %r" % (gpus,))
    return _tuning.tuning(gpus, int(num_parallel or 0), str(flash_attention), str(cuda_visible_devices))


class FilterModule(object):
    def filters(self):
        return {
            "ollama_stale_models": ollama_stale_models,
            "ollama_models_record": ollama_models_record,
            "ollama_tuning": ollama_tuning,
        }
