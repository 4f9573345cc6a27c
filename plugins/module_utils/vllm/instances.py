# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan vLLM service instances and their installation (role onprem.llm.vllm).

Pure logic, no Ansible import: validate ``vllm_instances`` against the host's GPU facts and the staged
models, turn each instance into the YAML of ``--config`` (long option names) plus its environment,
pick the hash-pinned requirement lock shipped for a build and compose pip's arguments.
"""

from __future__ import annotations

import re

from ansible_collections.onprem.llm.plugins.module_utils.numbers import as_int

LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_UUID_RE = re.compile(r"^(GPU|MIG)-[0-9A-Za-z-]+$")
_OPTION_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_LOCK_RE = re.compile(
    r"^(?P<package>[a-z0-9-]+?)-(?P<version>\d[0-9a-z.]*)-(?P<variant>cpu|cu\d+)-cp(?P<py>\d+)-"
    r"manylinux_2_(?P<glibc>\d+)_(?P<arch>\w+)\.txt$"
)

# Instance keys mapped 1:1 to vLLM long options (value None: leave the option out).
DIRECT_OPTIONS = (
    "served_model_name",
    "host",
    "port",
    "tensor_parallel_size",
    "pipeline_parallel_size",
    "gpu_memory_utilization",
    "max_model_len",
    "max_num_seqs",
    "dtype",
    "quantization",
    "enable_prefix_caching",
    "enforce_eager",
    "kv_cache_memory_bytes",
)
# Options the role owns: extra_args may not set them (api-key goes through the 0600 env file).
MANAGED_OPTIONS = ("model", "host", "port", "api-key", "config", "served-model-name")
CPU_ONLY_KEYS = ()
GPU_ONLY_KEYS = ("gpus", "gpu_memory_utilization")


def option_name(key):
    return str(key).replace("_", "-")


def _is_loopback(host):
    return host in LOOPBACK_HOSTS or str(host).startswith("127.")


def _gpu_list(gpu_fact):
    return list((gpu_fact or {}).get("gpus") or [])


def resolve_gpus(wanted, gpu_fact):
    """Indexes (int or digits) or UUIDs -> (uuids, problems)."""
    gpus = _gpu_list(gpu_fact)
    by_index = dict((str(g.get("index", i)), g) for i, g in enumerate(gpus))
    uuids, problems = [], []
    for item in wanted or []:
        text = str(item).strip()
        if text.isdigit():
            gpu = by_index.get(str(int(text)))
            if gpu is None:
                problems.append("GPU index %s does not exist (the host has %d GPU(s))" % (text, len(gpus)))
            elif not gpu.get("uuid"):
                problems.append("GPU index %s has no UUID in the GPU facts (is the driver loaded?)" % text)
            else:
                uuids.append(gpu["uuid"])
        elif _UUID_RE.fullmatch(text):
            known = [g.get("uuid") for g in gpus] + [
                m.get("uuid") for g in gpus for m in ((g.get("mig") or {}).get("devices") or []) if isinstance(m, dict)
            ]
            if text not in known:
                problems.append("GPU %s is not on this host" % text)
            uuids.append(text)
        else:
            problems.append("%r is neither a GPU index nor a GPU-/MIG- UUID" % (item,))
    if len(set(uuids)) != len(uuids):
        problems.append("a GPU is listed twice")
    return uuids, problems


def _model_entry(instance, models):
    name = instance.get("model")
    if name is None:
        return None
    return (models or {}).get(name)


def instance_problems(instances, gpu_fact=None, models=None, variant="cpu", var="vllm_instances"):
    """Every problem with the instance list, each naming ``var[i]`` and the instance; [] when fine."""
    problems = []
    seen_names, seen_ports = {}, {}
    gpu_host = variant != "cpu"
    for i, inst in enumerate(instances or []):
        where = "%s[%d]" % (var, i)
        if not isinstance(inst, dict):
            problems.append("%s must be a dictionary" % where)
            continue
        name = inst.get("name")
        if name is not None:
            where += " (%s)" % name
        if not name or not _NAME_RE.fullmatch(str(name)):
            problems.append("%s: name must be 1-64 characters of letters, digits, '_', '.', '-'" % where)
        elif name in seen_names:
            problems.append("%s: name %r is already used by %s[%d]" % (where, name, var, seen_names[name]))
        else:
            seen_names[name] = i
        port = inst.get("port")
        if port is None or not isinstance(port, int) or not 1 <= port <= 65535:
            problems.append("%s: port must be an integer from 1 to 65535 (got %r)" % (where, port))
        elif port in seen_ports:
            problems.append("%s: port %d is already used by %s[%d]" % (where, port, var, seen_ports[port]))
        else:
            seen_ports[port] = i
        has_model, has_path = inst.get("model") is not None, inst.get("model_path") is not None
        if has_model == has_path:
            problems.append("%s: set exactly one of model (a key of onprem_models) and model_path" % where)
        elif has_model and _model_entry(inst, models) is None:
            problems.append("%s: model %r is not staged on this host (onprem_models has: %s); run "
                            "onprem.llm.model_weights first or set model_path"
                            % (where, inst["model"], ", ".join(sorted(models or {})) or "nothing"))
        problems += instance_rule_problems(inst, where)
        if not gpu_host:
            for key in GPU_ONLY_KEYS:
                if inst.get(key):
                    problems.append("%s: %s is set but the build is the CPU build" % (where, key))
        else:
            uuids, gpu_problems = resolve_gpus(inst.get("gpus"), gpu_fact)
            problems += ["%s: gpus: %s" % (where, p) for p in gpu_problems]
            visible = len(uuids) if inst.get("gpus") else len(_gpu_list(gpu_fact))
            tp = inst.get("tensor_parallel_size") or 1
            pp = inst.get("pipeline_parallel_size") or 1
            # With gpus listed, instance_rule_problems compares against the list already.
            if not inst.get("ray") and not inst.get("gpus") and tp * pp > visible:
                problems.append("%s: tensor_parallel_size %d x pipeline_parallel_size %d needs %d GPUs, %d visible"
                                % (where, tp, pp, tp * pp, visible))
    return problems


def instance_rule_problems(inst, where):
    """The checks of one instance that need no facts: the preflight runs them for every host before
    anything changes (onprem.llm.inventory_check), the role again through instance_problems."""
    problems = []
    host = inst.get("host") or "127.0.0.1"
    if not _is_loopback(host) and not inst.get("api_key"):
        problems.append("%s: host %s is not loopback, so api_key is required (vLLM's --api-key guards "
                        "only /v1; put an authenticating proxy in front as well)" % (where, host))
    gmu = inst.get("gpu_memory_utilization")
    if gmu is not None and (isinstance(gmu, bool) or not isinstance(gmu, (int, float)) or not 0 < float(gmu) <= 1):
        problems.append("%s: gpu_memory_utilization must be in (0, 1] (got %s)" % (where, gmu))
    listed = inst.get("gpus")
    tp, pp = as_int(inst.get("tensor_parallel_size") or 1), as_int(inst.get("pipeline_parallel_size") or 1)
    if isinstance(listed, list) and listed and tp and pp and tp > 0 and pp > 0 and not inst.get("ray") \
            and tp * pp > len(listed):
        problems.append("%s: tensor_parallel_size %d x pipeline_parallel_size %d needs %d GPUs but gpus lists %d; "
                        "list more GPUs or lower the parallel sizes" % (where, tp, pp, tp * pp, len(listed)))
    extra = inst.get("extra_args")
    for key in (extra if isinstance(extra, dict) else {}):
        opt = option_name(key).lstrip("-")
        if not _OPTION_RE.fullmatch(opt):
            problems.append("%s: extra_args key %r is not a long option name" % (where, key))
        elif opt in MANAGED_OPTIONS:
            problems.append("%s: extra_args may not set %s (use the instance key%s)"
                            % (where, opt, " api_key" if opt == "api-key" else ""))
    env = inst.get("env")
    for key in (env if isinstance(env, dict) else {}):
        if not _ENV_RE.fullmatch(str(key)):
            problems.append("%s: env key %r is not a valid variable name" % (where, key))
    return problems


def instance_plan(inst, gpu_fact=None, models=None, variant="cpu"):
    """One validated instance -> {name, config (dict for --config), env, probe_url, ...}."""
    model = _model_entry(inst, models) or {}
    fit = model.get("fit") or {}
    path = inst.get("model_path") or model.get("path")
    served = inst.get("served_model_name") or inst.get("model") or inst["name"]
    values = dict(inst)
    values["served_model_name"] = served
    values["host"] = inst.get("host") or "127.0.0.1"
    env = {}
    uuids = []
    if variant != "cpu":
        uuids, _problems = resolve_gpus(inst.get("gpus"), gpu_fact)
        if values.get("tensor_parallel_size") is None:
            values["tensor_parallel_size"] = fit.get("tensor_parallel_size") or (len(uuids) or 1)
        if uuids:
            env["CUDA_VISIBLE_DEVICES"] = ",".join(uuids)
            env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"
    if values.get("max_model_len") is None and fit.get("max_model_len"):
        values["max_model_len"] = fit["max_model_len"]
    config = {"model": path}
    for key in DIRECT_OPTIONS:
        if values.get(key) is not None:
            config[option_name(key)] = values[key]
    for key, value in sorted((inst.get("extra_args") or {}).items()):
        config[option_name(key).lstrip("-")] = value
    for key, value in sorted((inst.get("env") or {}).items()):
        env[str(key)] = str(value)
    host = values["host"]
    probe_host = "127.0.0.1" if host in ("0.0.0.0", "localhost") or _is_loopback(host) else (
        "::1" if host == "::" else host)
    if ":" in probe_host:
        probe_host = "[%s]" % probe_host
    return {
        "name": inst["name"],
        "model_path": path,
        "served_model_name": served,
        "host": host,
        "port": inst["port"],
        "config": config,
        "env": env,
        "gpu_uuids": uuids,
        "api_key": bool(inst.get("api_key")),
        "probe_url": "http://%s:%d" % (probe_host, inst["port"]),
    }


def parse_lock_name(name):
    match = _LOCK_RE.match(name)
    if not match:
        return None
    out = match.groupdict()
    out["glibc"] = int(out["glibc"])
    return out


def fitting_locks(names, python, machine, glibc):
    """The locks that this interpreter and platform can install, one per build (package, version,
    variant): the one with the highest manylinux floor <= the host's glibc.

    ``python`` is "3.11", ``glibc`` "2.36" (None: not glibc, no lock fits). Names keep their order.
    """
    if not glibc:
        return []
    py = "".join(str(python).split(".")[:2])
    host_minor = int(str(glibc).split(".")[1]) if "." in str(glibc) else 0
    best = {}
    for name in names or []:
        lock = parse_lock_name(str(name).rsplit("/", 1)[-1])
        if not lock or lock["py"] != py or lock["arch"] != machine or lock["glibc"] > host_minor:
            continue
        build = (lock["package"], lock["version"], lock["variant"])
        if build not in best or lock["glibc"] > best[build][0]:
            best[build] = (lock["glibc"], name)
    chosen = {name for _glibc, name in best.values()}
    return [name for name in names if name in chosen]


def select_lock(names, package, version, variant, python, machine, glibc):
    """The lock for this build among :func:`fitting_locks`, or None."""
    for name in fitting_locks(names, python, machine, glibc):
        lock = parse_lock_name(str(name).rsplit("/", 1)[-1])
        if (lock["package"], lock["version"], lock["variant"]) == (package, version, variant):
            return name
    return None


def pip_source_args(resolved, wheelhouse="", index_url="", extra_index_urls=None, ca_bundle="", proxy=""):
    """pip arguments choosing where packages come from.

    A wheelhouse (a directory or URL) means ``--no-index --find-links``; otherwise the index given (or
    the resolver's) plus extra indexes (the caller's, then the resolver's variant and torch indexes).
    """
    args = []
    if wheelhouse:
        args += ["--no-index", "--find-links", wheelhouse]
    else:
        args += ["--index-url", index_url or resolved.get("index_url") or "https://pypi.org/simple"]
        extras = list(extra_index_urls or []) + list(resolved.get("extra_index_urls") or [])
        for url in extras:
            if url not in args:
                args += ["--extra-index-url", url]
        if proxy:
            args += ["--proxy", proxy]
    if ca_bundle and not (wheelhouse and "://" not in wheelhouse):
        args += ["--cert", ca_bundle]
    return args
