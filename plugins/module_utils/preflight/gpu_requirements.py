# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory GPU requirements checked against ``ansible_facts.onprem_gpu``, and the summary shown.

Pure functions: the gpu_preflight role calls them through the filters in plugins/filter/.
"""

from __future__ import annotations

from ansible_collections.onprem.llm.plugins.module_utils.versions import version_at_least


def requirement_problems(facts, min_gpus=0, min_memory_mib=0, min_driver_version="", require_driver=False):
    """Return a list of human-readable problems; empty means the host meets every requirement.

    Each problem names the inventory variable it comes from, so an operator knows what to change.
    """
    problems = []
    gpus = facts.get("gpus") or []
    count = int(facts.get("count") or 0)
    if count < min_gpus:
        problems.append(
            "gpu_preflight_min_gpus is %d but %d NVIDIA GPU(s) were found (source: %s). "
            "Lower gpu_preflight_min_gpus or run this host in another group."
            % (min_gpus, count, facts.get("source") or "none")
        )
    if min_memory_mib:
        for gpu in gpus:
            memory = gpu.get("memory_mib")
            if memory is None:
                problems.append(
                    "gpu_preflight_min_memory_mib is %d but GPU %s (%s) reports no memory size: "
                    "the driver must be loaded to read it." % (min_memory_mib, gpu.get("index"), gpu.get("name"))
                )
            elif memory < min_memory_mib:
                problems.append(
                    "gpu_preflight_min_memory_mib is %d but GPU %s (%s) has %d MiB."
                    % (min_memory_mib, gpu.get("index"), gpu.get("name"), memory)
                )
    driver = facts.get("driver_version")
    if (require_driver or min_driver_version) and not facts.get("driver_loaded"):
        problems.append(
            "%s requires a loaded NVIDIA driver, but the driver is not loaded (state %s: %s). "
            "Install it with the onprem.llm.nvidia_driver role or set the variable to its default."
            % (
                "gpu_preflight_min_driver_version" if min_driver_version else "gpu_preflight_require_driver",
                facts.get("state", "unknown"),
                facts.get("message", ""),
            )
        )
    elif min_driver_version and driver and not version_at_least(driver, min_driver_version):
        problems.append(
            "gpu_preflight_min_driver_version is %s but the loaded driver is %s. "
            "Upgrade the driver (onprem.llm.nvidia_driver) or lower the floor." % (min_driver_version, driver)
        )
    return problems


def _memory_text(mib):
    return "?" if mib is None else "%.0f GiB" % (mib / 1024.0)


def summary_lines(facts, hostname=""):
    """A one-screen, fixed-width hardware summary for one host."""
    gpus = facts.get("gpus") or []
    head = "%s: %d NVIDIA GPU(s) via %s; driver %s%s; CUDA %s; NVSwitch %s; kernel module %s%s" % (
        hostname or "host",
        int(facts.get("count") or 0),
        facts.get("source") or "none",
        facts.get("driver_version") or "-",
        "" if facts.get("driver_loaded") else " (not loaded)",
        facts.get("cuda_version") or "-",
        "yes" if facts.get("nvswitch") else "no",
        facts.get("recommended_kernel_module") or "-",
        "; in a container" if facts.get("in_container") else "",
    )
    lines = [head]
    if facts.get("state") not in (None, "ok", "no_gpu"):
        lines.append("state %s: %s" % (facts.get("state"), facts.get("message", "")))
    for gpu in gpus:
        mig = (gpu.get("mig") or {}).get("mode", "unsupported")
        lines.append(
            "  [%s] %-28s %8s  cc %-4s %-10s MIG %-11s %s %s"
            % (
                gpu.get("index"),
                (gpu.get("name") or "?")[:28],
                _memory_text(gpu.get("memory_mib")),
                gpu.get("compute_capability") or "?",
                gpu.get("architecture") or "?",
                mig,
                gpu.get("pci_bus_id") or "",
                gpu.get("uuid") or "",
            )
        )
    return lines
