# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan CUDA toolkit installs: toolkit-only packages, several versions side by side, one default.

Never a ``cuda`` / ``cuda-X-Y`` metapackage (they pull a driver). NVIDIA's repository installs
each version under ``/usr/local/cuda-X.Y``; the default is the ``/usr/local/cuda`` symlink.
Debian's and Ubuntu's own archives have one CUDA per release (bookworm 11.8, trixie 12.4, jammy
11.5, noble 12.0; ``nvidia-cuda-toolkit`` and ``libcudart*`` in Ubuntu's multiverse) under ``/usr``.
"""

from __future__ import absolute_import, division, print_function

import re

from ansible_collections.onprem.llm.plugins.module_utils.nvidia.driver_plan import (
    EL_NAMES, PlanError, distro_key)
from ansible_collections.onprem.llm.plugins.module_utils.versions import version_at_least
from ansible_collections.onprem.llm.plugins.module_utils.gpu.catalog import is_datacenter_gpu

__metaclass__ = type

PROFILES = ("toolkit", "runtime")
# CUDA major -> minimum driver (NVIDIA's minor-version compatibility).
DRIVER_FLOOR = {11: "450.80.02", 12: "525.60.13", 13: "580"}
# The archive's CUDA per release (family, release): its version and runtime library package. Ubuntu's
# are checked against the archive index in tests/unit/.../test_ubuntu_archive.py.
DISTRO_CUDA = {
    ("Debian", "12"): ("11.8", "libcudart11.0"),
    ("Debian", "13"): ("12.4", "libcudart12"),
    ("Ubuntu", "22.04"): ("11.5", "libcudart11.0"),
    ("Ubuntu", "24.04"): ("12.0", "libcudart12"),
}
_FORBIDDEN_RE = re.compile(r"^(cuda|cuda-\d+-\d+|cuda-drivers.*|nvidia-open.*|cuda-runtime-\d+-\d+)$")


def cuda_version(text):
    text = str(text).strip()
    if not re.match(r"^\d{2}\.\d$", text):
        raise PlanError("CUDA versions are major.minor such as 12.8 or 13.0 (got %r)." % text)
    return text


def forbidden_packages(names):
    """Packages that would pull a driver in: the caller refuses them."""
    return sorted(n for n in names if _FORBIDDEN_RE.match(n))


# Long on purpose: the CUDA source decision per distribution reads as one table; split up, the cases would hide each
# other.
def plan_cuda(host, gpu_facts, options):
    """``options``: versions (list), default, source (auto|nvidia|distro|local), profile
    (toolkit|runtime), compat (bool), driver_version (installed/planned driver), extra_packages."""
    family_name, release = distro_key(host.get("distribution"), host.get("distribution_major_version"),
                                      host.get("distribution_version"))
    source = options.get("source") or "auto"
    profile = options.get("profile") or "toolkit"
    if profile not in PROFILES:
        raise PlanError("cuda_profile must be toolkit or runtime (got %r)." % profile)
    versions = [cuda_version(v) for v in (options.get("versions") or [])]
    if source == "auto":
        # Debian: its archive (NVIDIA's repository only when asked). Ubuntu: its archive when no
        # version or the archive's own is asked for, NVIDIA's repository for any other.
        archive = DISTRO_CUDA.get((family_name, release))
        if family_name == "Debian" or (family_name == "Ubuntu" and archive and versions in ([], [archive[0]])):
            source = "distro"
        else:
            source = "nvidia"
    runtime_package = None
    if source == "distro":
        if (family_name, release) not in DISTRO_CUDA:
            raise PlanError("Only the archives of Debian 12/13 and Ubuntu 22.04/24.04 are used as a CUDA source "
                            "here; on %s %s set cuda_source=nvidia." % (family_name, release))
        shipped, runtime_package = DISTRO_CUDA[(family_name, release)]
        if not versions:
            versions = [shipped]
        if versions != [shipped]:
            raise PlanError("%s %s's archive ships CUDA %s only (requested %s); use cuda_source=nvidia "
                            "for other or several versions." % (family_name, release, shipped, ", ".join(versions)))
    if not versions:
        raise PlanError("cuda_versions is empty: name at least one CUDA version such as 12.8.")
    if len(set(versions)) != len(versions):
        raise PlanError("cuda_versions lists a version twice: %s." % ", ".join(versions))
    default = cuda_version(options.get("default") or versions[-1]) if (options.get("default") or versions) else None
    if default not in versions:
        raise PlanError("cuda_default_version %s is not in cuda_versions (%s)." % (default, ", ".join(versions)))
    extra = list(options.get("extra_packages") or [])
    bad = forbidden_packages(extra)
    if bad:
        raise PlanError("%s would pull an NVIDIA driver in; the cuda role installs toolkit packages only "
                        "(the nvidia_driver role owns the driver)." % ", ".join(bad))

    gpus = (gpu_facts or {}).get("gpus") or []
    datacenter = bool(gpus) and all(is_datacenter_gpu(g.get("name")) for g in gpus)
    driver = options.get("driver_version") or (gpu_facts or {}).get("driver_version")
    entries = []
    for ver in versions:
        major, minor = ver.split(".")
        dashed = "%s-%s" % (major, minor)
        if source == "distro":
            packages = ["nvidia-cuda-toolkit"] if profile == "toolkit" else [runtime_package]
            home = "/usr/lib/nvidia-cuda-toolkit" if profile == "toolkit" else "/usr"
            lib_dir = "/usr/lib/x86_64-linux-gnu"
        else:
            packages = ["cuda-toolkit-%s" % dashed] if profile == "toolkit" else ["cuda-cudart-%s" % dashed]
            home = "/usr/local/cuda-%s" % ver
            lib_dir = home + "/lib64"
        entry = {"version": ver, "packages": packages, "home": home, "lib_dir": lib_dir,
                 "nvcc": (home + "/bin/nvcc") if source != "distro" else "/usr/bin/nvcc",
                 "check_nvcc": profile == "toolkit", "compat_package": None, "driver_ok": None}
        floor = DRIVER_FLOOR.get(int(major))
        if driver and floor:
            entry["driver_ok"] = version_at_least(driver, floor)
            if not entry["driver_ok"]:
                if options.get("compat") and datacenter and source != "distro":
                    entry["compat_package"] = "cuda-compat-%s" % dashed
                    entry["driver_ok"] = True
                elif options.get("compat") and not datacenter:
                    raise PlanError("CUDA %s needs driver >= %s (have %s); forward compatibility (cuda-compat) "
                                    "works on data-center GPUs only." % (ver, floor, driver))
                else:
                    raise PlanError("CUDA %s needs driver >= %s (have %s). Upgrade the driver branch or, on "
                                    "data-center GPUs, set cuda_compat=true." % (ver, floor, driver))
        elif options.get("compat") and datacenter and source != "distro":
            entry["compat_package"] = "cuda-compat-%s" % dashed
        entries.append(entry)
    default_entry = [e for e in entries if e["version"] == default][0]
    return {
        "family": "dnf" if family_name in EL_NAMES or family_name == "RedHat" else "apt",
        "source": source, "profile": profile, "versions": entries, "default": default,
        "default_home": default_entry["home"],
        "symlink": "/usr/local/cuda" if source != "distro" else None,
        "packages": sorted(set(p for e in entries for p in e["packages"]) | set(extra)),
        "compat_packages": sorted(e["compat_package"] for e in entries if e["compat_package"]),
        "datacenter": datacenter,
    }
