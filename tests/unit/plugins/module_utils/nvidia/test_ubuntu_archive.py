# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The driver planner's Ubuntu tables and package names against Ubuntu's real archive.

The amd64 package indexes of jammy and noble (release, -updates and -security pockets; main,
restricted and multiverse) are fetched from archive.ubuntu.com once per machine and cached under
.cache/ubuntu-archive/ (ONPREM_UBUNTU_MIRROR points elsewhere). For every branch from 535 to 595,
both flavours and the GA and HWE kernels the archive ships now: a branch the planner accepts gets
package names that all exist; a branch it refuses lacks the -server userspace; the branches it
plans with prebuilt modules have kernel-flavour meta packages that follow the current kernel, and
the others do not (transitional to another branch, or stuck at an older kernel).
"""

from __future__ import annotations

import lzma
import os
import re
import urllib.request
from pathlib import Path

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.nvidia import cuda_plan
from ansible_collections.onprem.llm.plugins.module_utils.nvidia import driver_plan as dp
from ansible_collections.onprem.llm.plugins.module_utils.vllm import support_matrix
from nvidia_hosts import gpus

ROOT = Path(__file__).resolve().parents[5]
MIRROR = os.environ.get("ONPREM_UBUNTU_MIRROR", "http://archive.ubuntu.com/ubuntu")
CACHE = ROOT / ".cache" / "ubuntu-archive"
RELEASES = {"22.04": "jammy", "24.04": "noble"}
BRANCHES = range(535, 600, 5)
T4, H100X8 = gpus("turing"), gpus(*["hopper"] * 8, nvswitch=True)


def _index(codename):
    """Package name -> list of {Version, Depends} over the pockets and components."""
    out = {}
    for pocket in ("", "-updates", "-security"):
        for component in ("main", "restricted", "multiverse"):
            name = "%s%s-%s-amd64.xz" % (codename, pocket, component)
            path = CACHE / name
            if not path.exists():
                CACHE.mkdir(parents=True, exist_ok=True)
                url = "%s/dists/%s%s/%s/binary-amd64/Packages.xz" % (MIRROR, codename, pocket, component)
                with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 (a fixed https/http mirror)
                    data = response.read()
                tmp = path.with_suffix(".part")
                tmp.write_bytes(data)
                tmp.replace(path)
            text = lzma.decompress(path.read_bytes()).decode("utf-8", "replace")
            for para in text.split("\n\n"):
                fields = dict(re.findall(r"^([A-Za-z-]+): (.*)$", para, re.M))
                if "Package" in fields:
                    out.setdefault(fields["Package"], []).append(fields)
    return out


@pytest.fixture(scope="module", params=sorted(RELEASES))
def archive(request):
    return request.param, _index(RELEASES[request.param])


def _newest(index, name):
    entries = index.get(name) or []
    return max(entries, key=lambda e: [int(x) for x in re.findall(r"\d+", e["Version"])]) if entries else None


def _current_kernel(index, meta):
    """linux-image-<meta> (e.g. generic, generic-hwe-22.04) -> the kernel release it installs now."""
    match = re.search(r"linux-image-(\d+\.\d+\.\d+-\d+-generic)", _newest(index, "linux-image-" + meta)["Depends"])
    return match.group(1)


def _kernels(release, index):
    return [_current_kernel(index, "generic"), _current_kernel(index, "generic-hwe-" + release)]


def _host(release, kernel):
    return {"distribution": "Ubuntu", "distribution_major_version": release[:2], "distribution_version": release,
            "architecture": "x86_64", "kernel": kernel}


def test_the_kernels_are_the_ga_and_an_hwe_series(archive):
    release, index = archive
    ga, hwe = _kernels(release, index)
    assert ga.startswith(dp.UBUNTU_GA_KERNEL[release] + ".")
    assert not hwe.startswith(dp.UBUNTU_GA_KERNEL[release] + ".")


@pytest.mark.parametrize("branch", BRANCHES)
def test_the_server_branches_table_is_the_archive(archive, branch):
    release, index = archive
    has_server = all(name in index for name in (
        "nvidia-headless-no-dkms-%d-server" % branch, "nvidia-headless-no-dkms-%d-server-open" % branch,
        "nvidia-utils-%d-server" % branch, "nvidia-compute-utils-%d-server" % branch,
        "nvidia-dkms-%d-server" % branch, "nvidia-dkms-%d-server-open" % branch))
    assert (branch in dp.UBUNTU_SERVER_BRANCHES[release]) == has_server


@pytest.mark.parametrize("branch", BRANCHES)
def test_the_prebuilt_table_is_the_archive(archive, branch):
    """A branch is planned with prebuilt modules exactly when each of its kernel-flavour meta packages
    depends on this branch's module package of the kernel the archive installs now."""
    release, index = archive
    follows = []
    for suffix in ("-server", "-server-open"):
        for meta, kernel in zip(("generic", "generic-hwe-" + release), _kernels(release, index)):
            entry = _newest(index, "linux-modules-nvidia-%d%s-%s" % (branch, suffix, meta))
            wanted = "linux-modules-nvidia-%d%s-%s" % (branch, suffix, kernel)
            follows.append(entry is not None and re.search(r"(^|[ ,])%s( |,|$)" % re.escape(wanted),
                                                           entry.get("Depends", "")) is not None)
    assert (branch in dp.UBUNTU_PREBUILT_BRANCHES[release]) == all(follows), follows


@pytest.mark.parametrize("branch", BRANCHES)
@pytest.mark.parametrize("gpu", [T4, H100X8], ids=["t4", "h100x8-nvswitch"])
@pytest.mark.parametrize("flavour", ["open", "proprietary"])
def test_every_package_the_planner_names_exists(archive, branch, gpu, flavour):
    release, index = archive
    for kernel in _kernels(release, index):
        options = {"branch": str(branch), "flavour": flavour, "source": "distro"}
        if branch not in dp.UBUNTU_SERVER_BRANCHES[release]:
            with pytest.raises(dp.PlanError, match="has no headless -server driver for branch %d" % branch):
                dp.plan_driver(_host(release, kernel), gpu, options)
            continue
        plan = dp.plan_driver(_host(release, kernel), gpu, options)
        names = plan["install_packages"] + plan["kernel_packages"]
        if plan["fabricmanager"]["install"]:
            names.append(plan["fabricmanager"]["package"])
        assert [n for n in names if n not in index] == [], (release, kernel, branch, flavour)


def test_the_vllm_support_matrix_has_the_archives_python_and_glibc(archive):
    # The OS rows of docs/vllm-compatibility.md pick locks by the distribution's python3 and libc6.
    release, index = archive
    (target,) = [t for t in support_matrix.OS_TARGETS if t["os"] == "Ubuntu " + release]
    python = re.match(r"(\d+\.\d+)", _newest(index, "python3")["Version"]).group(1)
    glibc = re.match(r"(\d+\.\d+)", _newest(index, "libc6")["Version"]).group(1)
    assert (target["python"], target["glibc"]) == (python, glibc)


def test_the_cuda_planner_has_the_archives_cuda(archive):
    # nvidia-cuda-toolkit's version is the CUDA it ships (11.5.1-1ubuntu1, 12.0.140~12.0.1-4build4);
    # the runtime profile's library package exists at that CUDA.
    release, index = archive
    host = {"distribution": "Ubuntu", "distribution_major_version": release[:2], "distribution_version": release}
    plan = cuda_plan.plan_cuda(host, {}, {})
    toolkit = _newest(index, "nvidia-cuda-toolkit")["Version"]
    assert re.match(r"^(\d+:)?%s\." % re.escape(plan["default"]), toolkit), toolkit
    (runtime,) = cuda_plan.plan_cuda(host, {}, {"profile": "runtime"})["packages"]
    assert _newest(index, runtime)["Version"].startswith(plan["default"] + "."), runtime


def test_the_vllm_roles_packages_exist_on_ubuntu(archive):
    # vars/Debian.yml serves Ubuntu too: the compiler and headers torch needs at run time, the CA
    # store and the CPU build's libnuma come from main. python3-venv is in universe, which this
    # index leaves out (Ubuntu enables universe by default).
    import yaml

    release, index = archive
    data = yaml.safe_load((ROOT / "roles" / "vllm" / "vars" / "Debian.yml").read_text())
    names = [name for name in data["__vllm_os_packages"] + data["__vllm_cpu_os_packages"] if name != "python3-venv"]
    assert {"g++", "python3-dev", "libnuma1", "ca-certificates"} <= set(names)
    assert [name for name in names if name not in index] == [], release
