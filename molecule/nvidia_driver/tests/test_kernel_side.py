"""The kernel side in a container, for the node image's own kernel package (d-bookworm: Debian 12's proprietary
535 DKMS route): the module built for that kernel, and its initramfs rebuilt with the nouveau blacklist. Loading
the module and rebooting need a real machine (docs/nvidia-driver.md)."""

import json

import pytest

testinfra_hosts = ["d-bookworm"]


@pytest.fixture(scope="module")
def plan(host):
    return json.loads(host.file("/var/lib/onprem-llm/nvidia_driver/plan.json").content_string)


@pytest.fixture(scope="module")
def kernel(host):
    (release,) = host.check_output("ls /lib/modules").split()
    return release


def _upstream_version(host, package):
    # 535.309.01-0+deb12u1 -> 535.309.01
    return host.package(package).version.split("-")[0].split(":")[-1]


def test_plan_builds_for_the_image_kernel_not_the_running_one(host, plan, kernel):
    assert kernel != host.check_output("uname -r")
    assert (plan["container_mode"], plan["kernel_side"], plan["kernel"]) == (True, True, kernel)
    assert plan["kernel_packages"] == ["linux-headers-%s" % kernel]
    assert plan["kernel_module_packages"] == ["nvidia-kernel-dkms"]


def test_headers_and_dkms_package_installed(host, kernel):
    assert host.package("linux-headers-%s" % kernel).is_installed
    assert host.check_output("dpkg --get-selections nvidia-kernel-dkms").split()[-1] == "hold"


def test_module_vermagic_is_the_image_kernel(host, kernel):
    module = "/lib/modules/%s/updates/dkms/nvidia-current.ko" % kernel
    assert host.file(module).exists
    assert host.check_output("modinfo -F vermagic %s" % module).split()[0] == kernel
    assert host.check_output("modinfo -F version %s" % module) == _upstream_version(host, "nvidia-kernel-dkms")


def test_initramfs_of_that_kernel_carries_the_nouveau_blacklist(host, kernel):
    stamp = host.file("/var/lib/onprem-llm/nvidia_driver/initramfs.stamp").content_string
    assert stamp.startswith("rebuilt: update-initramfs -u -k %s " % kernel)
    listing = host.check_output("lsinitramfs /boot/initrd.img-%s" % kernel).splitlines()
    assert "etc/modprobe.d/onprem-llm-blacklist-nouveau.conf" in listing
