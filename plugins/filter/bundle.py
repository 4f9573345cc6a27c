# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the offline bundle: the NVIDIA driver / CUDA packages of the inventory's GPU nodes."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.onprem.llm.plugins.module_utils.bundle import gpu_packages as _gpu


def bundle_gpu_packages(hosts, hostvars, defaults, platform, dists):
    if not isinstance(hosts, list):
        raise AnsibleFilterError("bundle_gpu_packages expects a list of GPU node names, got %s" % type(hosts).__name__)
    try:
        return _gpu.plan_hosts(_gpu.node_inputs(hosts, hostvars, defaults or {}, platform or {}), list(dists or []))
    except _gpu.BundleGpuError as exc:
        raise AnsibleFilterError("bundle: GPU node %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"bundle_gpu_packages": bundle_gpu_packages}
