"""What the nvidia_driver and cuda roles leave on the Ubuntu 22.04 and 24.04 container nodes (container mode):
the headless -server driver of the branch Ubuntu's kernel-flavour meta packages follow, held; fabric manager at
the driver's exact version on the NVSwitch double only; CUDA's runtime from the archive. The kernel side:
test_ubuntu_kernel_update.py."""

import json

import pytest

testinfra_hosts = ["u-jammy", "u-noble"]

BRANCH = 580
USERSPACE = ["nvidia-headless-no-dkms-580-server-open", "nvidia-utils-580-server", "nvidia-compute-utils-580-server"]
CUDART = {"u-jammy": ("libcudart11.0", "11.5."), "u-noble": ("libcudart12", "12.0.")}


@pytest.fixture(scope="module")
def plan(host):
    return json.loads(host.file("/var/lib/onprem-llm/nvidia_driver/plan.json").content_string)


def _upstream(host, package):
    # 580.95.05-0ubuntu0.24.04.2 -> 580.95.05
    return host.package(package).version.split("-")[0].split(":")[-1]


def test_plan_is_the_archives_server_branch(plan):
    assert (plan["source"], plan["branch"], plan["flavour"]) == ("distro", BRANCH, "open")
    assert plan["container_mode"] is True


@pytest.mark.parametrize("package", USERSPACE)
def test_headless_server_packages_installed_and_held(host, package):
    assert host.package(package).is_installed
    assert host.check_output("dpkg --get-selections %s" % package).split()[-1] == "hold"
    assert _upstream(host, package).startswith("%d." % BRANCH)


def test_no_desktop_driver_and_no_dkms(host, plan):
    # The kernel side is the prebuilt module of the node's kernel (test_ubuntu_kernel_update.py).
    assert plan["skipped_packages"] == []
    for name in ("nvidia-driver-%d-server" % BRANCH, "nvidia-dkms-%d-server-open" % BRANCH, "xserver-xorg-core"):
        assert not host.package(name).is_installed


def test_fabricmanager_only_on_nvswitch_at_the_drivers_version(host, plan):
    fm = plan["fabricmanager"]
    # dpkg-query exits 1 when no package matches the pattern at all.
    query = host.run("dpkg-query -W -f='${Package} ${Status}\\n' 'nvidia-fabricmanager*'")
    assert query.rc in (0, 1), query.stderr
    installed = str(sum(1 for line in query.stdout.splitlines() if line.endswith(" installed")))
    if host.backend.hostname == "u-noble":
        assert (fm["needed"], fm["install"], fm["package"]) == (True, True, "nvidia-fabricmanager-%d" % BRANCH)
        assert _upstream(host, fm["package"]) == _upstream(host, "nvidia-utils-%d-server" % BRANCH)
        assert host.check_output("dpkg --get-selections %s" % fm["package"]).split()[-1] == "hold"
        assert installed == "1"
    else:
        assert (fm["needed"], fm["install"]) == (False, False)
        assert installed == "0"


def test_nouveau_blacklisted(host):
    conf = host.file("/etc/modprobe.d/onprem-llm-blacklist-nouveau.conf")
    assert conf.contains("^blacklist nouveau$")


def test_cuda_runtime_from_the_archive(host):
    package, version = CUDART[host.backend.hostname]
    assert host.package(package).is_installed
    assert host.package(package).version.startswith(version)
    assert "libcudart.so" in host.check_output("ldconfig -p")
