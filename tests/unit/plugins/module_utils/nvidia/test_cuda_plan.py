# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CUDA planner: toolkit-only packages, side-by-side versions, compat, refusals."""

from __future__ import annotations

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.nvidia.cuda_plan import forbidden_packages, plan_cuda
from ansible_collections.onprem.llm.plugins.module_utils.nvidia.driver_plan import PlanError
from nvidia_hosts import HOSTS, platform

UBUNTU = platform("ubuntu2404", architecture="x86_64")
ROCKY = HOSTS["rocky9"]
TRIXIE = HOSTS["debian13"]
BOOKWORM = HOSTS["debian12"]
H100_570 = {"driver_version": "570.133.20", "gpus": [{"name": "NVIDIA H100 80GB HBM3"}]}
RTX_570 = {"driver_version": "570.133.20", "gpus": [{"name": "NVIDIA GeForce RTX 4090"}]}


def test_side_by_side_with_default():
    result = plan_cuda(UBUNTU, H100_570, {"versions": ["12.4", "12.8"], "default": "12.4"})
    assert result["packages"] == ["cuda-toolkit-12-4", "cuda-toolkit-12-8"]
    assert [v["home"] for v in result["versions"]] == ["/usr/local/cuda-12.4", "/usr/local/cuda-12.8"]
    assert result["versions"][1]["nvcc"] == "/usr/local/cuda-12.8/bin/nvcc"
    assert (result["default"], result["default_home"], result["symlink"]) == ("12.4", "/usr/local/cuda-12.4",
                                                                              "/usr/local/cuda")
    assert result["family"] == "apt"


def test_default_is_the_last_version():
    assert plan_cuda(ROCKY, H100_570, {"versions": ["12.8", "12.9"]})["default"] == "12.9"
    assert plan_cuda(ROCKY, H100_570, {"versions": ["12.8"]})["family"] == "dnf"


def test_runtime_profile():
    result = plan_cuda(UBUNTU, H100_570, {"versions": ["12.8"], "profile": "runtime"})
    assert result["packages"] == ["cuda-cudart-12-8"]
    assert result["versions"][0]["check_nvcc"] is False


def test_driver_floor_and_forward_compat_on_datacenter_gpus():
    with pytest.raises(PlanError, match="needs driver >= 580"):
        plan_cuda(UBUNTU, H100_570, {"versions": ["13.0"]})
    result = plan_cuda(UBUNTU, H100_570, {"versions": ["12.8", "13.0"], "compat": True})
    assert result["compat_packages"] == ["cuda-compat-13-0"]
    with pytest.raises(PlanError, match="data-center GPUs only"):
        plan_cuda(UBUNTU, RTX_570, {"versions": ["13.0"], "compat": True})


def test_driver_versions_compare_as_versions():
    old = {"driver_version": "99.1", "gpus": []}
    with pytest.raises(PlanError, match="needs driver >= 525"):
        plan_cuda(UBUNTU, old, {"versions": ["12.8"]})


@pytest.mark.parametrize("host, version, lib", [(BOOKWORM, "11.8", "libcudart11.0"), (TRIXIE, "12.4", "libcudart12")])
def test_debian_archive(host, version, lib):
    result = plan_cuda(host, {}, {})
    assert (result["source"], result["default"], result["packages"]) == ("distro", version, ["nvidia-cuda-toolkit"])
    assert result["symlink"] is None
    assert plan_cuda(host, {}, {"profile": "runtime"})["packages"] == [lib]
    with pytest.raises(PlanError, match="ships CUDA %s only" % version):
        plan_cuda(host, {}, {"versions": ["12.8"]})


@pytest.mark.parametrize("options, message", [
    ({"versions": [], "source": "nvidia"}, "cuda_versions is empty"),
    ({"versions": ["12.8", "12.8"]}, "twice"),
    ({"versions": ["12.8"], "default": "12.9"}, "not in cuda_versions"),
    ({"versions": ["12"]}, "major.minor"),
    ({"versions": ["12.8"], "profile": "full"}, "toolkit or runtime"),
    ({"versions": ["12.8"], "extra_packages": ["cuda-12-8"]}, "would pull an NVIDIA driver"),
])
def test_refusals(options, message):
    with pytest.raises(PlanError, match=message):
        plan_cuda(UBUNTU, H100_570, options)


def test_forbidden_packages():
    assert forbidden_packages(["cuda", "cuda-12-8", "cuda-drivers-570", "cuda-toolkit-12-8", "libcudnn9-cuda-12",
                               "cuda-runtime-12-8"]) == ["cuda", "cuda-12-8", "cuda-drivers-570", "cuda-runtime-12-8"]


@pytest.mark.parametrize("name, version, lib", [("ubuntu2204", "11.5", "libcudart11.0"),
                                                ("ubuntu2404", "12.0", "libcudart12")])
def test_ubuntu_archive_when_no_other_version_is_asked_for(name, version, lib):
    host = platform(name, architecture="x86_64")
    result = plan_cuda(host, {}, {})
    assert (result["source"], result["default"], result["packages"]) == ("distro", version, ["nvidia-cuda-toolkit"])
    assert result["symlink"] is None and result["default_home"] == "/usr/lib/nvidia-cuda-toolkit"
    assert plan_cuda(host, {}, {"profile": "runtime"})["packages"] == [lib]
    assert plan_cuda(host, {}, {"versions": [version]})["source"] == "distro"
    # Another version: NVIDIA's repository, as before the archive route existed.
    assert plan_cuda(host, H100_570, {"versions": ["12.8"]})["packages"] == ["cuda-toolkit-12-8"]
    with pytest.raises(PlanError, match="archive ships CUDA %s only" % version):
        plan_cuda(host, {}, {"versions": ["12.8"], "source": "distro"})
