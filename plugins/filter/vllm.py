# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters behind the vllm role: the install plan, instance validation and plans, lock selection, pip sources,
Ray cluster plan, the wheelhouse archive, the known cause of a failed start, the instances no longer listed."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.onprem.llm.plugins.module_utils.vllm import instances as _inst
from ansible_collections.onprem.llm.plugins.module_utils.vllm import plan as _plan
from ansible_collections.onprem.llm.plugins.module_utils.vllm import prune as _prune
from ansible_collections.onprem.llm.plugins.module_utils.vllm import ray as _ray
from ansible_collections.onprem.llm.plugins.module_utils.vllm import troubleshoot as _troubleshoot
from ansible_collections.onprem.llm.plugins.module_utils.vllm import wheelhouse as _wheelhouse


def vllm_instance_problems(instances, gpu=None, models=None, variant="cpu", var="vllm_instances"):
    if not isinstance(instances, list):
        raise AnsibleFilterError("vllm_instance_problems expects a list, got %s" % type(instances).__name__)
    return _inst.instance_problems(instances, gpu or {}, models or {}, variant or "cpu", var)


def vllm_instance_plan(instance, gpu=None, models=None, variant="cpu"):
    if not isinstance(instance, dict) or not instance.get("name"):
        raise AnsibleFilterError("vllm_instance_plan expects one validated instance (a dict with name)")
    return _inst.instance_plan(instance, gpu or {}, models or {}, variant or "cpu")


def vllm_plan(resolved, interp, prefix, lock_name="", lock_sha256=None, wheelhouse="", wheelhouse_src="", index_url="",
              extra_index_urls=None, ca_bundle="", proxy="", instances=None, gpu=None, models=None):
    if not isinstance(resolved, dict) or not resolved.get("vllm_version") or not resolved.get("variant"):
        raise AnsibleFilterError("vllm_plan expects the result of onprem.llm.vllm_resolve")
    if not isinstance(interp, dict):
        raise AnsibleFilterError("vllm_plan expects the interpreter's description (python, machine, glibc)")
    if not isinstance(instances or [], list):
        raise AnsibleFilterError("vllm_plan expects instances as a list, got %s" % type(instances).__name__)
    plans = [vllm_instance_plan(instance, gpu, models, resolved["variant"]) for instance in instances or []]
    return _plan.install_plan(resolved, interp, str(prefix), lock_name or "", lock_sha256,
                              _plan.wheelhouse_path(str(prefix), wheelhouse or "", wheelhouse_src or ""),
                              index_url or "", extra_index_urls or [], ca_bundle or "", proxy or "", plans)


def vllm_lock_choice(resolved, interp, shipped_locks, lock_file="", locks_dir=""):
    if not isinstance(shipped_locks, list):
        raise AnsibleFilterError("vllm_lock_choice expects a list of lock file names, got %s"
                                 % type(shipped_locks).__name__)
    name, src = _plan.lock_choice(resolved or {}, interp or {}, shipped_locks, lock_file or "", locks_dir or "")
    return {"name": name, "src": src}


def vllm_select_lock(names, package, version, variant, python, machine, glibc):
    return _inst.select_lock(names or [], package, version, variant, python, machine, glibc)


def vllm_fitting_locks(names, python, machine, glibc):
    if not isinstance(names, list):
        raise AnsibleFilterError("vllm_fitting_locks expects a list of lock file names, got %s" % type(names).__name__)
    return _inst.fitting_locks(names, python, machine, glibc)


def vllm_pip_source_args(resolved, wheelhouse="", index_url="", extra_index_urls=None, ca_bundle="", proxy=""):
    return _inst.pip_source_args(resolved or {}, wheelhouse or "", index_url or "", extra_index_urls or [],
                                 ca_bundle or "", proxy or "")


def vllm_ray_plan(facts_by_host, hosts=None, head="", interface="", port=6379, ports=None, variant="cpu",
                  gpus_per_node=0, object_store_memory=0, extra_args=None, group="", instances=None, models=None,
                  other_instances=None, interfaces=None):
    if not isinstance(facts_by_host, dict):
        raise AnsibleFilterError("vllm_ray_plan expects a dict of host -> ansible_facts, got %s"
                                 % type(facts_by_host).__name__)
    return _ray.cluster_plan(facts_by_host, hosts or [], head or "", interface or "", int(port), ports or {},
                             variant or "cpu", int(gpus_per_node or 0), int(object_store_memory or 0),
                             extra_args or [], group or "", instances or [], models or {}, other_instances or [],
                             interfaces or {})


def vllm_stale_instances(config_paths, wanted):
    if not isinstance(config_paths, list) or not isinstance(wanted, list):
        raise AnsibleFilterError("vllm_stale_instances expects two lists (config file paths, instance names)")
    return _prune.stale_instances(config_paths, wanted)


def vllm_wheelhouse_archive(files, src, archive_dir):
    try:
        return _wheelhouse.archive_plan(files, src, archive_dir)
    except ValueError as exc:
        raise AnsibleFilterError("vllm: %s" % exc)


def vllm_start_failure(lines, unit, url, timeout, tail=30, why=""):
    if not isinstance(lines, list):
        raise AnsibleFilterError("vllm_start_failure expects the journal's lines (a list), got %s" % type(lines).__name__)
    return _troubleshoot.failure_message(unit, url, timeout, lines, int(tail), str(why or ""))


class FilterModule(object):
    def filters(self):
        return {
            "vllm_instance_problems": vllm_instance_problems,
            "vllm_stale_instances": vllm_stale_instances,
            "vllm_instance_plan": vllm_instance_plan,
            "vllm_plan": vllm_plan,
            "vllm_lock_choice": vllm_lock_choice,
            "vllm_select_lock": vllm_select_lock,
            "vllm_fitting_locks": vllm_fitting_locks,
            "vllm_pip_source_args": vllm_pip_source_args,
            "vllm_ray_plan": vllm_ray_plan,
            "vllm_wheelhouse_archive": vllm_wheelhouse_archive,
            "vllm_start_failure": vllm_start_failure,
        }
