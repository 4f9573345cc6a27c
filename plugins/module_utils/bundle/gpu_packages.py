# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The NVIDIA driver and CUDA packages an offline bundle must carry for the inventory's GPU nodes.

The bundle is built on a connected machine that usually cannot reach the GPU nodes, so it plans
each node from what the inventory says (the nvidia_driver_* / cuda_* variables, the node's
platform) with the same planners the roles run on the node. What the bundle cannot know yet is
planned as a superset, so the closed site never lacks a package:

- no GPU facts and ``nvidia_driver_flavour: auto``: the flavour the role would pick for a Turing-or-newer
  GPU and the one for an older GPU (open and proprietary where the release has both), each flavour a
  package set of its own, resolved separately (the two module packages conflict);
- ``nvidia_driver_container_mode: auto``: the kernel-module packages too (bare metal needs them);
- no running kernel: the distribution's headers metapackage (``linux-headers-amd64`` on Debian),
  which matches a node updated from the same archive; the node's own check names the exact
  ``linux-headers-<kernel>`` when it does not.

Packages from NVIDIA's own repositories (``source: nvidia`` / ``local``, the container toolkit,
DCGM) cannot come from the Debian/Ubuntu archive the bundle mirrors: they are reported in
``outside`` for an internal mirror of NVIDIA's repository (``onprem_closed_network_allowed_urls``).
"""

from __future__ import annotations

from ansible_collections.onprem.llm.plugins.module_utils.nvidia.cuda_plan import plan_cuda
from ansible_collections.onprem.llm.plugins.module_utils.nvidia.driver_plan import (
    DEBIAN_CODENAME, UBUNTU_CODENAME, PlanError, deb_arch, distro_key, plan_driver)

# Without GPU facts, one GPU of each kind that decides the flavour: the plans cover whatever the node has.
PROBE_GPUS = ({"gpus": [{"name": "Turing or newer", "architecture": "Turing"}]},
              {"gpus": [{"name": "Maxwell to Volta", "architecture": "Pascal"}]})
# Debian's NVIDIA packages live in contrib, non-free and (bookworm on) non-free-firmware (the GSP
# firmware of the open modules).
DEBIAN_COMPONENTS = ("contrib", "non-free", "non-free-firmware")
UBUNTU_COMPONENTS = ("restricted", "multiverse")


# The role variables the planners read, and the platform keys (as in ansible_facts).
VARIABLES = ("nvidia_driver_branch", "nvidia_driver_version", "nvidia_driver_flavour", "nvidia_driver_source",
             "nvidia_driver_repo_url", "nvidia_driver_local_repo_package", "nvidia_driver_compute_only",
             "nvidia_driver_container_mode", "nvidia_driver_fabricmanager", "nvidia_driver_container_toolkit",
             "nvidia_driver_container_toolkit_repo_url", "nvidia_driver_dcgm", "nvidia_driver_dcgm_exporter",
             "cuda_versions", "cuda_default_version", "cuda_source", "cuda_profile", "cuda_compat",
             "cuda_extra_packages")
PLATFORM_KEYS = ("distribution", "distribution_major_version", "distribution_version", "architecture", "kernel")


class BundleGpuError(ValueError):
    """A GPU node the bundle cannot plan; the message names the host and the variable."""


def _flag(value):
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on", "enabled", "always")


def _container_mode(value):
    """True / False, or None when only the node can tell (auto)."""
    text = str(value if value is not None else "auto").strip().lower()
    if text == "auto":
        return None
    return text == "enabled" or _flag(text)


def codename(platform):
    """(family, release, apt codename) of a platform dict as in ansible_facts."""
    family, release = distro_key(platform.get("distribution"), platform.get("distribution_major_version"),
                                 platform.get("distribution_version"))
    if family == "Debian":
        return family, release, DEBIAN_CODENAME.get(release)
    if family == "Ubuntu":
        return family, release, UBUNTU_CODENAME.get(release)
    return family, release, None


def driver_options(variables, container_mode=False):
    """nvidia_driver_plan options from the role's variables."""
    fabric = str(variables.get("nvidia_driver_fabricmanager", "auto")).lower()
    return {
        "branch": variables.get("nvidia_driver_branch", "auto"),
        "version": variables.get("nvidia_driver_version", ""),
        "flavour": variables.get("nvidia_driver_flavour", "auto"),
        "source": variables.get("nvidia_driver_source", "auto"),
        "repo_url": variables.get("nvidia_driver_repo_url", ""),
        "local_repo_package": variables.get("nvidia_driver_local_repo_package", ""),
        "compute_only": _flag(variables.get("nvidia_driver_compute_only", True)),
        "container_mode": container_mode,
        # Secure Boot is the node's business; the bundle carries the packages either way.
        "secure_boot": "disabled",
        "fabricmanager": "auto" if fabric == "auto" else fabric == "always",
        "container_toolkit": _flag(variables.get("nvidia_driver_container_toolkit", False)),
        "container_toolkit_repo_url": variables.get("nvidia_driver_container_toolkit_repo_url", ""),
        "dcgm": _flag(variables.get("nvidia_driver_dcgm", False)),
        "dcgm_exporter": _flag(variables.get("nvidia_driver_dcgm_exporter", False)),
    }


def cuda_options(variables):
    return {
        "versions": list(variables.get("cuda_versions") or []),
        "default": variables.get("cuda_default_version", ""),
        "source": variables.get("cuda_source", "auto"),
        "profile": variables.get("cuda_profile", "toolkit"),
        "compat": _flag(variables.get("cuda_compat", False)),
        "extra_packages": list(variables.get("cuda_extra_packages") or []),
    }


def _headers_metapackages(family, platform):
    """Kernel-release-free names for the packages a plan names per kernel."""
    if family == "Ubuntu":
        return "generic"
    return deb_arch(platform.get("architecture") or "x86_64")


def _without_kernel(names, family, platform):
    """Plans made without a kernel end such names in '-'; complete them with the metapackage suffix."""
    suffix = _headers_metapackages(family, platform)
    return [name + suffix if name.endswith("-") else name for name in names]


def _driver_plans(host, platform, gpu, variables, container_mode):
    probes = [gpu] if (gpu or {}).get("gpus") else list(PROBE_GPUS)
    plans, errors = [], []
    for probe in probes:
        try:
            plans.append(plan_driver(platform, probe, driver_options(variables, container_mode=container_mode)))
        except PlanError as exc:
            errors.append(str(exc))
    if not plans:
        raise BundleGpuError("%s: %s" % (host, errors[0]))
    return plans


def _driver_packages(plan, family, platform):
    names = list(plan["pre_packages"]) + list(plan["install_packages"]) + list(plan["kernel_packages"])
    if plan["fabricmanager"]["install"]:
        names.append(plan["fabricmanager"]["package"])
    return _without_kernel(names, family, platform)


# Long on purpose: one GPU node's packages decided in the order an operator reads them (distribution, driver, CUDA,
# flavours); each step feeds the next.
def plan_host(item):
    """One GPU node: {host, dist, arch, packages, components, flavours, outside, notes}.

    ``item``: host (name), platform (distribution, distribution_major_version, distribution_version,
    architecture, kernel), gpu (gpu_facts, may be empty) and variables (the node's nvidia_driver_* and
    cuda_* values over the roles' defaults).
    """
    host = item.get("host") or "?"
    platform = dict(item.get("platform") or {})
    gpu = item.get("gpu") or {}
    variables = item.get("variables") or {}
    family, release, dist = codename(platform)
    result = {"host": host, "dist": dist, "arch": deb_arch(platform.get("architecture") or "x86_64"),
              "packages": [], "package_sets": [], "components": [], "flavours": [], "outside": [], "notes": []}
    if family == "RedHat":
        result["outside"].append(
            "driver and CUDA RPMs for %s %s (the bundle builds apt repositories only; mirror NVIDIA's "
            "rhel%s repository and EPEL inside the site)" % (platform.get("distribution"), release, release))
        return result
    if dist is None:
        raise BundleGpuError(
            "%s: %s %s is not a platform the bundle can carry packages for (Debian 12/13, Ubuntu "
            "22.04/24.04); set bundle_gpu_platform for this host." % (
                host, platform.get("distribution"), platform.get("distribution_version")
                or platform.get("distribution_major_version")))
    container_mode = _container_mode(variables.get("nvidia_driver_container_mode", "auto"))
    if container_mode is None:
        result["notes"].append("container mode unknown until the node runs: kernel-module packages carried too")
    kernel_known = bool(platform.get("kernel"))
    platform["kernel"] = platform.get("kernel") or ""
    try:
        plans = _driver_plans(host, platform, gpu, variables, bool(container_mode))
        cuda = plan_cuda(platform, gpu, cuda_options(variables))
    except PlanError as exc:
        raise BundleGpuError("%s: %s" % (host, exc))

    cuda_names = list(cuda["packages"]) + list(cuda["compat_packages"])
    if cuda["source"] != "distro":
        result["outside"].append("CUDA packages from NVIDIA's repository: %s" % " ".join(cuda_names))
        cuda_names = []
    sets = []
    for plan in plans:
        result["flavours"].append(plan["flavour"])
        if plan["kernel_packages"] and not kernel_known:
            result["notes"].append("running kernel unknown: the headers metapackage stands in for "
                                   "linux-headers-<kernel>")
        names = _driver_packages(plan, family, platform)
        if plan["source"] != "distro":
            result["outside"].append("driver packages from NVIDIA's %s repository: %s"
                                     % ("local" if plan["source"] == "local" else "CUDA", " ".join(names)))
            names = []
        for extra in ("container_toolkit", "dcgm"):
            if plan["extras"].get(extra):
                result["outside"].append("%s packages from NVIDIA's repository: %s"
                                         % (extra.replace("_", " "), " ".join(plan["extras"][extra]["packages"])))
        if plan["version"]:
            result["notes"].append("nvidia_driver_version %s: the bundle carries the archive's current "
                                   "packages of the branch" % plan["version"])
        if names or cuda_names:
            sets.append(_unique(names + cuda_names))
    result["package_sets"] = _unique_sets(sets)
    result["packages"] = _unique([name for group in result["package_sets"] for name in group])
    if result["packages"]:
        result["components"] = list(DEBIAN_COMPONENTS if family == "Debian" else UBUNTU_COMPONENTS)
    result["flavours"] = _unique(result["flavours"])
    result["outside"] = _unique(result["outside"])
    result["notes"] = _unique(result["notes"])
    return result


def _unique_sets(sets):
    seen, out = set(), []
    for group in sets:
        key = tuple(sorted(group))
        if key not in seen:
            seen.add(key)
            out.append(group)
    return out


def _unique(items):
    seen, out = set(), []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


def node_inputs(hosts, hostvars, defaults, default_platform):
    """plan_host items from the inventory.

    A host's variables are its own (``hostvars``: group_vars, host_vars) over the roles' ``defaults``;
    its platform is its ``bundle_gpu_platform``, else its cached facts, else ``default_platform``.
    """
    items = []
    for host in hosts:
        if host not in hostvars:
            raise BundleGpuError("bundle_gpu_hosts names %s, which is not in the inventory." % host)
        own = hostvars[host]
        facts = own.get("ansible_facts") or {}
        variables = dict((key, own[key] if key in own else defaults.get(key)) for key in VARIABLES)
        if "bundle_gpu_platform" in own:
            platform = own["bundle_gpu_platform"]
        elif facts.get("distribution"):
            platform = dict((key, facts.get(key)) for key in PLATFORM_KEYS)
        else:
            platform = default_platform
        items.append({"host": host, "platform": dict(platform or {}), "gpu": dict(facts.get("onprem_gpu") or {}),
                      "variables": dict((k, v) for k, v in variables.items() if v is not None)})
    return items


def plan_hosts(items, dists):
    """{dists: {name: {packages, package_sets, components}}, hosts: [plan_host ...], outside: [host: text]}.

    Each package set is resolved on its own (the flavours' module packages conflict); ``packages`` is
    their union.

    ``dists``: the bundle's release names (bundle_apt_dists); a node on a release the bundle does
    not build raises BundleGpuError naming both.
    """
    names = list(dists)
    by_dist, hosts, outside = {}, [], []
    for item in items:
        planned = plan_host(item)
        hosts.append(planned)
        outside += ["%s: %s" % (planned["host"], text) for text in planned["outside"]]
        if not planned["packages"]:
            continue
        if planned["dist"] not in names:
            raise BundleGpuError(
                "%s runs %s, which bundle_apt_dists does not list (%s): add {name: %s} to bundle_apt_dists "
                "or set bundle_gpu_platform for this host." % (
                    planned["host"], planned["dist"], ", ".join(names) or "none", planned["dist"]))
        entry = by_dist.setdefault(planned["dist"], {"packages": [], "package_sets": [], "components": []})
        entry["packages"] = _unique(entry["packages"] + planned["packages"])
        entry["package_sets"] = _unique_sets(entry["package_sets"] + planned["package_sets"])
        entry["components"] = _unique(entry["components"] + planned["components"])
    return {"dists": by_dist, "hosts": hosts, "outside": outside}
