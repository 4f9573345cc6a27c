# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether the model_weights role refuses to put a staged model in service, and why.

The first reason that applies wins, in this order: validation failed; the format is not the one
asked for; then, where fitting is enforced (the model's ``fit`` and ``model_weights_fit_required``,
on a host with GPUs or with ``model_weights_require_gpu``): the model cannot be sized, does not fit,
asks for more tensor-parallel GPUs than the host has, or needs more than it asks for. An empty
string means "put it in service". Nothing is refused before the files are on disk (check mode,
where the download only would happen): the real run decides.
"""

from __future__ import annotations


def refusal(validation, model, fit, host, gpu_count, fit_required, require_gpu, staged=True):
    """The reason to refuse ``model`` on ``host`` ('' when there is none).

    ``validation``: model_validate's result; ``model``: the model_weights_models item; ``fit``: the
    model_fit result (None when the model could not be sized); ``staged``: the files are on disk.
    """
    if not staged:
        return ""
    validation = validation or {}
    found = validation.get("format")
    if "format" not in validation and "msg" in validation:
        return "validation failed: %s" % validation["msg"]
    wanted = model.get("format") or "auto"
    if wanted not in ("auto", found or "auto"):
        if not found:
            return "format %s asked for, but the files were not validated (set validate: true)" % wanted
        return "format is %s, expected %s" % (found, wanted)
    gpus = int(gpu_count or 0)
    enforce = bool(model.get("fit", True)) and bool(fit_required) and (gpus > 0 or bool(require_gpu))
    if not enforce:
        return ""
    if fit is None:
        return "cannot be sized (no metadata; set catalog: or validate: true)"
    if not fit.get("fits"):
        return "does not fit %s: %s" % (host, fit.get("message", ""))
    tp = model.get("tensor_parallel_size")
    if tp is not None and tp > gpus:
        return "tensor_parallel_size %s but %s has %d GPUs" % (tp, host, gpus)
    if tp is not None and fit.get("tensor_parallel_size", 0) > tp:
        return "needs tensor_parallel_size %s on %s, got %s: %s" % (
            fit["tensor_parallel_size"], host, tp, fit.get("message", ""))
    return ""
