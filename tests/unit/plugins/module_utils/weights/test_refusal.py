# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/weights/refusal.py and the model_weights_refusal filter: the reason a staged model is
kept out of service, the first that applies, and none where fitting is not enforced."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.llm.plugins.filter.model_weights import model_weights_refusal
from ansible_collections.onprem.llm.plugins.module_utils.weights.refusal import refusal

VALID = {"format": "safetensors", "files": []}
FITS = {"fits": True, "tensor_parallel_size": 1, "message": "fits one T4 with 9.1 GiB left"}
TOO_BIG = {"fits": False, "tensor_parallel_size": 2, "message": "needs 141.2 GiB, the GPUs have 80.0 GiB"}
MODEL = {"name": "qwen"}


def _why(gpus=1, fit_required=True, require_gpu=False, **given):
    validation, model, fit = given.get("validation", VALID), given.get("model", MODEL), given.get("fit", FITS)
    return refusal(validation, model, fit, "gpu1", gpus, fit_required, require_gpu)


def test_a_model_that_validates_and_fits_goes_into_service():
    assert _why() == ""


@pytest.mark.parametrize("kwargs, reason", [
    ({"validation": {"msg": "model.safetensors: header length 9 exceeds the file", "failed": True}},
     "validation failed: model.safetensors: header length 9 exceeds the file"),
    ({"model": dict(MODEL, format="gguf")}, "format is safetensors, expected gguf"),
    ({"fit": None}, "cannot be sized (no metadata; set catalog: or validate: true)"),
    ({"fit": TOO_BIG}, "does not fit gpu1: needs 141.2 GiB, the GPUs have 80.0 GiB"),
    ({"model": dict(MODEL, tensor_parallel_size=2)}, "tensor_parallel_size 2 but gpu1 has 1 GPUs"),
    ({"model": dict(MODEL, tensor_parallel_size=1), "fit": dict(FITS, tensor_parallel_size=2), "gpus": 4},
     "needs tensor_parallel_size 2 on gpu1, got 1: fits one T4 with 9.1 GiB left"),
])
def test_each_reason(kwargs, reason):
    assert _why(**kwargs) == reason


def test_the_first_reason_wins():
    assert _why(validation={"msg": "broken"}, fit=TOO_BIG).startswith("validation failed")
    assert _why(model=dict(MODEL, format="gguf"), fit=None).startswith("format is")


@pytest.mark.parametrize("kwargs", [
    {"model": dict(MODEL, fit=False)},          # the model opts out
    {"fit_required": False},                     # the host does
    {"gpus": 0},                                 # a CPU host, unless GPUs are required
])
def test_fitting_is_not_enforced_when_switched_off_or_without_gpus(kwargs):
    assert _why(fit=TOO_BIG, **kwargs) == ""


def test_a_cpu_host_that_must_have_gpus_is_held_to_the_fit():
    assert _why(fit=TOO_BIG, gpus=0, require_gpu=True).startswith("does not fit gpu1")


def test_a_skipped_validation_refuses_only_a_format_it_cannot_confirm():
    assert _why(validation={"skipped": True, "changed": False}) == ""
    assert _why(validation={"skipped": True}, model=dict(MODEL, format="gguf")) == (
        "format gguf asked for, but the files were not validated (set validate: true)")


def test_nothing_is_refused_before_the_files_are_on_disk():
    # Check mode on a host that would download the model: no validation, no size, nothing to judge yet.
    assert refusal({"skipped": True}, dict(MODEL, format="gguf"), None, "gpu1", 1, True, False, staged=False) == ""
    assert refusal({"skipped": True}, MODEL, None, "gpu1", 1, True, False) == (
        "cannot be sized (no metadata; set catalog: or validate: true)")


def test_the_filter_refuses_what_is_not_a_model():
    assert model_weights_refusal(VALID, MODEL, FITS, "gpu1", 1, True, False) == ""
    assert model_weights_refusal({}, MODEL, None, "gpu1", 1, True, False, False) == ""
    with pytest.raises(AnsibleFilterError, match="expects a model_weights_models item"):
        model_weights_refusal(VALID, "qwen", FITS, "gpu1", 1, True, False)
