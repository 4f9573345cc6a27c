# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan an NVIDIA driver install: branch x distro x GPU generation -> sources, packages, holds.

Pure functions, no I/O. ``plan_driver`` returns a dict the role (through the
``onprem.llm.nvidia_driver_plan`` module) executes step by step, or raises ``PlanError`` with a
sentence saying what is wrong and what to set instead. Facts used (NVIDIA's driver installation
guide, Debian and Ubuntu archives, docs/nvidia-driver.md):

- R580 is the last branch for Maxwell, Pascal and Volta; R470 the last for Kepler.
- Open kernel modules drive Turing and newer only and are required for Grace Hopper and Blackwell;
  a host mixing pre-Turing and Blackwell GPUs cannot be driven by one flavour.
- Debian's own archive ships one branch per release (bookworm 535, trixie 550); Ubuntu ships
  ``-server`` branches with Canonical-signed prebuilt modules (the Secure Boot route without MOK).
- NVIDIA's CUDA repository: ``cuda-keyring`` owns the keyring and the one sources entry; branches
  <= 580 carry the branch in package names, >= 590 use ``nvidia-driver-pinning-<branch>``.
- RHEL 8/9 pin the branch with a ``nvidia-driver:<branch>-open|-dkms`` module stream; RHEL 10 has
  no streams and uses ``dnf versionlock``.
"""

from __future__ import absolute_import, division, print_function

import re

from ansible_collections.onprem.llm.plugins.module_utils.versions import is_version, version_tuple

__metaclass__ = type


class PlanError(Exception):
    """The requested driver cannot be planned for this host; the message says why and what to do."""


FLAVOURS = ("auto", "open", "proprietary")
SOURCES = ("auto", "nvidia", "distro", "local")
SECURE_BOOT_POLICIES = ("auto", "signed", "mok", "stop")

CUDA_REPO_BASE = "https://developer.download.nvidia.com/compute/cuda/repos"
CUDA_KEYRING_FILE = "cuda-keyring_1.1-1_all.deb"
CUDA_KEYRING_PATH = "/usr/share/keyrings/cuda-archive-keyring.gpg"
CUDA_PIN_FILE = "/etc/apt/preferences.d/cuda-repository-pin-600"
RHEL_CUDA_GPG_KEY_ID = "D42D0685"
CONTAINER_TOOLKIT_BASE = "https://nvidia.github.io/libnvidia-container"
DEBIAN_MIRROR = "http://deb.debian.org/debian"

# Newest branch that still drives each legacy generation; None: every current branch does.
MAX_BRANCH_BY_ARCH = {"kepler": 470, "maxwell": 580, "pascal": 580, "volta": 580}
# Generations for which only the open kernel modules exist.
OPEN_REQUIRED_ARCHS = ("blackwell",)
OPEN_CAPABLE_ARCHS = ("turing", "ampere", "ada", "hopper", "blackwell")
LEGACY_ARCHS = ("kepler", "maxwell", "pascal", "volta")
# First branch with open kernel modules at all (R515), and default-open since R560.
FIRST_OPEN_BRANCH = 515
FIRST_UNVERSIONED_NAMES_BRANCH = 590
DEFAULT_BRANCH = 580

# Debian's own archive: one branch per release (non-free + contrib).
DEBIAN_BRANCH = {"12": 535, "13": 550}
DEBIAN_CODENAME = {"12": "bookworm", "13": "trixie"}
# Releases whose open kernel modules (src:nvidia-open-gpu-kernel-modules) lag the driver's userspace:
# bookworm has nvidia-open-kernel-dkms 535.261.03 (needing firmware-nvidia-gsp of that version) next
# to the 535.309.01 userspace, so apt cannot install the open set. flavour auto takes the
# proprietary modules there (Debian's own default, and they drive Turing to Hopper on 535 too).
DEBIAN_OPEN_LAGS = ("12",)
UBUNTU_CODENAME = {"22.04": "jammy", "24.04": "noble"}
# Ubuntu's archive (release, -updates and -security pockets; restricted and multiverse), read from
# its package indexes and checked against them by tests/unit/plugins/module_utils/nvidia/
# test_ubuntu_archive.py:
# - branches with the headless -server userspace (nvidia-headless-no-dkms-<b>-server[-open],
#   nvidia-utils-<b>-server, nvidia-compute-utils-<b>-server) and DKMS (nvidia-dkms-<b>-server[-open]);
UBUNTU_SERVER_BRANCHES = {"22.04": (535, 550, 565, 570, 575, 580, 590, 595),
                          "24.04": (535, 550, 565, 570, 575, 580, 590, 595)}
# - branches whose kernel-flavour meta packages of Canonical-signed prebuilt modules
#   (linux-modules-nvidia-<b>-server[-open]-<flavour>) follow the current kernel; the others' are
#   transitional to a newer branch or stay at the release kernel, so those branches take DKMS;
UBUNTU_PREBUILT_BRANCHES = {"22.04": (580, 595), "24.04": (580, 595)}
# - the kernel series of each release's GA kernel (newer series are its HWE kernels, whose meta
#   packages end in -hwe-<release>), and the kernel flavours planned with prebuilt modules (generic
#   on amd64, the index the tests can read; other flavours, such as arm64's generic-64k, take DKMS).
UBUNTU_GA_KERNEL = {"22.04": "5.15", "24.04": "6.8"}
UBUNTU_PREBUILT_FLAVOURS = ("generic",)
_UBUNTU_KERNEL_RE = re.compile(r"^(?P<series>\d+\.\d+)\.\d+-\d+-(?P<flavour>[a-z0-9-]+)$")
SUPPORTED = {
    "Debian": ("12", "13"),
    "Ubuntu": ("22.04", "24.04"),
    "RedHat": ("8", "9", "10"),
}
EL_NAMES = ("RedHat", "Rocky", "AlmaLinux", "CentOS")

# Packages that make up "the driver" (any branch), for hold / branch-change / version detection.
_DRIVER_PACKAGE_RE = re.compile(
    r"^(nvidia-(smi|persistenced|kernel-dkms|open-kernel-dkms|kernel-support|open-kernel-support|alternative|"
    r"driver.*|open(-\d+)?|dkms.*|utils.*|compute-utils.*|headless.*|kernel-source.*|kernel-open.*|"
    r"fabricmanager.*|fabric-manager.*|legacy-check|modprobe|settings.*)|libnvidia-.*|libcuda1|"
    r"firmware-nvidia-gsp|cuda-drivers.*|linux-modules-nvidia-.*|kmod-nvidia.*|nvidia-driver-pinning-.*|"
    r"libnvidia-nscq.*)$")
# Where the installed driver version is read from, first match wins.
_VERSION_MARKERS = (
    "nvidia-smi", "libcuda1", "nvidia-driver-cuda", "nvidia-driver-libs", "libnvidia-ml1",
    "nvidia-driver",
)
_VERSION_MARKER_RE = re.compile(r"^(nvidia-utils-\d+(-server)?|libnvidia-compute-\d+(-server)?|libnvidia-compute)$")
# Packages whose version is not a driver version (tool packages with their own numbering).
_NOT_DRIVER_VERSIONED = ("nvidia-installer-cleanup", "nvidia-kernel-common", "nvidia-modprobe",
                         "nvidia-settings", "nvidia-driver-pinning")


def distro_key(distribution, major, version=None):
    """('Ubuntu', '24', '24.04') -> ('ubuntu', '24.04'); EL rebuilds count as RedHat."""
    if distribution in EL_NAMES:
        return "RedHat", str(major)
    if distribution == "Ubuntu":
        return "Ubuntu", str(version or "")
    if distribution == "Debian":
        return "Debian", str(major)
    return distribution, str(version or major)


def repo_distro(family_name, release):
    """NVIDIA's repository directory: debian12, ubuntu2404, rhel9."""
    if family_name == "RedHat":
        return "rhel%s" % release
    if family_name == "Ubuntu":
        return "ubuntu%s" % release.replace(".", "")
    return "debian%s" % release


def repo_arch(architecture, family_name):
    """x86_64 -> x86_64; aarch64/arm64 -> sbsa (the arm64 path is Jetson only)."""
    if architecture in ("aarch64", "arm64", "sbsa"):
        return "sbsa"
    if architecture in ("x86_64", "amd64"):
        return "x86_64"
    raise PlanError("Architecture %r has no NVIDIA data-center driver repository (x86_64 and aarch64 only)."
                    % architecture)


def deb_arch(architecture):
    return "arm64" if architecture in ("aarch64", "arm64", "sbsa") else "amd64"


def upstream_version(package_version):
    """'3:570.133.20-1.el9' / '535.309.01-0+deb12u1' -> '570.133.20' / '535.309.01'; else None."""
    if not package_version:
        return None
    text = str(package_version)
    if ":" in text:
        text = text.split(":", 1)[1]
    text = text.split("-", 1)[0]
    match = re.match(r"^(\d{3}(\.\d+){1,2})", text)
    return match.group(1) if match else None


def branch_of(version):
    return version_tuple(version)[0]


def installed_driver(packages):
    """What the package manager says is installed.

    ``packages`` is ``ansible_facts.packages`` (name -> list of {version, ...}) or a plain
    name -> version mapping. Returns {version, branch, packages: {name: upstream version}}.
    """
    found = {}
    for name, entries in (packages or {}).items():
        if not _DRIVER_PACKAGE_RE.match(name) or name.startswith(_NOT_DRIVER_VERSIONED):
            continue
        if isinstance(entries, list):
            entries = entries[0] if entries else {}
        version = entries.get("version") if isinstance(entries, dict) else entries
        if isinstance(entries, dict) and entries.get("release") and "-" not in str(version):
            version = "%s-%s" % (version, entries["release"])
        upstream = upstream_version(version)
        if upstream:
            found[name] = upstream
    version = None
    for name in _VERSION_MARKERS:
        if name in found:
            version = found[name]
            break
    if version is None:
        for name in sorted(found):
            if _VERSION_MARKER_RE.match(name):
                version = found[name]
                break
    if version is None and found:
        version = sorted(found.values(), key=version_tuple)[-1]
    return {"version": version, "branch": branch_of(version) if version else None, "packages": found}


def gpu_generations(gpu_facts):
    """Sorted distinct architectures of the host's GPUs ('unknown' for unplaced ones)."""
    gpus = (gpu_facts or {}).get("gpus") or []
    return sorted(set(((g.get("architecture") or "unknown").lower().split() or ["unknown"])[0] for g in gpus))


def choose_flavour(requested, archs, branch, open_unusable=None):
    """(flavour, reason). Raises PlanError when no flavour can drive every GPU.

    ``open_unusable``: why the package source's open modules cannot be installed (None: they can);
    auto then takes the proprietary modules wherever those drive every GPU.
    """
    legacy = [a for a in archs if a in LEGACY_ARCHS]
    must_open = [a for a in archs if a in OPEN_REQUIRED_ARCHS]
    if legacy and must_open:
        raise PlanError(
            "This host mixes %s GPUs (proprietary kernel modules only) with %s GPUs (open kernel "
            "modules only); no single driver flavour drives both. Split the GPUs across hosts."
            % ("/".join(legacy), "/".join(must_open)))
    if requested == "open":
        if legacy:
            raise PlanError("nvidia_driver_flavour=open cannot drive %s GPUs: the open kernel modules "
                            "support Turing and newer only. Use flavour auto or proprietary."
                            % "/".join(legacy))
        if branch < FIRST_OPEN_BRANCH:
            raise PlanError("Branch %d has no open kernel modules (first with R%d)." % (branch, FIRST_OPEN_BRANCH))
        return "open", "requested"
    if requested == "proprietary":
        if must_open:
            raise PlanError("nvidia_driver_flavour=proprietary cannot drive %s GPUs: they need the open "
                            "kernel modules. Use flavour auto or open." % "/".join(must_open))
        return "proprietary", "requested"
    if legacy:
        return "proprietary", "%s GPUs need the proprietary kernel modules" % "/".join(legacy)
    if must_open:
        return "open", "%s GPUs need the open kernel modules" % "/".join(must_open)
    if open_unusable:
        return "proprietary", open_unusable
    if archs and all(a in OPEN_CAPABLE_ARCHS for a in archs) and branch >= FIRST_OPEN_BRANCH:
        return "open", "every GPU is Turing or newer: open kernel modules (NVIDIA's recommendation)"
    if not archs:
        return ("open" if branch >= 560 else "proprietary"), "no GPU detected: the branch's default flavour"
    return "proprietary", "some GPUs could not be placed in a generation: the flavour that drives every generation"


def check_branch_drives_gpus(branch, archs):
    for arch in archs:
        ceiling = MAX_BRANCH_BY_ARCH.get(arch)
        if ceiling is not None and branch > ceiling:
            raise PlanError(
                "Branch %d cannot drive %s GPUs: R%d is the last branch that supports them. Set "
                "nvidia_driver_branch to %d or lower." % (branch, arch.capitalize(), ceiling, ceiling))


def resolve_branch(branch, version, family_name, release, source):
    """(branch int, exact version or None)."""
    version = (version or "").strip() or None
    if version is not None:
        if not is_version(version) or len(version_tuple(version)) < 2:
            raise PlanError("nvidia_driver_version must be a full driver version such as 570.133.20 (got %r)."
                            % version)
    if branch in (None, "", "auto"):
        if version:
            return branch_of(version), version
        if family_name == "Debian" and source == "distro":
            return DEBIAN_BRANCH[release], None
        return DEFAULT_BRANCH, None
    text = str(branch).strip()
    if not re.match(r"^\d{3}$", text):
        raise PlanError("nvidia_driver_branch must be a three-digit branch such as 570 or 580, or auto (got %r)."
                        % (branch,))
    number = int(text)
    if version and branch_of(version) != number:
        raise PlanError("nvidia_driver_version %s is not on branch %d." % (version, number))
    return number, version


def _apt_pin(packages_glob, version_glob, priority=1001):
    return {"package": packages_glob, "pin": "version %s" % version_glob, "priority": priority}


def _fabricmanager(family_name, source, branch, nvswitch, wanted):
    need = bool(nvswitch) if wanted == "auto" else bool(wanted)
    result = {"install": False, "needed": bool(nvswitch), "package": None, "available": True, "reason": ""}
    if not need:
        result["reason"] = ("no NVSwitch on this host: fabric manager would fail to start"
                            if not nvswitch else "disabled by nvidia_driver_fabricmanager")
        return result
    if family_name == "Debian" and source == "distro":
        result.update(available=False, reason="NVSwitch detected, but Debian's archive has no "
                      "nvidia-fabricmanager; use nvidia_driver_source=nvidia (or local) on HGX/DGX hosts")
        return result
    if family_name == "RedHat":
        package = "nvidia-fabric-manager"
    elif branch >= FIRST_UNVERSIONED_NAMES_BRANCH and source != "distro":
        # NVIDIA's repository drops the branch from names from 590 on; Ubuntu's archive keeps it.
        package = "nvidia-fabricmanager"
    else:
        package = "nvidia-fabricmanager-%d" % branch
    result.update(install=True, package=package,
                  reason="NVSwitch detected: fabric manager at exactly the driver's version")
    return result


def _kernel_packages(family_name, kernel):
    if family_name == "RedHat":
        return ["kernel-devel-%s" % kernel, "kernel-headers-%s" % kernel]
    return ["linux-headers-%s" % kernel]


def _debian_distro(plan, branch, flavour, release, container_mode):
    if branch != DEBIAN_BRANCH[release]:
        raise PlanError(
            "Debian %s's own archive ships driver branch %d only (requested %d). Use "
            "nvidia_driver_branch=auto (or %d), or nvidia_driver_source=nvidia for other branches."
            % (release, DEBIAN_BRANCH[release], branch, DEBIAN_BRANCH[release]))
    userspace = ["nvidia-smi", "nvidia-persistenced", "libcuda1", "libnvidia-ml1", "nvidia-kernel-support"]
    if flavour == "open":
        userspace.append("firmware-nvidia-gsp")
    kernel = ["nvidia-open-kernel-dkms" if flavour == "open" else "nvidia-kernel-dkms"]
    plan["repo"] = {
        "kind": "debian_components",
        "components": ["contrib", "non-free"],
        "suites": [DEBIAN_CODENAME[release], DEBIAN_CODENAME[release] + "-updates"],
        "security_suites": [DEBIAN_CODENAME[release] + "-security"],
        "codename": DEBIAN_CODENAME[release],
        "file": "/etc/apt/sources.list.d/onprem-llm-debian-nonfree.sources",
    }
    plan["userspace_packages"] = userspace
    plan["kernel_module_packages"] = kernel
    plan["needs_dkms"] = True


def ubuntu_kernel(kernel, release):
    """'6.8.0-85-generic-64k' on 24.04 -> ('generic-64k', 'generic-64k'): the kernel's flavour and
    the suffix of its meta packages (flavour, plus -hwe-<release> for a kernel newer than the GA
    series). An unknown kernel (planned from the inventory) is taken as the GA generic kernel."""
    match = _UBUNTU_KERNEL_RE.match(kernel or "")
    if not match:
        return "generic", "generic"
    flavour = match.group("flavour")
    hwe = match.group("series") != UBUNTU_GA_KERNEL[release]
    return flavour, flavour + ("-hwe-%s" % release if hwe else "")


def _ubuntu_distro(plan, branch, flavour, kernel, release, version):
    if branch not in UBUNTU_SERVER_BRANCHES[release]:
        raise PlanError(
            "Ubuntu %s's archive has no headless -server driver for branch %d (packages "
            "nvidia-headless-no-dkms-%d-server and nvidia-utils-%d-server). Branches that work there: %s; "
            "or use nvidia_driver_source=nvidia." % (release, branch, branch, branch,
                                                     ", ".join(str(b) for b in UBUNTU_SERVER_BRANCHES[release])))
    suffix = "-server-open" if flavour == "open" else "-server"
    userspace = ["nvidia-headless-no-dkms-%d%s" % (branch, suffix), "nvidia-utils-%d-server" % branch,
                 "nvidia-compute-utils-%d-server" % branch]
    plan["repo"] = {"kind": "ubuntu_archive", "components": ["restricted", "multiverse"]}
    plan["userspace_packages"] = userspace
    kernel_flavour, meta = ubuntu_kernel(kernel, release)
    if branch in UBUNTU_PREBUILT_BRANCHES[release] and kernel_flavour in UBUNTU_PREBUILT_FLAVOURS:
        if version:
            raise PlanError(
                "nvidia_driver_version pins %s, but Ubuntu's prebuilt modules for branch %d follow the archive's "
                "driver version (each kernel's module package requires it exactly), so a pinned version would "
                "strand the next kernel without a module. Unset nvidia_driver_version (the branch stays %d: it "
                "is in every package name), or use nvidia_driver_source=nvidia." % (version, branch, branch))
        # Canonical-signed prebuilt modules (Secure Boot without a MOK): the running kernel's package,
        # and the kernel-flavour meta package that brings the module of every later kernel with it.
        plan["kernel_module_packages"] = ["linux-modules-nvidia-%d%s-%s" % (branch, suffix, kernel or meta)]
        if kernel:
            plan["kernel_module_packages"].append("linux-modules-nvidia-%d%s-%s" % (branch, suffix, meta))
        plan["kernel_follow_packages"] = plan["kernel_module_packages"][1:]
        plan["needs_dkms"] = False
        plan["signed_modules"] = True
        plan["notes"].append("Ubuntu: prebuilt signed modules; linux-modules-nvidia-%d%s-%s follows kernel updates"
                             % (branch, suffix, meta))
    else:
        why = ("Ubuntu builds no current prebuilt modules for branch %d" % branch
               if branch not in UBUNTU_PREBUILT_BRANCHES[release]
               else "prebuilt modules are planned for the generic kernel flavour only, not %s" % kernel_flavour)
        # DKMS builds the module for every kernel whose headers are installed: the headers' meta
        # package brings those of each later kernel.
        plan["kernel_module_packages"] = ["nvidia-dkms-%d%s" % (branch, suffix)]
        plan["kernel_follow_packages"] = ["linux-headers-%s" % meta]
        plan["needs_dkms"] = True
        plan["signed_modules"] = False
        plan["notes"].append("Ubuntu: %s; DKMS with linux-headers-%s" % (why, meta))


def _nvidia_apt(plan, branch, flavour, compute_only):
    open_ = flavour == "open"
    if branch >= FIRST_UNVERSIONED_NAMES_BRANCH:
        plan["pre_packages"] = ["nvidia-driver-pinning-%d" % branch]
        if compute_only:
            userspace = ["libnvidia-compute", "nvidia-utils", "nvidia-compute-utils"]
            kernel = ["nvidia-dkms-open" if open_ else "nvidia-dkms"]
        else:
            userspace = []
            kernel = ["nvidia-open" if open_ else "cuda-drivers"]
    else:
        if compute_only:
            userspace = ["libnvidia-compute-%d" % branch, "nvidia-utils-%d" % branch,
                         "nvidia-compute-utils-%d" % branch]
            kernel = ["nvidia-dkms-%d-open" % branch if open_ else "nvidia-dkms-%d" % branch]
        else:
            userspace = []
            kernel = ["nvidia-open-%d" % branch if open_ else "cuda-drivers-%d" % branch]
    plan["userspace_packages"] = userspace
    plan["kernel_module_packages"] = kernel
    plan["needs_dkms"] = True


def _nvidia_dnf(plan, branch, flavour, release, compute_only):
    open_ = flavour == "open"
    if compute_only:
        userspace = ["nvidia-driver-cuda", "nvidia-persistenced"]
        kernel = ["kmod-nvidia-open-dkms" if open_ else "kmod-nvidia-latest-dkms"]
    else:
        userspace = ["nvidia-persistenced"]
        kernel = ["nvidia-open" if open_ else "cuda-drivers"]
    if release in ("8", "9"):
        plan["module_stream"] = "nvidia-driver:%d-%s" % (branch, "open" if open_ else "dkms")
        plan["hold_method"] = "module_stream"
    else:
        plan["module_stream"] = None
        plan["hold_method"] = "versionlock"
        plan["versionlock_plugin"] = "python3-dnf-plugin-versionlock"
    plan["userspace_packages"] = userspace
    plan["kernel_module_packages"] = kernel
    plan["needs_dkms"] = True


def _nvidia_repo(plan, family_name, release, arch, repo_url, local_package):
    distro = repo_distro(family_name, release)
    base = (repo_url or CUDA_REPO_BASE).rstrip("/")
    url = "%s/%s/%s/" % (base, distro, arch)
    if local_package:
        plan["repo"] = {"kind": "local_package", "package": local_package,
                        "keyring_glob": "/var/nvidia-driver-local-repo-*/nvidia-driver-*-keyring.gpg"
                        if family_name != "RedHat" else None}
        return
    if family_name == "RedHat":
        plan["repo"] = {
            "kind": "dnf_repo", "name": "cuda-%s-%s" % (distro, arch),
            "file": "/etc/yum.repos.d/cuda-%s.repo" % distro, "baseurl": url,
            "gpgkey": url + "%s.pub" % RHEL_CUDA_GPG_KEY_ID.lower(), "gpg_key_id": RHEL_CUDA_GPG_KEY_ID,
        }
        return
    plan["repo"] = {
        "kind": "cuda_keyring", "url": url, "keyring_package_url": url + CUDA_KEYRING_FILE,
        "keyring": CUDA_KEYRING_PATH,
        # The keyring package owns this one entry; other entries naming the repository are removed.
        "list_file": "/etc/apt/sources.list.d/cuda-%s-%s.list" % (distro, arch),
        "list_line": "deb [signed-by=%s] %s /" % (CUDA_KEYRING_PATH, url),
        "pin_file": CUDA_PIN_FILE, "mirror": bool(repo_url),
        "duplicate_pattern": "/compute/cuda/repos/%s/%s" % (distro, arch),
    }


def _extras(plan, family_name, source, release, arch, branch, options):
    extras = {"container_toolkit": None, "dcgm": None}
    if options.get("container_toolkit"):
        base = (options.get("container_toolkit_repo_url") or CONTAINER_TOOLKIT_BASE).rstrip("/")
        if family_name == "RedHat":
            repo = {"kind": "dnf_repo", "name": "nvidia-container-toolkit",
                    "file": "/etc/yum.repos.d/nvidia-container-toolkit.repo",
                    "baseurl": "%s/stable/rpm/$basearch" % base, "gpgkey": "%s/gpgkey" % base}
        else:
            keyring = "/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg"
            repo = {"kind": "apt_signed", "keyring": keyring, "key_url": "%s/gpgkey" % base,
                    "list_file": "/etc/apt/sources.list.d/nvidia-container-toolkit.list",
                    "list_line": "deb [signed-by=%s] %s/stable/deb/$(ARCH) /" % (keyring, base)}
        extras["container_toolkit"] = {"packages": ["nvidia-container-toolkit"], "repo": repo}
    if options.get("dcgm"):
        if source == "distro":
            raise PlanError("DCGM comes from NVIDIA's CUDA repository; set nvidia_driver_source=nvidia "
                            "(or local with a mirror that carries it) or nvidia_driver_dcgm=false.")
        cuda_major = 13 if branch >= 580 else 12
        packages = ["datacenter-gpu-manager-4-cuda%d" % cuda_major]
        if options.get("dcgm_exporter"):
            packages.append("datacenter-gpu-manager-exporter")
        extras["dcgm"] = {"packages": packages, "service": "nvidia-dcgm.service",
                          "exporter_service": "nvidia-dcgm-exporter.service" if options.get("dcgm_exporter") else None,
                          "reason": "DCGM 4 for CUDA %d (the unversioned package installs DCGM 3)" % cuda_major}
    plan["extras"] = extras


def _hold(plan, family_name, version):
    # The packages that follow kernel updates are never held: a held one would keep each new
    # kernel's module (or headers for DKMS) out.
    follow = plan.get("kernel_follow_packages", [])
    names = [n for n in plan["pre_packages"] + plan["userspace_packages"] + plan["kernel_module_packages"]
             if n not in follow]
    if plan["fabricmanager"]["install"]:
        names.append(plan["fabricmanager"]["package"])
    plan["hold_packages"] = names
    if family_name != "RedHat":
        plan["hold_method"] = "apt_mark_hold"
        branch_glob = "%d.*" % plan["branch"]
        # Debian versions nvidia-persistenced separately (bookworm: 535.171.04 next to 535.309.01):
        # it follows the branch, never an exact driver version.
        exact = [n for n in names if not (version and n == "nvidia-persistenced")]
        pins = [_apt_pin(" ".join(exact), (version + "-*") if version else branch_glob)]
        if version and "nvidia-persistenced" in names:
            pins.append(_apt_pin("nvidia-persistenced", branch_glob))
        plan["apt_pins"] = pins


# Long on purpose: the whole driver plan in the order the role acts on it; the parts are calls to tested helpers,
# kept in sequence so the plan reads as the role runs.
def plan_driver(host, gpu_facts, options):
    """The whole plan.

    ``host``: distribution, distribution_major_version, distribution_version, architecture,
    kernel (the running kernel's release, or the installed kernel to build for). ``options``: branch,
    version, flavour, source, repo_url, local_repo_package, compute_only, container_mode,
    kernel_side (build the kernel side for ``host["kernel"]`` even in container mode: an image's
    own kernel package, not the host's running kernel), secure_boot (enabled|disabled|unknown),
    secure_boot_policy, fabricmanager (auto|True|False), container_toolkit, dcgm, dcgm_exporter,
    installed (``ansible_facts.packages``), allow_branch_change.
    """
    family_name, release = distro_key(host.get("distribution"), host.get("distribution_major_version"),
                                      host.get("distribution_version"))
    if release not in SUPPORTED.get(family_name, ()):
        raise PlanError("%s %s is not supported (Debian 12/13, Ubuntu 22.04/24.04, RHEL/Rocky 8/9/10)."
                        % (host.get("distribution"), host.get("distribution_version")))
    flavour_req = options.get("flavour") or "auto"
    if flavour_req not in FLAVOURS:
        raise PlanError("nvidia_driver_flavour must be one of %s (got %r)." % (", ".join(FLAVOURS), flavour_req))
    source = options.get("source") or "auto"
    if source not in SOURCES:
        raise PlanError("nvidia_driver_source must be one of %s (got %r)." % (", ".join(SOURCES), source))
    if source == "auto":
        source = "nvidia" if family_name == "RedHat" else "distro"
    if source == "distro" and family_name == "RedHat":
        raise PlanError("RHEL and its rebuilds ship no NVIDIA driver; use nvidia_driver_source=nvidia "
                        "(NVIDIA's CUDA repository or a mirror of it) or local.")
    if source == "local" and not options.get("local_repo_package"):
        raise PlanError("nvidia_driver_source=local needs nvidia_driver_local_repo_package (an NVIDIA "
                        "local-repo .deb/.rpm path or URL).")
    arch = repo_arch(host.get("architecture") or "x86_64", family_name)
    branch, version = resolve_branch(options.get("branch"), options.get("version"), family_name, release, source)
    archs = gpu_generations(gpu_facts)
    if "kepler" in archs:
        raise PlanError("Kepler GPUs need branch 470, which no supported distribution or repository "
                        "still ships; this collection does not drive them.")
    check_branch_drives_gpus(branch, archs)
    open_unusable = None
    if family_name == "Debian" and source == "distro" and release in DEBIAN_OPEN_LAGS:
        open_unusable = ("Debian %s's open kernel modules lag its driver userspace (apt cannot install them "
                         "together): the proprietary modules, Debian's default" % release)
    flavour, flavour_reason = choose_flavour(flavour_req, archs, branch, open_unusable)
    container_mode = bool(options.get("container_mode"))
    kernel = host.get("kernel") or ""
    # In a container the kernel side (headers, DKMS build, initramfs) can still be done for a kernel
    # installed in it; only loading the module and rebooting cannot.
    kernel_side = not container_mode or bool(options.get("kernel_side") and kernel)

    plan = {
        "family": "dnf" if family_name == "RedHat" else "apt",
        "distribution": family_name, "release": release, "arch": arch,
        "source": source, "branch": branch, "version": version,
        "flavour": flavour, "flavour_reason": flavour_reason, "gpu_generations": archs,
        "pre_packages": [], "userspace_packages": [], "kernel_module_packages": [],
        "kernel_packages": [], "module_stream": None, "hold_method": None, "apt_pins": [],
        "versionlock_plugin": None, "needs_dkms": False, "signed_modules": False,
        "container_mode": container_mode, "remove_packages": [], "branch_change": None,
        "nouveau_blacklist": True,
        "initramfs_command": _initramfs_command(family_name, kernel if options.get("kernel_side") else None),
        "kernel": kernel, "kernel_side": kernel_side,
        "persistenced_unit": "nvidia-persistenced.service",
        "secure_boot": None, "notes": [], "kernel_follow_packages": [],
    }
    local_package = options.get("local_repo_package") if source == "local" else None
    if source == "distro" and family_name == "Debian":
        _debian_distro(plan, branch, flavour, release, container_mode)
    elif source == "distro":
        _ubuntu_distro(plan, branch, flavour, kernel, release, version)
    else:
        _nvidia_repo(plan, family_name, release, arch, options.get("repo_url"), local_package)
        if family_name == "RedHat":
            _nvidia_dnf(plan, branch, flavour, release, options.get("compute_only", True))
            plan["notes"].append("DKMS on RHEL comes from EPEL; enable it (or mirror it) before this role.")
        else:
            _nvidia_apt(plan, branch, flavour, options.get("compute_only", True))
    if version:
        plan["notes"].append("exact version %s pinned" % version)

    # A container that builds the kernel side (an image's own kernel) signs it as the host would.
    plan["secure_boot"] = _secure_boot(plan, options.get("secure_boot") or "unknown",
                                       options.get("secure_boot_policy") or "auto",
                                       container_mode and not kernel_side)
    if plan["needs_dkms"] and kernel_side:
        plan["kernel_packages"] = _kernel_packages(family_name, kernel) + plan.get("kernel_follow_packages", [])
    plan["fabricmanager"] = _fabricmanager(family_name, source, branch, (gpu_facts or {}).get("nvswitch"),
                                           options.get("fabricmanager", "auto"))
    _extras(plan, family_name, source, release, arch, branch, options)
    if not kernel_side:
        # No kernel in the container to build for: userspace only.
        plan["skipped_packages"] = plan["kernel_module_packages"]
        plan["kernel_module_packages"] = []
        plan["notes"].append("container mode: kernel module packages, headers and reboot skipped")
    elif container_mode:
        plan["skipped_packages"] = []
        plan["notes"].append("container mode: the kernel side is built for the installed kernel %s; "
                             "loading the module and rebooting are skipped" % kernel)
    else:
        plan["skipped_packages"] = []
    _hold(plan, family_name, version)
    plan["install_packages"] = _install_specs(plan, family_name, release, version)
    _branch_change(plan, options.get("installed"), bool(options.get("allow_branch_change")))
    return plan


def _initramfs_command(family_name, kernel):
    """Rebuild every kernel's initramfs, or only that of ``kernel`` (the one the plan builds for)."""
    if family_name == "RedHat":
        return ["dracut", "--force", "--kver", kernel] if kernel else ["dracut", "--force"]
    return ["update-initramfs", "-u", "-k", kernel or "all"]


def _install_specs(plan, family_name, release, version):
    """Package specs for the package manager, with the branch/version constraint where names lack it."""
    names = plan["userspace_packages"] + plan["kernel_module_packages"]
    if family_name != "RedHat":
        # apt: the branch is in the name (<= 580), in the pinning package (>= 590) or in the archive
        # (Debian); the apt preferences pin enforces the branch or exact version.
        return plan["pre_packages"] + names
    if release == "10" or version:
        # No module stream (RHEL 10) or an exact version: name-version specs.
        return ["%s-%s" % (name, version or "%d.*" % plan["branch"]) for name in names]
    return names


def _secure_boot(plan, state, policy, no_kernel_side):
    """What to do about Secure Boot. Raises PlanError (the clear stop) before anything is installed."""
    if policy not in SECURE_BOOT_POLICIES:
        raise PlanError("nvidia_driver_secure_boot must be one of %s (got %r)."
                        % (", ".join(SECURE_BOOT_POLICIES), policy))
    if no_kernel_side or state != "enabled":
        return {"state": state, "route": "none"}
    if plan["signed_modules"] and policy in ("auto", "signed"):
        return {"state": state, "route": "signed",
                "reason": "Canonical-signed prebuilt modules load under Secure Boot without a MOK"}
    if policy == "mok":
        return {"state": state, "route": "mok",
                "reason": "DKMS signs the module with the role's key pair, whose certificate must be an enrolled "
                          "machine-owner key"}
    if policy == "signed":
        raise PlanError("Secure Boot is enabled and nvidia_driver_secure_boot=signed, but only Ubuntu's own "
                        "archive (nvidia_driver_source=distro on Ubuntu) has signed prebuilt modules.")
    raise PlanError(
        "Secure Boot is enabled and this route builds unsigned DKMS modules, which the kernel would refuse "
        "to load. Nothing was installed. Either set nvidia_driver_secure_boot=mok (the role then makes a "
        "signing key and tells you how to enrol it: mokutil --import, confirm at the console on reboot), use "
        "Ubuntu's signed modules, or disable Secure Boot.")


def _branch_change(plan, installed_packages, allow):
    current = installed_driver(installed_packages)
    plan["installed"] = {"version": current["version"], "branch": current["branch"]}
    if not current["branch"] or current["branch"] == plan["branch"]:
        return
    old = sorted(name for name, ver in current["packages"].items()
                 if branch_of(ver) == current["branch"] and name not in plan["hold_packages"])
    plan["branch_change"] = {"from": current["branch"], "to": plan["branch"], "remove": old}
    plan["remove_packages"] = old
    if not allow:
        raise PlanError(
            "Driver %s (branch %s) is installed and branch %s was requested. A branch change replaces the "
            "running driver (reboot needed); set nvidia_driver_allow_branch_change=true to do it."
            % (current["version"], current["branch"], plan["branch"]))


def kernels_pulled(simulation, family, running_kernel):
    """Kernel image packages a simulated install would add (apt-get -s / dnf --assumeno output).

    A non-empty answer means the package manager would install another kernel than the running
    one: headers or modules for it would not match and the module would not load after reboot.
    """
    pulled = []
    for line in (simulation or "").splitlines():
        line = line.strip()
        if family == "apt":
            match = re.match(r"^Inst (linux-image-\S+|linux-modules-(?!nvidia)\S+)", line)
            name = match.group(1) if match else None
            if name and not name.endswith(running_kernel):
                pulled.append(name)
        else:
            match = re.match(r"^(kernel(-core|-modules|-modules-core)?)\s+\S+\s+(\S+)", line)
            if match and not running_kernel.startswith(match.group(3).split(":")[-1]):
                pulled.append("%s-%s" % (match.group(1), match.group(3)))
    return sorted(set(pulled))


def reboot_decision(changed, loaded_version, installed_version, nouveau_loaded, container_mode,
                    control_node, reboot_ok):
    """One of none / modprobe / reboot / reboot_needed (not allowed) with a reason.

    A reboot happens only when the driver changed and the new module cannot be loaded without one:
    nouveau holds the GPU, or an older nvidia module is still loaded.
    """
    if container_mode:
        return {"action": "none", "reason": "container mode: no kernel module to load"}
    if loaded_version and installed_version and loaded_version == installed_version and not nouveau_loaded:
        return {"action": "none", "reason": "driver %s is loaded" % loaded_version}
    if not changed and not loaded_version and not nouveau_loaded:
        return {"action": "modprobe", "reason": "driver installed but not loaded; loading it"}
    if not loaded_version and not nouveau_loaded:
        return {"action": "modprobe", "reason": "no GPU module loaded: the new one can be loaded in place"}
    why = ("nouveau holds the GPU" if nouveau_loaded
           else "module %s is loaded, %s installed" % (loaded_version, installed_version))
    if control_node:
        return {"action": "reboot_needed", "reason": why + "; this is the control node, reboot it yourself"}
    if not reboot_ok:
        return {"action": "reboot_needed",
                "reason": why + "; set nvidia_driver_reboot_ok=true to let the role reboot"}
    return {"action": "reboot", "reason": why}
