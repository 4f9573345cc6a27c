"""The NVIDIA driver / CUDA packages the offline bundle carries for the inventory's GPU nodes."""

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.bundle import gpu_packages as gp
from nvidia_hosts import gpus, platform

# Platforms as the bundle knows them: from the inventory, no running kernel.
BOOKWORM = platform("debian12", kernel=None)
TRIXIE = platform("debian13", kernel=None)
NOBLE = platform("ubuntu2404", architecture="x86_64", kernel=None)
ROCKY = platform("rocky9", kernel=None)
T4 = gpus("Turing")
V100 = gpus("Volta")


def node(platform, variables=None, gpu=None, host="g1"):
    return {"host": host, "platform": platform, "variables": variables or {}, "gpu": gpu or {}}


def test_unknown_gpus_and_container_mode_carry_each_flavour_as_its_own_set_with_headers():
    planned = gp.plan_host(node(TRIXIE))
    assert planned["dist"] == "trixie"
    assert planned["flavours"] == ["open", "proprietary"]
    open_set, proprietary_set = planned["package_sets"]
    # The two module packages conflict: apt resolves each set on its own.
    assert "nvidia-open-kernel-dkms" in open_set and "nvidia-kernel-dkms" not in open_set
    assert "nvidia-kernel-dkms" in proprietary_set and "firmware-nvidia-gsp" not in proprietary_set
    for group in planned["package_sets"]:
        for name in ("linux-headers-amd64", "nvidia-smi", "libcuda1", "nvidia-cuda-toolkit"):
            assert name in group
    assert set(planned["packages"]) == set(open_set) | set(proprietary_set)
    assert planned["components"] == ["contrib", "non-free", "non-free-firmware"]
    assert any("container mode unknown" in n for n in planned["notes"])
    assert any("headers metapackage" in n for n in planned["notes"])


def test_bookworm_plans_what_the_role_picks_there_proprietary_for_any_gpu():
    planned = gp.plan_host(node(BOOKWORM))
    assert planned["flavours"] == ["proprietary"] and len(planned["package_sets"]) == 1
    assert "nvidia-kernel-dkms" in planned["packages"] and "nvidia-open-kernel-dkms" not in planned["packages"]


def test_known_gpus_pick_one_flavour():
    open_ = gp.plan_host(node(TRIXIE, gpu=T4))
    assert open_["flavours"] == ["open"] and "nvidia-kernel-dkms" not in open_["packages"]
    legacy = gp.plan_host(node(TRIXIE, gpu=V100))
    assert legacy["flavours"] == ["proprietary"]
    assert "nvidia-open-kernel-dkms" not in legacy["packages"] and "firmware-nvidia-gsp" not in legacy["packages"]


def test_an_explicit_flavour_is_kept():
    planned = gp.plan_host(node(BOOKWORM, {"nvidia_driver_flavour": "open"}))
    assert planned["flavours"] == ["open"] and "nvidia-open-kernel-dkms" in planned["packages"]


def test_container_mode_carries_userspace_only():
    planned = gp.plan_host(node(BOOKWORM, {"nvidia_driver_container_mode": "enabled", "cuda_profile": "runtime"}))
    assert not [p for p in planned["packages"] if "dkms" in p or p.startswith("linux-headers")]
    assert "libcudart11.0" in planned["packages"] and "nvidia-cuda-toolkit" not in planned["packages"]
    assert not [n for n in planned["notes"] if "headers" in n or "container mode" in n]


def test_a_known_kernel_gets_its_own_headers():
    platform = dict(BOOKWORM, kernel="6.1.0-28-amd64")
    planned = gp.plan_host(node(platform, {"nvidia_driver_container_mode": "disabled"}))
    assert "linux-headers-6.1.0-28-amd64" in planned["packages"]
    assert "linux-headers-amd64" not in planned["packages"]


def test_trixie_and_ubuntu_plan_their_own_archives():
    assert gp.plan_host(node(TRIXIE))["dist"] == "trixie"
    ubuntu = gp.plan_host(node(NOBLE, {"cuda_versions": ["12.8"]}, gpu=T4))
    assert ubuntu["dist"] == "noble" and ubuntu["components"] == ["restricted", "multiverse"]
    # Canonical's signed modules are per kernel: without one, the -generic metapackage.
    assert "linux-modules-nvidia-580-server-open-generic" in ubuntu["packages"]
    # Ubuntu's CUDA comes from NVIDIA's repository.
    assert ubuntu["outside"] == ["CUDA packages from NVIDIA's repository: cuda-toolkit-12-8"]


def test_nvidia_repository_packages_are_reported_outside_not_carried():
    planned = gp.plan_host(node(BOOKWORM, {"nvidia_driver_source": "nvidia", "nvidia_driver_branch": "580",
                                           "cuda_source": "nvidia", "cuda_versions": ["12.8"],
                                           "nvidia_driver_container_toolkit": True}, gpu=T4))
    assert planned["packages"] == [] and planned["components"] == []
    text = " ".join(planned["outside"])
    assert "NVIDIA's CUDA repository: nvidia-driver-pinning-580" not in text
    assert "libnvidia-compute" in text and "cuda-toolkit-12-8" in text and "nvidia-container-toolkit" in text


def test_rhel_nodes_need_an_rpm_mirror():
    planned = gp.plan_host(node(ROCKY))
    assert planned["packages"] == []
    assert "rhel9" in planned["outside"][0] and "EPEL" in planned["outside"][0]


def test_plan_errors_name_the_host():
    with pytest.raises(gp.BundleGpuError, match="^g7: Debian 12's own archive ships driver branch 535"):
        gp.plan_host(node(BOOKWORM, {"nvidia_driver_branch": "580"}, host="g7"))
    with pytest.raises(gp.BundleGpuError, match="^g1: Debian 12's archive ships CUDA 11.8 only"):
        gp.plan_host(node(BOOKWORM, {"cuda_versions": ["12.8"]}))


def test_unsupported_platform_names_bundle_gpu_platform():
    with pytest.raises(gp.BundleGpuError, match="set bundle_gpu_platform"):
        gp.plan_host(node({"distribution": "Debian", "distribution_major_version": "11"}))


def test_hosts_merge_per_release_without_duplicates():
    out = gp.plan_hosts([node(BOOKWORM, gpu=T4, host="a"), node(BOOKWORM, gpu=T4, host="b"),
                         node(TRIXIE, gpu=T4, host="c"), node(TRIXIE, gpu=V100, host="d"), node(ROCKY, host="r")],
                        ["bookworm", "trixie"])
    assert sorted(out["dists"]) == ["bookworm", "trixie"]
    bookworm = out["dists"]["bookworm"]["packages"]
    assert len(bookworm) == len(set(bookworm)) == len(gp.plan_host(node(BOOKWORM, gpu=T4))["packages"])
    assert len(out["dists"]["bookworm"]["package_sets"]) == 1
    assert len(out["dists"]["trixie"]["package_sets"]) == 2
    assert [h["host"] for h in out["hosts"]] == ["a", "b", "c", "d", "r"]
    assert out["outside"][0].startswith("r: driver and CUDA RPMs")


def test_a_release_the_bundle_does_not_build_is_refused():
    with pytest.raises(gp.BundleGpuError, match=r"c runs trixie, which bundle_apt_dists does not list \(bookworm\)"):
        gp.plan_hosts([node(TRIXIE, host="c")], ["bookworm"])


@pytest.mark.parametrize("value,expected", [("auto", None), ("enabled", True), ("disabled", False),
                                            (True, True), (False, False), (None, None)])
def test_container_mode_values(value, expected):
    assert gp._container_mode(value) is expected


def test_node_inputs_take_own_variables_over_defaults_and_the_platform_in_order():
    hostvars = {
        "a": {"cuda_profile": "runtime", "unrelated": 1},
        "b": {"ansible_facts": {"distribution": "Debian", "distribution_major_version": "13",
                                "distribution_version": "13.1", "architecture": "x86_64", "kernel": "6.12.48",
                                "onprem_gpu": T4}},
        "c": {"bundle_gpu_platform": TRIXIE, "ansible_facts": {"distribution": "Ubuntu"}},
    }
    items = gp.node_inputs(["a", "b", "c"], hostvars, {"cuda_profile": "toolkit", "nvidia_driver_branch": "auto",
                                                       "nvidia_driver_verify": True}, BOOKWORM)
    a, b, c = items
    assert a["variables"] == {"cuda_profile": "runtime", "nvidia_driver_branch": "auto"}
    assert a["platform"] == BOOKWORM and a["gpu"] == {}
    assert b["platform"]["kernel"] == "6.12.48" and b["gpu"] == T4
    assert c["platform"] == TRIXIE
    with pytest.raises(gp.BundleGpuError, match="bundle_gpu_hosts names z, which is not in the inventory"):
        gp.node_inputs(["z"], hostvars, {}, BOOKWORM)
