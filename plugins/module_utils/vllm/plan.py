# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vllm role's plan (the fact ``vllm_plan``): which build goes into which venv, from which lock
and sources, with the exact pip command, and each instance's plan. Pure: the role's tasks only act on
it (install.yml runs ``pip_install``, instances.yml renders ``instances``)."""

from __future__ import annotations

from ansible_collections.onprem.llm.plugins.module_utils.vllm import instances as _inst

PIP_BASE = ["-m", "pip", "install", "--no-input", "--disable-pip-version-check", "--no-cache-dir"]


def wheelhouse_path(prefix, wheelhouse="", wheelhouse_src=""):
    """Where pip finds the wheels on the target: the wheelhouse given, else ``<prefix>/wheelhouse``
    when a controller wheelhouse is copied there, else "" (an index)."""
    if wheelhouse:
        return wheelhouse
    return prefix + "/wheelhouse" if wheelhouse_src else ""


def lock_choice(resolved, interp, shipped_locks, lock_file="", locks_dir=""):
    """The lock's file name and its path on the controller ("" and "" when there is none): the user's
    ``lock_file``, else the shipped lock made for this build and interpreter."""
    if lock_file:
        name = lock_file.rsplit("/", 1)[-1]
        return name, lock_file if name else ""
    name = _inst.select_lock(list(shipped_locks or []), resolved.get("package"), resolved.get("vllm_version"),
                             resolved.get("variant"), interp.get("python"), interp.get("machine"),
                             interp.get("glibc")) or ""
    return name, (locks_dir.rstrip("/") + "/" + name) if name else ""


def _unique(items):
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def install_plan(resolved, interp, prefix, lock_name="", lock_sha256=None, wheelhouse="", index_url="",
                 extra_index_urls=None, ca_bundle="", proxy="", instance_plans=None):
    """The ``vllm_plan`` fact.

    ``wheelhouse`` is the target path or URL of :func:`wheelhouse_path` ("" for an index); with a lock
    pip installs it with ``--no-deps --require-hashes``, without one the resolver's unhashed
    requirements; ``index_url`` and ``extra_index_urls`` are the user's, before the resolver's."""
    venv = "%s/%s-%s" % (prefix, resolved["vllm_version"], resolved["variant"])
    requirements = [] if lock_name else [resolved.get("requirement"), resolved.get("torch_requirement")]
    pip_args = _inst.pip_source_args(resolved, wheelhouse, index_url, list(extra_index_urls or []), ca_bundle, proxy)
    source = (["--no-deps", "--require-hashes", "-r", "%s/locks/%s" % (prefix, lock_name)]
              if lock_name else list(requirements))
    return {
        "vllm_version": resolved["vllm_version"],
        "variant": resolved["variant"],
        "package": resolved.get("package"),
        "cuda_version": resolved.get("cuda_version"),
        "torch_version": resolved.get("torch_version"),
        "reason": resolved.get("reason"),
        "python": interp.get("python"),
        "venv": venv,
        "current": prefix + "/current",
        "lock": lock_name or None,
        "lock_sha256": lock_sha256 if lock_name else None,
        "require_hashes": bool(lock_name),
        "requirements": requirements,
        "pip_args": pip_args,
        "pip_install": [venv + "/bin/python"] + PIP_BASE + source + pip_args,
        "index_url": None if wheelhouse else (index_url or resolved.get("index_url")),
        "extra_index_urls": [] if wheelhouse else _unique(list(extra_index_urls or [])
                                                          + list(resolved.get("extra_index_urls") or [])),
        "wheelhouse": wheelhouse or None,
        "gpu_host": resolved["variant"] != "cpu",
        "instances": list(instance_plans or []),
    }
