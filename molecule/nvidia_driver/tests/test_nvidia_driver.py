"""What the nvidia_driver and cuda roles leave on the Debian container nodes (container mode)."""

import json

import pytest

testinfra_hosts = ["d-bookworm", "d-trixie"]

DRIVER_PACKAGES = ["nvidia-smi", "nvidia-persistenced", "libcuda1", "libnvidia-ml1", "nvidia-kernel-support"]
BRANCH = {"d-bookworm": 535, "d-trixie": 550}
# T4 and A100 take the open modules, except on bookworm, whose open modules lag the userspace.
FLAVOUR = {"d-bookworm": "proprietary", "d-trixie": "open"}
MODULE_PACKAGE = {"proprietary": "nvidia-kernel-dkms", "open": "nvidia-open-kernel-dkms"}


def _plan(host):
    return json.loads(host.file("/var/lib/onprem-llm/nvidia_driver/plan.json").content_string)


@pytest.mark.parametrize("package", DRIVER_PACKAGES)
def test_driver_packages_installed_and_held(host, package):
    assert host.package(package).is_installed
    assert host.check_output("dpkg --get-selections %s" % package).split()[-1] == "hold"


def test_branch_from_debian_archive(host):
    plan = _plan(host)
    assert plan["branch"] == BRANCH[host.backend.hostname]
    assert host.package("nvidia-smi").version.startswith("%d." % plan["branch"])
    assert plan["flavour"] == FLAVOUR[host.backend.hostname]
    # The open modules' GSP firmware is userspace: installed (and held) in container mode too.
    gsp = host.package("firmware-nvidia-gsp")
    if plan["flavour"] == "open":
        assert gsp.is_installed
        assert host.check_output("dpkg --get-selections firmware-nvidia-gsp").split()[-1] == "hold"
    elif plan["kernel_side"]:
        # Debian 12's nvidia-kernel-dkms depends on firmware-nvidia-gsp at its own version.
        assert gsp.is_installed and gsp.version == host.package("nvidia-kernel-dkms").version
    else:
        assert not gsp.is_installed


def test_kernel_module_packages_skipped_in_container_mode_without_a_kernel(host):
    plan = _plan(host)
    assert plan["container_mode"] is True
    if host.backend.hostname == "d-bookworm":
        # Its image carries a kernel package: the kernel side is built (tests/test_kernel_side.py).
        assert (plan["kernel_side"], plan["skipped_packages"]) == (True, [])
        return
    assert plan["kernel_side"] is False
    assert plan["skipped_packages"] == [MODULE_PACKAGE[plan["flavour"]]]
    for name in ("nvidia-open-kernel-dkms", "nvidia-kernel-dkms", "dkms"):
        assert not host.package(name).is_installed


def test_components_and_pin(host):
    sources = host.file("/etc/apt/sources.list.d/onprem-llm-debian-nonfree.sources")
    assert sources.contains("^Components: contrib non-free$")
    pref = host.file("/etc/apt/preferences.d/onprem-llm-nvidia-driver.pref").content_string
    assert "Pin: version %d.*" % BRANCH[host.backend.hostname] in pref
    assert "nvidia-smi" in pref


def test_nouveau_blacklisted_and_initramfs_handler_ran(host):
    conf = host.file("/etc/modprobe.d/onprem-llm-blacklist-nouveau.conf")
    assert conf.contains("^blacklist nouveau$")
    assert conf.contains("^options nouveau modeset=0$")
    stamp = host.file("/var/lib/onprem-llm/nvidia_driver/initramfs.stamp").content_string
    if host.backend.hostname == "d-bookworm":
        # Rebuilt for the image's kernel (tests/test_kernel_side.py reads that initramfs).
        assert stamp.startswith("rebuilt: update-initramfs -u -k ")
    else:
        assert stamp.startswith("skipped: container mode")


def test_persistenced_enabled(host):
    assert host.service("nvidia-persistenced").is_enabled


def test_fabricmanager_only_planned_on_nvswitch(host):
    fm = _plan(host)["fabricmanager"]
    if host.backend.hostname == "d-trixie":
        assert (fm["needed"], fm["install"], fm["available"]) == (True, False, False)
        assert "nvidia-fabricmanager" in fm["reason"]
    else:
        assert (fm["needed"], fm["install"]) == (False, False)
    # dpkg-query exits 1 when no package matches the pattern: none was ever known to dpkg.
    query = host.run("dpkg-query -W -f='${Package}\\n' 'nvidia-fabric*'")
    assert query.rc == 1 and not query.stdout.strip(), query.stdout


def test_cuda_runtime_and_paths(host):
    lib = {"d-bookworm": "libcudart11.0", "d-trixie": "libcudart12"}[host.backend.hostname]
    assert host.package(lib).is_installed
    assert host.file("/etc/profile.d/onprem-llm-cuda.sh").exists
    assert host.file("/etc/ld.so.conf.d/onprem-llm-cuda.conf").exists
    assert "libcudart.so" in host.check_output("ldconfig -p")
