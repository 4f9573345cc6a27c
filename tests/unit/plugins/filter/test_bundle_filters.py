"""The bundle filter wraps plugins/module_utils/bundle/gpu_packages.py for the bundle role."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.llm.plugins.filter.bundle import FilterModule

F = FilterModule().filters()
BOOKWORM = {"distribution": "Debian", "distribution_major_version": "12", "architecture": "x86_64"}


def test_packages_per_release():
    out = F["bundle_gpu_packages"](["g"], {"g": {}}, {"cuda_profile": "runtime"}, BOOKWORM, ["bookworm"])
    assert "nvidia-smi" in out["dists"]["bookworm"]["packages"]
    assert "libcudart11.0" in out["dists"]["bookworm"]["packages"]
    assert out["hosts"][0]["host"] == "g"


def test_bad_input_and_plan_errors_are_filter_errors():
    with pytest.raises(AnsibleFilterError, match="expects a list"):
        F["bundle_gpu_packages"]({}, {}, {}, BOOKWORM, ["bookworm"])
    with pytest.raises(AnsibleFilterError, match="^bundle: GPU node g runs bookworm, which bundle_apt_dists"):
        F["bundle_gpu_packages"](["g"], {"g": {}}, {}, BOOKWORM, ["trixie"])
    with pytest.raises(AnsibleFilterError, match="bundle_gpu_hosts names x, which is not in the inventory"):
        F["bundle_gpu_packages"](["x"], {"g": {}}, {}, BOOKWORM, ["bookworm"])
