# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters behind the model_weights role's prune and purge: which staged models can go."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.onprem.llm.plugins.module_utils.plain import plain
from ansible_collections.onprem.llm.plugins.module_utils.weights import prune as _prune
from ansible_collections.onprem.llm.plugins.module_utils.weights import refusal as _refusal


def _check(staged, in_use, name):
    if not isinstance(staged, list):
        raise AnsibleFilterError("%s expects the staged model names (a list), got %s" % (name, type(staged).__name__))
    if not hasattr(in_use, "items"):
        raise AnsibleFilterError("%s expects the served paths as {instance: path}, got %s"
                                 % (name, type(in_use).__name__))


def model_weights_prune_plan(staged, listed, in_use, root):
    _check(staged, in_use, "model_weights_prune_plan")
    return _prune.prune_plan(plain(staged), plain(listed or []), plain(in_use), str(root))


def model_weights_purge_refusal(staged, in_use, root):
    _check(staged, in_use, "model_weights_purge_refusal")
    return _prune.purge_refusal(plain(staged), plain(in_use), str(root))


def model_weights_refusal(validation, model, fit, host, gpu_count, fit_required, require_gpu, staged=True):
    if not isinstance(model, dict):
        raise AnsibleFilterError("model_weights_refusal expects a model_weights_models item, got %r" % (model,))
    if validation is not None and not isinstance(validation, dict):
        raise AnsibleFilterError("model_weights_refusal expects model_validate's result, got %r" % (validation,))
    return _refusal.refusal(plain(validation), plain(model), plain(fit) if isinstance(fit, dict) else None, host,
                            gpu_count, fit_required, require_gpu, bool(staged))


class FilterModule(object):
    def filters(self):
        return {
            "model_weights_prune_plan": model_weights_prune_plan,
            "model_weights_purge_refusal": model_weights_purge_refusal,
            "model_weights_refusal": model_weights_refusal,
        }
