# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory preflight: every problem of one host's variables, before anything changes.

Pure functions. The caller (the action plugin onprem.llm.inventory_check) templates the host's
variables that carry one of the collection's prefixes and passes the values plus the templating
errors it met; these functions return sentences that each name the host, the variable (with list
index and sub-option) and the fix:

- variables with a collection prefix that no role declares (with "did you mean"), renamed ones;
- wrong types, string booleans, choices, unknown or missing sub-options (argument_specs, strictly);
- undefined variables inside templates (a vault secret never defined), other template errors;
- two services of the host on one port; duplicate instance names and served model names;
  an instance whose model is not staged on the host;
- (with GPU facts) a model that does not fit the GPUs assigned to its instance.
"""

from __future__ import annotations

import re

from ansible_collections.onprem.llm.plugins.module_utils.numbers import as_int
from ansible_collections.onprem.llm.plugins.module_utils.preflight.rules import (
    null_problems,
    rule_problems,
    security_problems,
)
from ansible_collections.onprem.llm.plugins.module_utils.preflight.typecheck import (
    did_you_mean,
    is_secret,
    show,
    value_problems,
)

WILDCARDS = ("", "*", "0.0.0.0", "::", "[::]")
_HOST_PORT_RE = re.compile(r"^(?:\[(?P<v6>[^\]]*)\]|(?P<host>[^:]*))(?::(?P<port>[^:]*))?$")


class TemplateIssue(object):
    """A leaf that could not be templated: an undefined variable, a locked vault, another error."""

    def __init__(self, path, undefined=None, message=None, locked=False):
        self.path = path
        self.undefined = undefined
        self.message = message
        self.locked = locked

    def sentence(self):
        if self.locked:
            return ("%s: is vault-encrypted and cannot be decrypted (no or the wrong vault password); run with "
                    "--vault-password-file or --ask-vault-pass" % self.path)
        if self.undefined:
            where = "the vault" if self.undefined.startswith("vault_") else "the inventory (group_vars/host_vars)"
            return "%s: undefined variable %s; define it in %s" % (self.path, self.undefined, where)
        return "%s: cannot be templated (%s); fix the expression" % (self.path, self.message)


# ---------------------------------------------------------------------------------------------
# names and values


def name_problems(name, catalogue):
    """Unknown or renamed variable carrying one of the collection's prefixes; [] otherwise."""
    if not catalogue.owns(name) or catalogue.known(name):
        return []
    renamed = catalogue.renamed.get(name)
    if renamed:
        return ["%s was renamed to %s in onprem.llm %s; rename it in the inventory"
                % (name, renamed["name"], renamed["version"])]
    alternative = did_you_mean(name, list(catalogue.options) + list(catalogue.renamed))
    if alternative in catalogue.renamed:
        alternative = catalogue.renamed[alternative]["name"]
    return ["%s is not a variable of onprem.llm (%s); rename or remove it" % (
        name, "did you mean %s?" % alternative if alternative else "no role declares it")]


def variable_problems(values, catalogue):
    """Names, types and choices of the (templated) owned variables of one host."""
    problems = []
    for name in sorted(values):
        if not catalogue.owns(name):
            continue
        found = name_problems(name, catalogue)
        if found:
            problems += found
            continue
        spec = catalogue.spec(name)
        if spec is not None:
            problems += value_problems(name, values[name], spec, is_secret(name, spec))
    return problems


def play_keyword_problems(values, catalogue, command_line=()):
    """Play keywords (a play's batch size, its failure limit) set anywhere but on the command line.

    Ansible templates play keywords before it reads any host's variables, so an inventory value is
    silently never used (a rolling batch of 1 would become every host at once).
    """
    return ["%s is a play keyword, which Ansible templates before it reads any host's variables, so "
            "the inventory's value is never used; remove it from the inventory and pass it on the "
            "command line: -e %s=%s" % (name, name, values[name])
            for name in sorted(values) if name in catalogue.play_keywords and name not in command_line]


def _value(values, catalogue, name):
    if name in values and values[name] is not None:
        return values[name]
    return catalogue.default(name)


# ---------------------------------------------------------------------------------------------
# ports


def _normal_address(address):
    address = "" if address is None else str(address).strip()
    if address in ("localhost", "::1", "[::1]"):
        return "127.0.0.1"
    return address


def split_host_port(text, default_port=None):
    """'127.0.0.1:11434' -> ('127.0.0.1', 11434); '[::1]:80'; 'host' -> (host, default_port)."""
    match = _HOST_PORT_RE.match(str(text or "").strip())
    if not match:
        return None, None
    host = match.group("v6") if match.group("v6") is not None else match.group("host")
    port = match.group("port")
    if port is None or port == "":
        return host, default_port
    return host, as_int(port)


def _when_holds(entry, values, catalogue):
    """``when``: a mapping (every variable has the value) or a list of them (any one holds)."""
    when = entry.get("when")
    if not when:
        return True
    for condition in (when if isinstance(when, list) else [when]):
        if all(_value(values, catalogue, name) == wanted for name, wanted in condition.items()):
            return True
    return False


def port_uses(values, groups, catalogue):
    """[(port, address, label)] of every service the host will run, from the ports table."""
    uses = []
    for entry in catalogue.ports:
        if not set(entry.get("groups") or ()) & set(groups or ()) or not _when_holds(entry, values, catalogue):
            continue
        name = entry["var"]
        value = _value(values, catalogue, name)
        kind = entry.get("format", "int")
        if value is None or value == "":
            continue
        if kind == "list":
            for i, item in enumerate(value if isinstance(value, list) else []):
                if not isinstance(item, dict):
                    continue
                port = as_int(item.get(entry.get("port_key", "port")))
                if port is None:
                    continue
                label = "%s[%d].%s" % (name, i, entry.get("port_key", "port"))
                if item.get("name"):
                    label += " (%s)" % item["name"]
                address = item.get(entry.get("address_key") or "host") if entry.get("address_key") else None
                uses.append((port, address if address is not None else entry.get("default_address", ""), label))
        elif kind == "host_port":
            address, port = split_host_port(value, entry.get("default_port"))
            if port is not None:
                uses.append((port, address, name))
        else:
            port = as_int(value)
            if port is None:
                continue
            address = entry.get("default_address", "")
            if entry.get("address_var"):
                address = _value(values, catalogue, entry["address_var"])
            uses.append((port, address, name))
    return uses


def _clash(first, second):
    left, right = _normal_address(first), _normal_address(second)
    return left == right or left in WILDCARDS or right in WILDCARDS


def port_problems(values, groups, catalogue):
    problems = []
    uses = port_uses(values, groups, catalogue)
    for i, (port, address, label) in enumerate(uses):
        for other_port, other_address, other_label in uses[:i]:
            if port == other_port and _clash(address, other_address):
                problems.append("%s: port %d is also used by %s on this host; give each service its own port"
                                % (label, port, other_label))
                break
    return problems


# ---------------------------------------------------------------------------------------------
# serving: instance names, served names, staged models


def serving_problems(values, groups, catalogue):
    problems = []
    if "vllm_servers" not in (groups or ()):
        return problems
    instances = _value(values, catalogue, "vllm_instances") or []
    models = _value(values, catalogue, "model_weights_models") or []
    if not isinstance(instances, list):
        return problems
    model_names = [m.get("name") for m in models if isinstance(m, dict)] if isinstance(models, list) else []
    seen_names, seen_served = {}, {}
    for i, inst in enumerate(instances):
        if not isinstance(inst, dict):
            continue
        where = "vllm_instances[%d]" % i
        name = inst.get("name")
        if name is not None:
            if name in seen_names:
                problems.append("%s.name %s is already used by vllm_instances[%d]; instance names must be "
                                "unique on a host" % (where, show(name), seen_names[name]))
            else:
                seen_names[name] = i
        served = inst.get("served_model_name") or inst.get("model") or name
        if served is not None:
            if served in seen_served:
                problems.append("%s.served_model_name %s is also served by vllm_instances[%d] on this host; "
                                "give each instance its own served_model_name"
                                % (where, show(served), seen_served[served]))
            else:
                seen_served[served] = i
        model = inst.get("model")
        if model is not None and inst.get("model_path") is None and model not in model_names:
            alternative = did_you_mean(model, [str(n) for n in model_names if n])
            problems.append("%s.model %s is not in model_weights_models on this host (%s); add it there, fix "
                            "the name or set model_path" % (
                                where, show(model),
                                "did you mean %s?" % alternative if alternative else
                                "it has: %s" % (", ".join(sorted(set(str(n) for n in model_names))) or "nothing")))
    if isinstance(models, list):
        seen = {}
        for i, model in enumerate(models):
            if isinstance(model, dict) and model.get("name") is not None:
                if model["name"] in seen:
                    problems.append("model_weights_models[%d].name %s is already used by model_weights_models[%d]"
                                    % (i, show(model["name"]), seen[model["name"]]))
                else:
                    seen[model["name"]] = i
    return problems


# The roles a host's groups run, for the rules between settings (security_problems).
GROUP_ROLES = {"vllm_servers": "vllm", "vllm_ray_nodes": "vllm", "gateway": "gateway",
               "ollama_servers": "ollama", "model_mirror": "model_weights", "monitoring": "monitoring"}


def value_problems_of(values, roles, catalogue, issues=()):
    """The value rules (rules.py) for templated ``values``: formats and ranges of every variable the
    catalogue's rules name, nulls that would hide a default, and the rules between settings of
    ``roles``. Variables with a type problem are left to variable_problems (one message each), those
    that could not be templated (``issues``: their leaves are None, not values) to the issue."""
    broken = set(re.split(r"[.\[]", issue.path, maxsplit=1)[0] for issue in issues)
    typed = dict((name, value) for name, value in values.items()
                 if name not in broken and catalogue.owns(name) and catalogue.known(name)
                 and not variable_problems({name: value}, catalogue))
    problems = null_problems(typed, catalogue)
    problems += rule_problems(typed, catalogue.rules)
    problems += security_problems(typed, roles, catalogue.default)
    return problems


def host_problems(host, values, groups, catalogue, issues=(), command_line=()):
    """Every problem of one host, each sentence starting with the host name.

    command_line: the names given as extra vars (-e), the only place play keywords are read from.
    """
    problems = [issue.sentence() for issue in issues]
    problems += variable_problems(values, catalogue)
    problems += play_keyword_problems(values, catalogue, command_line)
    problems += value_problems_of(values, set(GROUP_ROLES[g] for g in groups or () if g in GROUP_ROLES),
                                  catalogue, issues)
    problems += port_problems(values, groups, catalogue)
    problems += serving_problems(values, groups, catalogue)
    return ["%s: %s" % (host, problem) for problem in problems]


# ---------------------------------------------------------------------------------------------
# models against the GPUs (needs ansible_facts.onprem_gpu)


def _assigned_gpus(wanted, gpu_facts):
    gpus = list((gpu_facts or {}).get("gpus") or [])
    if not wanted:
        return gpus, []
    picked, problems = [], []
    for item in wanted:
        text = str(item).strip()
        match = [g for g in gpus if str(g.get("index")) == text or g.get("uuid") == text]
        if match:
            picked.append(match[0])
        else:
            problems.append("GPU %s is not on this host (it has %d)" % (text, len(gpus)))
    return picked, problems


def _catalog_model(entry, catalog):
    """The catalog record for a model_weights_models entry (by catalog name or Hub repo), or None."""
    models = catalog or {}
    if entry.get("catalog") in models:
        return entry["catalog"], models[entry["catalog"]]
    repo = entry.get("repo_id")
    for name, record in models.items():
        if repo and repo == record.get("hf_repo"):
            return name, record
    if entry.get("name") in models:
        return entry["name"], models[entry["name"]]
    return None, None


def fit_problems(instances, models, gpu_facts, catalog, plan, allow_cpu=False):
    """Problems of vLLM instances against the host's GPUs.

    ``catalog`` is the ``models`` mapping of data/models.yml, ``plan`` is weights.sizing.plan.

    Instances whose model has no catalog entry are left to onprem.llm.model_weights, which sizes
    the real files once they are staged.
    """
    problems = []
    instances = [i for i in (instances or []) if isinstance(i, dict)]
    if not instances:
        return problems
    gpu_count = int((gpu_facts or {}).get("count") or 0)
    if gpu_count == 0:
        if not allow_cpu:
            problems.append("vllm_instances: this host has no NVIDIA GPU; set vllm_allow_cpu: true for the CPU "
                            "build or take the host out of vllm_servers")
        return problems
    by_name = dict((m.get("name"), m) for m in (models or []) if isinstance(m, dict))
    for i, inst in enumerate(instances):
        where = "vllm_instances[%d]" % i
        label = " (instance %s)" % inst["name"] if inst.get("name") else ""
        entry = by_name.get(inst.get("model"))
        if entry is None or entry.get("fit") is False:
            continue
        name, record = _catalog_model(entry, catalog)
        if record is None:
            continue
        gpus, gpu_problems = _assigned_gpus(inst.get("gpus"), gpu_facts)
        if gpu_problems:
            problems += ["%s.gpus%s: %s" % (where, label, p) for p in gpu_problems]
            continue
        record = dict(record)
        record.setdefault("name", name)
        dtype = inst.get("quantization") or (inst.get("dtype") if inst.get("dtype") not in (None, "auto") else None)
        try:
            verdict = plan(record, {"gpus": gpus}, gpu_memory_utilization=inst.get("gpu_memory_utilization") or 0.9,
                           dtype=dtype, max_model_len=inst.get("max_model_len"), suggest=False)
        except ValueError as exc:
            problems.append("%s.model%s: cannot size %s: %s" % (where, label, name, exc))
            continue
        assigned = "%d GPU(s) %s" % (len(gpus), "listed in gpus" if inst.get("gpus") else "of the host")
        if not verdict["fits"]:
            problems.append("%s.model %s%s does not fit the %s: %s; pick a smaller model or quantization, "
                            "or assign more GPUs" % (where, inst.get("model"), label, assigned, verdict["message"].rstrip(".")))
            continue
        tp = inst.get("tensor_parallel_size")
        if tp is not None and not isinstance(tp, bool) and isinstance(tp, int) and tp < verdict["tensor_parallel_size"]:
            problems.append("%s.tensor_parallel_size%s is %d but model %s needs at least %d on these GPUs: %s"
                            % (where, label, tp, inst.get("model"), verdict["tensor_parallel_size"],
                               verdict["message"].rstrip(".")))
    return problems
