"""The kernel side in a container, for the node image's own kernel package (d-bookworm: Debian 12's proprietary
535 DKMS route): the module built for that kernel and, with Secure Boot reported (the mokutil double), signed
with the role's key once it was enrolled (prepare.yml ran the refusal before); its initramfs rebuilt with the
nouveau blacklist. Loading the module, the reboot and MOK enrolment at the console need a real machine
(docs/nvidia-driver.md)."""

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


def test_module_is_signed_with_the_roles_enrolled_key(host, plan, kernel):
    assert plan["secure_boot"]["route"] == "mok"
    module = "/lib/modules/%s/updates/dkms/nvidia-current.ko" % kernel
    assert host.check_output("modinfo -F signer %s" % module) == "onprem.llm module signing key (d-bookworm)"
    # The signature names that certificate: its serial number (sign-file's default, issuer and serial) or,
    # signed with -k, its subject key identifier.
    cert = "openssl x509 -inform DER -noout %s -in /var/lib/dkms/mok.pub"
    serial = host.check_output(cert % "-serial").split("=", 1)[1]
    skid = host.check_output(cert % "-ext subjectKeyIdentifier").splitlines()[-1]
    ids = set(value.replace(":", "").strip().upper().lstrip("0") for value in (serial, skid))
    assert host.check_output("modinfo -F sig_key %s" % module).replace(":", "").upper().lstrip("0") in ids
    conf = host.file("/etc/dkms/framework.conf.d/onprem-llm-mok.conf").content_string
    assert "mok_signing_key=/var/lib/dkms/mok.key\n" in conf and "mok_certificate=/var/lib/dkms/mok.pub\n" in conf
    assert "is already enrolled" in host.check_output("mokutil --test-key /var/lib/dkms/mok.pub")
