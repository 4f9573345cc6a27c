# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a host's GPU metrics come from: dcgm-exporter where apt offers it, the nvidia-smi collector
elsewhere on GPU nodes."""

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.monitoring import gpu_source

PACKAGE = "datacenter-gpu-manager-exporter"
# apt-cache policy as apt 2.6 (Debian 12) prints it, for a package one source offers, for one installed
# whose source is gone, and for a name only known as something else's dependency.
OFFERED = """datacenter-gpu-manager-exporter:
  Installed: (none)
  Candidate: 4.8.2-1
  Version table:
     4.8.2-1 500
        500 file:/srv/nvidia-repo-double ./ Packages
"""
INSTALLED_ONLY = """datacenter-gpu-manager-exporter:
  Installed: 4.8.2-1
  Candidate: 4.8.2-1
  Version table:
 *** 4.8.2-1 100
        100 /var/lib/dpkg/status
"""
NONE = """datacenter-gpu-manager-exporter:
  Installed: (none)
  Candidate: (none)
  Version table:
"""


@pytest.mark.parametrize("output, expected", [(OFFERED, "4.8.2-1"), (INSTALLED_ONLY, "4.8.2-1"), (NONE, ""),
                                              ("", ""), ("N: Unable to locate package x\n", "")])
def test_the_candidate_version_or_nothing(output, expected):
    assert gpu_source.apt_candidate(output) == expected


@pytest.mark.parametrize("setting, smi, output, source", [
    ("auto", True, OFFERED, "dcgm_exporter"),
    ("auto", True, INSTALLED_ONLY, "dcgm_exporter"),
    ("auto", True, NONE, "nvidia_smi"),
    ("auto", True, "", "nvidia_smi"),
    ("auto", False, OFFERED, "none"),
    ("auto", False, "", "none"),
    ("nvidia_smi", False, OFFERED, "nvidia_smi"),
    ("nvidia_smi", True, OFFERED, "nvidia_smi"),
    ("dcgm_exporter", False, OFFERED, "dcgm_exporter"),
    ("none", True, OFFERED, "none"),
])
def test_the_source_of_each_setting(setting, smi, output, source):
    result = gpu_source.gpu_metrics_source(setting, smi, output, PACKAGE)
    assert result["source"] == source and result["problem"] == ""


def test_dcgm_exporter_without_a_source_offering_it_is_a_problem_naming_the_variable_and_the_fix():
    result = gpu_source.gpu_metrics_source("dcgm_exporter", True, NONE, PACKAGE)
    assert result["source"] == "none"
    assert result["problem"] == (
        "monitoring_gpu_metrics is dcgm_exporter, but no apt source of this host offers "
        "datacenter-gpu-manager-exporter: add NVIDIA's CUDA repository (or a mirror of it) to the host's apt "
        "sources, or set monitoring_gpu_metrics to auto or nvidia_smi")


def test_an_unknown_setting_is_refused():
    with pytest.raises(ValueError, match="must be one of auto, dcgm_exporter, nvidia_smi, none, got 'dcgm'"):
        gpu_source.gpu_metrics_source("dcgm", True, "", PACKAGE)
