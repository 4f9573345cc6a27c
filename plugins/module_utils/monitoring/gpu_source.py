# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a host's GPU metrics come from: NVIDIA's dcgm-exporter, the role's nvidia-smi collector, or none.

Pure logic, no Ansible import. NVIDIA publishes dcgm-exporter as a package of its CUDA repository
(``datacenter-gpu-manager-exporter``, beside the DCGM libraries it pairs with); a site that mirrors that
repository gets the real exporter, every other GPU node the fallback collector, which writes the same
metric names. The choice is made from ``apt-cache policy <exporter package>``, which names the version apt
would install ("Candidate") or says ``(none)``, and prints nothing for a package no source knows.
"""

from __future__ import annotations

import re

SETTINGS = ("auto", "dcgm_exporter", "nvidia_smi", "none")
_CANDIDATE = re.compile(r"^\s*Candidate:\s*(\S+)\s*$", re.MULTILINE)


def apt_candidate(policy_output):
    """``apt-cache policy <package>`` output -> the version apt would install, "" when none."""
    match = _CANDIDATE.search(str(policy_output or ""))
    if not match or match.group(1) == "(none)":
        return ""
    return match.group(1)


def gpu_metrics_source(setting, nvidia_smi_present, policy_output, package):
    """The setting ``monitoring_gpu_metrics``, whether nvidia-smi is installed, and the exporter
    package's ``apt-cache policy`` output -> {"source": "dcgm_exporter" | "nvidia_smi" | "none",
    "candidate": version or "", "problem": "" or why the setting cannot be honoured}.

    ``auto`` picks dcgm-exporter on a host with nvidia-smi whose apt sources offer the package, the
    nvidia-smi collector on other hosts with nvidia-smi, and nothing elsewhere."""
    if setting not in SETTINGS:
        raise ValueError("monitoring_gpu_metrics must be one of %s, got %r" % (", ".join(SETTINGS), setting))
    candidate = apt_candidate(policy_output)
    result = {"source": "none", "candidate": candidate, "problem": ""}
    if setting == "dcgm_exporter":
        if candidate:
            result["source"] = "dcgm_exporter"
        else:
            result["problem"] = (
                "monitoring_gpu_metrics is dcgm_exporter, but no apt source of this host offers %s: add "
                "NVIDIA's CUDA repository (or a mirror of it) to the host's apt sources, or set "
                "monitoring_gpu_metrics to auto or nvidia_smi" % package)
    elif setting == "nvidia_smi" or (setting == "auto" and nvidia_smi_present):
        result["source"] = "dcgm_exporter" if setting == "auto" and candidate else "nvidia_smi"
    return result
