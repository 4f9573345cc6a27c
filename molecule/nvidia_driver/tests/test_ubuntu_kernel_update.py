"""The kernel side on the Ubuntu nodes, for the kernel each carries (linux-image-virtual, prepare.yml): Ubuntu's
prebuilt, Canonical-signed NVIDIA module of that kernel held with the driver, and the kernel-flavour meta
package that follows kernel updates left unheld; then a kernel update done with apt alone (side_effect.yml)
brought the next kernel's module, at the driver's version, without running the collection again."""

import json

import pytest

testinfra_hosts = ["u-jammy", "u-noble"]

META = "linux-modules-nvidia-580-server-open-generic"


@pytest.fixture(scope="module")
def plan(host):
    return json.loads(host.file("/var/lib/onprem-llm/nvidia_driver/plan.json").content_string)


@pytest.fixture(scope="module")
def kernels(host, plan):
    """(the kernel the role ran for, the one the update brought)."""
    # A kernel's directory has its modules.dep; the NVIDIA module packages also ship an empty
    # /lib/modules/kernel/nvidia-580srv-open.
    installed = [path.split("/")[3] for path in host.check_output("ls /lib/modules/*/modules.dep").split()]
    newer = [release for release in installed if release != plan["kernel"]]
    assert plan["kernel"] in installed and len(newer) == 1, installed
    return plan["kernel"], newer[0]


def _selection(host, package):
    return host.check_output("dpkg --get-selections %s" % package).split()[-1]


def _module(kernel):
    return "/lib/modules/%s/kernel/nvidia-580srv-open/nvidia.ko" % kernel


def test_plan_takes_the_prebuilt_module_of_the_nodes_kernel_and_its_meta_package(host, plan, kernels):
    old, _new = kernels
    assert old != host.check_output("uname -r")
    assert (plan["container_mode"], plan["kernel_side"], plan["needs_dkms"], plan["signed_modules"]) == (
        True, True, False, True)
    assert plan["kernel_module_packages"] == ["linux-modules-nvidia-580-server-open-%s" % old, META]
    assert plan["kernel_follow_packages"] == [META]
    assert plan["kernel_packages"] == [] and plan["skipped_packages"] == []


def test_the_kernels_module_is_held_and_the_meta_package_is_not(host, kernels):
    old, _new = kernels
    assert _selection(host, "linux-modules-nvidia-580-server-open-%s" % old) == "hold"
    assert _selection(host, META) == "install"
    assert not host.package("nvidia-dkms-580-server-open").is_installed


def test_kernel_update_installed_the_next_kernel_and_its_module(host, kernels):
    _old, new = kernels
    report = host.file("/var/lib/onprem-lab-kernel-update.log").content_string
    assert "linux-modules-nvidia-580-server-open-%s" % new in report
    assert host.package("linux-image-%s" % new).is_installed
    assert host.package("linux-modules-nvidia-580-server-open-%s" % new).is_installed
    # The meta package now depends on the new kernel's module.
    depends = host.check_output("dpkg-query -W -f='${Depends}' %s" % META)
    assert "linux-modules-nvidia-580-server-open-%s " % new in depends


@pytest.mark.parametrize("which", [0, 1], ids=["node-kernel", "updated-kernel"])
def test_module_is_built_for_its_kernel_at_the_drivers_version_and_signed_by_canonical(host, kernels, which):
    kernel = kernels[which]
    module = _module(kernel)
    assert host.file(module).exists
    assert host.check_output("modinfo -F vermagic %s" % module).split()[0] == kernel
    driver = host.package("nvidia-utils-580-server").version.split("-")[0]
    assert host.check_output("modinfo -F version %s" % module) == driver
    assert host.check_output("modinfo -F signer %s" % module) == "Canonical Ltd. Kernel Module Signing"
    # depmod ran for it: modprobe on that kernel would find the module by name.
    assert "kernel/nvidia-580srv-open/nvidia.ko:" in host.file("/lib/modules/%s/modules.dep" % kernel).content_string


def test_driver_userspace_stays_held_through_the_kernel_update(host, plan):
    for package in plan["userspace_packages"]:
        assert _selection(host, package) == "hold"
    report = host.file("/var/lib/onprem-lab-kernel-update.log").content_string
    assert "nvidia-utils-580-server" not in report


@pytest.mark.parametrize("which", [0, 1], ids=["node-kernel", "updated-kernel"])
def test_initramfs_of_each_kernel_carries_the_nouveau_blacklist(host, kernels, which):
    listing = host.check_output("lsinitramfs /boot/initrd.img-%s" % kernels[which]).splitlines()
    assert "etc/modprobe.d/onprem-llm-blacklist-nouveau.conf" in listing
