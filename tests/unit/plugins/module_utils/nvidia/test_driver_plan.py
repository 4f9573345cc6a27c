# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The driver planner over distro x branch x GPU generation: exact repos, packages, holds, refusals."""

from __future__ import annotations

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.nvidia import driver_plan as dp
from ansible_collections.onprem.llm.plugins.module_utils.nvidia.driver_plan import PlanError, plan_driver
from nvidia_hosts import HOSTS, gpus

T4 = gpus("turing")
A100X8 = gpus(*["ampere"] * 8, nvswitch=True)
H100 = gpus("hopper")
B200X8 = gpus(*["blackwell"] * 8, nvswitch=True)
P100 = gpus("pascal", "pascal")
V100_T4 = gpus("volta", "turing")
P40_B200 = gpus("pascal", "blackwell")
NONE = gpus()


def plan(host, gpu=None, **options):
    return plan_driver(HOSTS[host], T4 if gpu is None else gpu, options)


# ---------------------------------------------------------------- flavour x generation

@pytest.mark.parametrize("gpu, flavour", [
    (T4, "open"), (A100X8, "open"), (H100, "open"), (B200X8, "open"), (P100, "proprietary"),
    (V100_T4, "proprietary"), (gpus("maxwell"), "proprietary"), (NONE, "open"),
])
def test_auto_flavour_by_generation(gpu, flavour):
    assert plan("ubuntu2404", gpu, source="nvidia", branch="580")["flavour"] == flavour


def test_no_gpu_on_an_old_branch_defaults_proprietary():
    assert plan("ubuntu2204", NONE, source="nvidia", branch="535")["flavour"] == "proprietary"


@pytest.mark.parametrize("gpu, flavour, message", [
    (P100, "open", "cannot drive pascal GPUs"),
    (B200X8, "proprietary", "cannot drive blackwell GPUs"),
    (P40_B200, "auto", "no single driver flavour drives both"),
])
def test_flavour_refusals(gpu, flavour, message):
    with pytest.raises(PlanError, match=message):
        plan("ubuntu2404", gpu, source="nvidia", branch="580", flavour=flavour)


@pytest.mark.parametrize("branch", ["590", "595"])
@pytest.mark.parametrize("gpu", [P100, gpus("volta"), gpus("maxwell")])
def test_legacy_gpus_refuse_branches_after_580(branch, gpu):
    with pytest.raises(PlanError, match="R580 is the last branch"):
        plan("ubuntu2404", gpu, source="nvidia", branch=branch)


def test_pascal_on_580_is_fine():
    result = plan("ubuntu2404", P100, source="nvidia", branch="580")
    assert result["install_packages"] == ["libnvidia-compute-580", "nvidia-utils-580", "nvidia-compute-utils-580",
                                          "nvidia-dkms-580"]


def test_kepler_is_refused():
    with pytest.raises(PlanError, match="Kepler"):
        plan("rhel10", gpus("kepler"))


# ---------------------------------------------------------------- Debian archive

@pytest.mark.parametrize("host, branch, codename, flavour, modules", [
    ("debian12", 535, "bookworm", "proprietary", ["nvidia-kernel-dkms"]),
    ("debian13", 550, "trixie", "open", ["firmware-nvidia-gsp", "nvidia-open-kernel-dkms"])])
def test_debian_archive(host, branch, codename, flavour, modules):
    result = plan(host, T4)
    assert (result["source"], result["branch"], result["flavour"], result["family"]) == ("distro", branch, flavour, "apt")
    assert result["repo"] == {
        "kind": "debian_components", "components": ["contrib", "non-free"],
        "suites": [codename, codename + "-updates"], "security_suites": [codename + "-security"],
        "codename": codename, "file": "/etc/apt/sources.list.d/onprem-llm-debian-nonfree.sources"}
    assert result["install_packages"] == ["nvidia-smi", "nvidia-persistenced", "libcuda1", "libnvidia-ml1",
                                          "nvidia-kernel-support"] + modules
    assert result["kernel_packages"] == ["linux-headers-%s" % HOSTS[host]["kernel"]]
    assert result["hold_method"] == "apt_mark_hold"
    assert result["hold_packages"] == result["install_packages"]
    assert result["apt_pins"] == [{"package": " ".join(result["install_packages"]), "pin": "version %d.*" % branch,
                                   "priority": 1001}]
    assert result["initramfs_command"] == ["update-initramfs", "-u", "-k", "all"]
    assert result["fabricmanager"]["install"] is False


def test_bookworm_open_modules_lag_so_auto_takes_proprietary_but_open_can_be_asked_for():
    auto = plan("debian12", T4)
    assert auto["flavour"] == "proprietary" and "lag its driver userspace" in auto["flavour_reason"]
    # Blackwell has only open modules: still open (and the branch check refuses 535 for it anyway).
    assert dp.choose_flavour("auto", ["blackwell"], 580, "lags")[0] == "open"
    assert dp.choose_flavour("auto", ["turing"], 580, "lags") == ("proprietary", "lags")
    asked = plan("debian12", T4, flavour="open")
    assert asked["flavour"] == "open" and "nvidia-open-kernel-dkms" in asked["install_packages"]


def test_debian_proprietary_for_pascal_has_no_gsp_firmware():
    result = plan("debian12", P100)
    assert result["kernel_module_packages"] == ["nvidia-kernel-dkms"]
    assert "firmware-nvidia-gsp" not in result["install_packages"]


def test_debian_container_mode_skips_dkms_and_headers():
    result = plan("debian13", A100X8, container_mode=True)
    assert result["skipped_packages"] == ["nvidia-open-kernel-dkms"]
    assert "nvidia-open-kernel-dkms" not in result["install_packages"] + result["hold_packages"]
    assert result["kernel_packages"] == []


def test_container_mode_with_an_installed_kernel_builds_its_kernel_side():
    # The image's own kernel package (6.1.0-40-amd64 here), not the host's running kernel.
    result = plan("debian12", T4, container_mode=True, kernel_side=True)
    assert (result["container_mode"], result["kernel_side"], result["kernel"]) == (True, True, "6.1.0-40-amd64")
    assert result["skipped_packages"] == []
    assert result["kernel_module_packages"] == ["nvidia-kernel-dkms"]
    assert result["kernel_packages"] == ["linux-headers-6.1.0-40-amd64"]
    assert "nvidia-kernel-dkms" in result["install_packages"] and "nvidia-kernel-dkms" in result["hold_packages"]
    assert result["initramfs_command"] == ["update-initramfs", "-u", "-k", "6.1.0-40-amd64"]
    assert any("built for the installed kernel 6.1.0-40-amd64" in note for note in result["notes"])


def test_without_a_kernel_to_build_for_the_initramfs_of_every_kernel_is_rebuilt():
    assert plan("debian12", T4)["initramfs_command"] == ["update-initramfs", "-u", "-k", "all"]
    assert plan("debian12", T4)["kernel_side"] is True
    assert plan("rocky9", T4, kernel_side=True)["initramfs_command"][:3] == ["dracut", "--force", "--kver"]
    assert plan("debian13", T4, container_mode=True)["kernel_side"] is False


def test_debian_nvswitch_plans_fabricmanager_but_it_is_unavailable():
    fm = plan("debian13", A100X8, container_mode=True)["fabricmanager"]
    assert (fm["needed"], fm["install"], fm["available"], fm["package"]) == (True, False, False, None)


def test_debian_archive_refuses_other_branches():
    with pytest.raises(PlanError, match="ships driver branch 535 only"):
        plan("debian12", T4, branch="570")


def test_debian_exact_version_pins_persistenced_to_the_branch_only():
    result = plan("debian12", T4, version="535.309.01")
    assert result["branch"] == 535
    pins = result["apt_pins"]
    assert pins[0]["pin"] == "version 535.309.01-*" and "nvidia-persistenced" not in pins[0]["package"]
    assert pins[1] == {"package": "nvidia-persistenced", "pin": "version 535.*", "priority": 1001}


# ---------------------------------------------------------------- Ubuntu archive (signed modules)

UBUNTU2404_AMD64 = dict(HOSTS["ubuntu2404"], architecture="x86_64", kernel="6.8.0-151-generic")


@pytest.mark.parametrize("host, meta", [("ubuntu2204", "generic"), ("ubuntu2404-amd64", "generic")])
def test_ubuntu_archive_uses_signed_server_open_modules(host, meta):
    platform = UBUNTU2404_AMD64 if host == "ubuntu2404-amd64" else HOSTS[host]
    kernel = platform["kernel"]
    result = plan_driver(platform, H100, {"branch": "580", "secure_boot": "enabled"})
    assert result["install_packages"] == [
        "nvidia-headless-no-dkms-580-server-open", "nvidia-utils-580-server", "nvidia-compute-utils-580-server",
        "linux-modules-nvidia-580-server-open-%s" % kernel, "linux-modules-nvidia-580-server-open-%s" % meta]
    assert result["kernel_packages"] == []  # prebuilt, no DKMS
    assert result["secure_boot"]["route"] == "signed"
    # The kernel-flavour meta package follows kernel updates: never held, never pinned to a driver version.
    assert result["kernel_follow_packages"] == ["linux-modules-nvidia-580-server-open-%s" % meta]
    assert "linux-modules-nvidia-580-server-open-%s" % meta not in result["hold_packages"]
    assert "linux-modules-nvidia-580-server-open-%s" % meta not in result["apt_pins"][0]["package"].split()


def test_ubuntu_hwe_kernel_takes_the_hwe_meta_package():
    result = plan_driver(dict(HOSTS["ubuntu2204"], kernel="6.8.0-149-generic"), H100, {"branch": "595"})
    assert result["kernel_module_packages"] == ["linux-modules-nvidia-595-server-open-6.8.0-149-generic",
                                                "linux-modules-nvidia-595-server-open-generic-hwe-22.04"]


def test_ubuntu_arm64_64k_kernel_takes_dkms():
    result = plan("ubuntu2404", H100, branch="580")
    assert result["kernel_module_packages"] == ["nvidia-dkms-580-server-open"]
    assert result["kernel_packages"] == ["linux-headers-6.8.0-85-generic-64k", "linux-headers-generic-64k"]


def test_ubuntu_branch_without_current_prebuilt_modules_takes_dkms_with_following_headers():
    result = plan("ubuntu2204", P100, branch="535")
    assert result["install_packages"][0] == "nvidia-headless-no-dkms-535-server"
    assert result["install_packages"][-1] == "nvidia-dkms-535-server"
    assert result["needs_dkms"] and not result["signed_modules"]
    assert result["kernel_packages"] == ["linux-headers-5.15.0-151-generic", "linux-headers-generic"]
    assert "linux-headers-generic" not in result["hold_packages"]
    with pytest.raises(PlanError, match="builds unsigned DKMS modules"):
        plan("ubuntu2204", P100, branch="570", secure_boot="enabled")


def test_ubuntu_refuses_a_branch_the_archive_cannot_serve():
    with pytest.raises(PlanError, match=r"Ubuntu 24.04's archive has no headless -server driver for branch 545 .*"
                                        r"Branches that work there: 535, 550, 565, 570, 575, 580, 590, 595"):
        plan("ubuntu2404", T4, branch="545")


def test_ubuntu_prebuilt_route_refuses_an_exact_version():
    with pytest.raises(PlanError, match="would strand the next kernel without a module"):
        plan_driver(UBUNTU2404_AMD64, T4, {"branch": "580", "version": "580.95.05"})
    # DKMS builds whatever version is installed: an exact version is fine there.
    assert plan_driver(UBUNTU2404_AMD64, T4, {"branch": "570", "version": "570.195.03"})["version"] == "570.195.03"


def test_ubuntu_archive_fabricmanager_at_branch():
    fm = plan("ubuntu2404", A100X8, branch="570")["fabricmanager"]
    assert (fm["install"], fm["package"]) == (True, "nvidia-fabricmanager-570")


# ---------------------------------------------------------------- NVIDIA repository, apt

@pytest.mark.parametrize("host, distro, arch", [
    ("debian12", "debian12", "x86_64"), ("debian13", "debian13", "x86_64"),
    ("ubuntu2204", "ubuntu2204", "x86_64"), ("ubuntu2404", "ubuntu2404", "sbsa"),
])
def test_cuda_keyring_repo(host, distro, arch):
    result = plan(host, A100X8, source="nvidia", branch="580")
    url = "https://developer.download.nvidia.com/compute/cuda/repos/%s/%s/" % (distro, arch)
    assert result["repo"] == {
        "kind": "cuda_keyring", "url": url, "keyring_package_url": url + "cuda-keyring_1.1-1_all.deb",
        "keyring": "/usr/share/keyrings/cuda-archive-keyring.gpg",
        "list_file": "/etc/apt/sources.list.d/cuda-%s-%s.list" % (distro, arch),
        "list_line": "deb [signed-by=/usr/share/keyrings/cuda-archive-keyring.gpg] %s /" % url,
        "pin_file": "/etc/apt/preferences.d/cuda-repository-pin-600", "mirror": False,
        "duplicate_pattern": "/compute/cuda/repos/%s/%s" % (distro, arch)}
    assert result["fabricmanager"]["package"] == "nvidia-fabricmanager-580"
    assert "nvidia-fabricmanager-580" in result["hold_packages"]


def test_mirror_url_replaces_nvidia():
    repo = plan("ubuntu2404", T4, source="nvidia", repo_url="http://mirror.internal/cuda/repos/")["repo"]
    assert repo["url"] == "http://mirror.internal/cuda/repos/ubuntu2404/sbsa/"
    assert repo["mirror"] is True


@pytest.mark.parametrize("compute_only, flavour_gpu, expected", [
    (True, T4, ["libnvidia-compute-570", "nvidia-utils-570", "nvidia-compute-utils-570", "nvidia-dkms-570-open"]),
    (True, P100, ["libnvidia-compute-570", "nvidia-utils-570", "nvidia-compute-utils-570", "nvidia-dkms-570"]),
    (False, T4, ["nvidia-open-570"]),
    (False, P100, ["cuda-drivers-570"]),
])
def test_nvidia_apt_branch_names_up_to_580(compute_only, flavour_gpu, expected):
    result = plan("ubuntu2204", flavour_gpu, source="nvidia", branch="570", compute_only=compute_only)
    assert result["install_packages"] == expected
    assert result["apt_pins"][0]["pin"] == "version 570.*"


@pytest.mark.parametrize("compute_only, expected", [
    (True, ["nvidia-driver-pinning-590", "libnvidia-compute", "nvidia-utils", "nvidia-compute-utils",
            "nvidia-dkms-open"]),
    (False, ["nvidia-driver-pinning-590", "nvidia-open"]),
])
def test_nvidia_apt_pinning_package_from_590(compute_only, expected):
    result = plan("ubuntu2404", B200X8, source="nvidia", branch="590", compute_only=compute_only)
    assert result["install_packages"] == expected
    assert result["install_packages"][0] == "nvidia-driver-pinning-590"  # first, before the driver
    assert result["fabricmanager"]["package"] == "nvidia-fabricmanager"


def test_default_branch_outside_debian_archive_is_580():
    assert plan("ubuntu2404", T4, source="nvidia")["branch"] == 580


def test_exact_version_sets_branch_and_pin():
    result = plan("ubuntu2404", T4, source="nvidia", version="570.133.20")
    assert result["branch"] == 570
    assert result["apt_pins"][0]["pin"] == "version 570.133.20-*"


@pytest.mark.parametrize("branch, version, message", [
    ("57", "", "three-digit branch"), ("latest", "", "three-digit branch"),
    ("570", "580.65.06", "not on branch 570"), ("auto", "570", "full driver version"),
])
def test_bad_branch_or_version(branch, version, message):
    with pytest.raises(PlanError, match=message):
        plan("ubuntu2404", T4, source="nvidia", branch=branch, version=version)


# ---------------------------------------------------------------- RHEL / Rocky

@pytest.mark.parametrize("host, distro", [("rhel8", "rhel8"), ("rocky9", "rhel9")])
@pytest.mark.parametrize("gpu, stream, kmod", [
    (T4, "nvidia-driver:570-open", "kmod-nvidia-open-dkms"),
    (P100, "nvidia-driver:570-dkms", "kmod-nvidia-latest-dkms"),
])
def test_el8_el9_module_streams(host, distro, gpu, stream, kmod):
    result = plan(host, gpu, branch="570")
    assert (result["source"], result["family"]) == ("nvidia", "dnf")
    assert result["module_stream"] == stream
    assert result["hold_method"] == "module_stream"
    assert result["install_packages"] == ["nvidia-driver-cuda", "nvidia-persistenced", kmod]
    assert result["kernel_packages"] == ["kernel-devel-%s" % HOSTS[host]["kernel"],
                                         "kernel-headers-%s" % HOSTS[host]["kernel"]]
    assert result["repo"]["baseurl"] == "https://developer.download.nvidia.com/compute/cuda/repos/%s/x86_64/" % distro
    assert result["repo"]["gpgkey"].endswith("/d42d0685.pub")
    assert result["initramfs_command"] == ["dracut", "--force"]


def test_el10_versionlock_and_branch_globs():
    result = plan("rhel10", A100X8, branch="580")
    assert result["module_stream"] is None
    assert (result["hold_method"], result["versionlock_plugin"]) == ("versionlock", "python3-dnf-plugin-versionlock")
    assert result["install_packages"] == ["nvidia-driver-cuda-580.*", "nvidia-persistenced-580.*",
                                          "kmod-nvidia-open-dkms-580.*"]
    assert result["fabricmanager"]["package"] == "nvidia-fabric-manager"


def test_el_exact_version_specs():
    result = plan("rocky9", T4, version="570.133.20")
    assert result["install_packages"][0] == "nvidia-driver-cuda-570.133.20"


def test_el_has_no_distro_driver():
    with pytest.raises(PlanError, match="ship no NVIDIA driver"):
        plan("rhel8", T4, source="distro")


def test_local_repo_package():
    result = plan("rhel10", T4, source="local", local_repo_package="/srv/nvidia-driver-local-repo-rhel10-580.95.05-1.0-1.x86_64.rpm")
    assert result["repo"]["kind"] == "local_package"
    with pytest.raises(PlanError, match="needs nvidia_driver_local_repo_package"):
        plan("debian12", T4, source="local")


def test_unsupported_distribution():
    with pytest.raises(PlanError, match="not supported"):
        plan_driver(dict(HOSTS["debian12"], distribution_major_version="11", distribution_version="11.9"), T4, {})


# ---------------------------------------------------------------- Secure Boot

@pytest.mark.parametrize("host, options", [
    ("debian13", {}), ("rocky9", {}), ("ubuntu2404", {"source": "nvidia"}),
])
def test_secure_boot_stops_unsigned_routes(host, options):
    with pytest.raises(PlanError, match="Nothing was installed"):
        plan(host, T4, secure_boot="enabled", **options)


def test_secure_boot_mok_opt_in_and_signed_requirement():
    assert plan("rocky9", T4, secure_boot="enabled", secure_boot_policy="mok")["secure_boot"]["route"] == "mok"
    with pytest.raises(PlanError, match="signed prebuilt modules"):
        plan("debian12", T4, secure_boot="enabled", secure_boot_policy="signed")


def test_secure_boot_ignored_in_container_mode_and_when_disabled():
    assert plan("debian12", T4, secure_boot="enabled", container_mode=True)["secure_boot"]["route"] == "none"
    assert plan("debian12", T4, secure_boot="disabled")["secure_boot"]["route"] == "none"


def test_a_container_building_the_kernel_side_signs_it_as_the_host_would():
    # An image's own kernel: the DKMS module is built there, so Secure Boot decides as on the host.
    with pytest.raises(PlanError, match="Nothing was installed"):
        plan("debian12", T4, secure_boot="enabled", container_mode=True, kernel_side=True)
    built = plan("debian12", T4, secure_boot="enabled", container_mode=True, kernel_side=True,
                 secure_boot_policy="mok")
    assert built["kernel_side"] and built["secure_boot"]["route"] == "mok"


# ---------------------------------------------------------------- fabric manager, extras

def test_fabricmanager_never_without_nvswitch_even_on_hgx_gpus():
    fm = plan("ubuntu2404", gpus(*["hopper"] * 8), source="nvidia")["fabricmanager"]
    assert (fm["install"], fm["needed"]) == (False, False)
    assert plan("ubuntu2404", gpus("hopper"), source="nvidia", fabricmanager=True)["fabricmanager"]["install"]
    assert not plan("ubuntu2404", A100X8, source="nvidia", fabricmanager=False)["fabricmanager"]["install"]


def test_dcgm_4_by_branch_and_exporter():
    dcgm = plan("ubuntu2404", A100X8, source="nvidia", branch="580", dcgm=True, dcgm_exporter=True)["extras"]["dcgm"]
    assert dcgm["packages"] == ["datacenter-gpu-manager-4-cuda13", "datacenter-gpu-manager-exporter"]
    dcgm = plan("ubuntu2404", A100X8, source="nvidia", branch="570", dcgm=True)["extras"]["dcgm"]
    assert dcgm["packages"] == ["datacenter-gpu-manager-4-cuda12"]
    with pytest.raises(PlanError, match="DCGM comes from NVIDIA"):
        plan("debian12", T4, dcgm=True)


def test_container_toolkit_repo():
    ctk = plan("debian12", T4, container_toolkit=True)["extras"]["container_toolkit"]
    assert ctk["packages"] == ["nvidia-container-toolkit"]
    assert ctk["repo"]["list_line"].startswith(
        "deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg] https://nvidia.github.io/")
    assert plan("rhel10", T4, container_toolkit=True)["extras"]["container_toolkit"]["repo"]["kind"] == "dnf_repo"


# ---------------------------------------------------------------- installed driver, branch change

DEBIAN_535 = {"nvidia-smi": [{"version": "535.309.01-0+deb12u1"}], "libcuda1": [{"version": "535.309.01-0+deb12u1"}],
              "nvidia-persistenced": [{"version": "535.171.04-1~deb12u1"}],
              "nvidia-installer-cleanup": [{"version": "20220217+3~deb12u1"}],
              "nvidia-modprobe": [{"version": "570.133.07-1"}], "bash": [{"version": "5.2.15-2+b9"}]}


def test_installed_driver_reads_versions_as_versions():
    found = dp.installed_driver(DEBIAN_535)
    assert (found["version"], found["branch"]) == ("535.309.01", 535)
    assert "nvidia-installer-cleanup" not in found["packages"] and "bash" not in found["packages"]
    rpm = dp.installed_driver({"nvidia-driver-cuda": [{"version": "570.133.20", "release": "1.el9", "epoch": 3}]})
    assert rpm["version"] == "570.133.20"
    assert dp.installed_driver({})["version"] is None


def test_version_order_is_numeric():
    found = dp.installed_driver({"libnvidia-foo": "535.183.01-1", "libnvidia-bar": "535.54.03-1"})
    assert found["version"] == "535.183.01"  # '535.54.03' > '535.183.01' as text


def test_same_branch_is_no_change():
    result = plan("debian12", T4, installed=DEBIAN_535)
    assert result["branch_change"] is None and result["remove_packages"] == []


def test_branch_change_needs_opt_in_and_removes_old_packages():
    ubuntu_535 = {"nvidia-utils-535-server": "535.261.03-0ubuntu0.24.04.1",
                  "libnvidia-compute-535-server": "535.261.03-0ubuntu0.24.04.1",
                  "linux-modules-nvidia-535-server-open-6.8.0-85-generic-64k": "6.8.0-85.85+1"}
    with pytest.raises(PlanError, match="nvidia_driver_allow_branch_change=true"):
        plan("ubuntu2404", T4, branch="570", installed=ubuntu_535)
    result = plan("ubuntu2404", T4, branch="570", installed=ubuntu_535, allow_branch_change=True)
    assert result["branch_change"]["from"] == 535 and result["branch_change"]["to"] == 570
    assert result["remove_packages"] == ["libnvidia-compute-535-server", "nvidia-utils-535-server"]


# ---------------------------------------------------------------- kernels, reboot

APT_SIM = """NOTE: This is only a simulation!
Inst linux-image-6.1.0-41-amd64 (6.1.158-1 Debian-Security:12/oldstable-security [amd64])
Inst linux-headers-6.1.0-41-amd64 (6.1.158-1 Debian-Security:12/oldstable-security [amd64])
Inst linux-modules-nvidia-570-server-open-6.8.0-85-generic (6.8.0-85.85+1 Ubuntu:24.04/noble [amd64])
Inst nvidia-kernel-dkms (535.309.01-0+deb12u1 Debian-Security:12/oldstable-security [amd64])
"""


def test_kernels_pulled_apt():
    assert dp.kernels_pulled(APT_SIM, "apt", "6.1.0-40-amd64") == ["linux-image-6.1.0-41-amd64"]
    assert dp.kernels_pulled("Inst linux-headers-6.1.0-40-amd64 (x)", "apt", "6.1.0-40-amd64") == []


def test_kernels_pulled_dnf():
    sim = " kernel-core   x86_64   5.14.0-611.el9   baseos   18 M\n kernel-devel  x86_64  5.14.0-570.el9  appstream 20 M\n"
    assert dp.kernels_pulled(sim, "dnf", "5.14.0-570.el9.x86_64") == ["kernel-core-5.14.0-611.el9"]


@pytest.mark.parametrize("args, action", [
    # changed, loaded, installed, nouveau, container, control_node, reboot_ok
    ((True, None, "580.95.05", False, True, False, True), "none"),
    ((True, "580.95.05", "580.95.05", False, False, False, False), "none"),
    ((True, None, "580.95.05", False, False, False, False), "modprobe"),
    ((True, None, "580.95.05", True, False, False, True), "reboot"),
    ((True, "570.133.20", "580.95.05", False, False, False, True), "reboot"),
    ((True, "570.133.20", "580.95.05", False, False, False, False), "reboot_needed"),
    ((True, "570.133.20", "580.95.05", False, False, True, True), "reboot_needed"),
])
def test_reboot_decision(args, action):
    decision = dp.reboot_decision(*args)
    assert decision["action"] == action
    if args[5]:
        assert "control node" in decision["reason"]


def test_ubuntu_archive_keeps_the_branch_in_the_fabric_manager_name_from_590_on():
    assert plan("ubuntu2404", A100X8, branch="595")["fabricmanager"]["package"] == "nvidia-fabricmanager-595"
    assert plan("ubuntu2404", A100X8, branch="595", source="nvidia")["fabricmanager"]["package"] == "nvidia-fabricmanager"
