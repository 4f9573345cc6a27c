# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters behind the gpu_preflight role: requirement problems and the hardware summary."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.onprem.llm.plugins.module_utils.preflight.gpu_requirements import (
    requirement_problems,
    summary_lines,
)


def _facts(value, name):
    if not isinstance(value, dict):
        raise AnsibleFilterError("%s expects ansible_facts.onprem_gpu (a dict), got %s" % (name, type(value).__name__))
    return value


def gpu_requirement_problems(facts, min_gpus=0, min_memory_mib=0, min_driver_version="", require_driver=False):
    try:
        return requirement_problems(
            _facts(facts, "gpu_requirement_problems"),
            int(min_gpus),
            int(min_memory_mib),
            str(min_driver_version or ""),
            bool(require_driver),
        )
    except ValueError as exc:
        raise AnsibleFilterError("gpu_requirement_problems: %s" % exc)


def gpu_summary(facts, hostname=""):
    return summary_lines(_facts(facts, "gpu_summary"), hostname)


class FilterModule(object):
    def filters(self):
        return {
            "gpu_requirement_problems": gpu_requirement_problems,
            "gpu_summary": gpu_summary,
        }
