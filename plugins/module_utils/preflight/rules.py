# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Value rules: what argument_specs cannot say about a setting (ranges, formats, pins, security).

Pure functions, called by the inventory preflight for every host (playbooks/preflight.yml) and by
each role for its own variables (``onprem.llm.inventory_check`` with ``checks: values``), so a role
used outside site.yml refuses the same values. The rules table lives in
``data/inventory_variables.yml`` (``rules``: a variable path, ``[]`` for each list item, -> a format
name of preflight/formats.py); the rules that relate several settings (an address and its key, a client list)
are the functions at the end of this file. Every sentence names the variable (list index, key and
the item's name), the bad value (never a secret's) and the fix.
"""

from __future__ import annotations

import re

from ansible_collections.onprem.llm.plugins.module_utils.gateway.routes import api_key_problems
from ansible_collections.onprem.llm.plugins.module_utils.monitoring.alertmanager import receiver_problems
from ansible_collections.onprem.llm.plugins.module_utils.preflight.formats import FORMATS
from ansible_collections.onprem.llm.plugins.module_utils.preflight.typecheck import is_secret, show
from ansible_collections.onprem.llm.plugins.module_utils.vllm.instances import instance_rule_problems

# "" means "not set" for every format but name and port (the roles' defaults use it so).
_UNSET = ("",)


def _paths(value, parts, where):
    """(path, leaf value) pairs of ``value`` along ``parts`` ('[]' = each list item)."""
    if not parts:
        yield where, value
        return
    head, rest = parts[0], parts[1:]
    if head == "[]":
        if isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                yield from _paths(item, rest, "%s[%d]" % (where, i))
        return
    if isinstance(value, dict) and head in value:
        label = ""
        if isinstance(value.get("name"), str) and where.endswith("]"):
            label = " (%s)" % value["name"]
        yield from _paths(value[head], rest, "%s%s.%s" % (where, label, head))


def split_rule_path(path):
    """'vllm_instances[].port' -> ('vllm_instances', ['[]', 'port'])."""
    parts = [p for p in path.replace("[]", ".[]").split(".") if p]
    return parts[0], parts[1:]


def _without_credentials(text):
    """A proxy or mirror URL may carry user:password@; a message shows (hidden)@ instead."""
    return re.sub(r"(^|//|,)[^/@\s,]*@", lambda m: m.group(1) + "(hidden)@", text)


def rule_problems(values, rules, secret_names=()):
    """Every leaf that breaks its rule. ``values``: variable name -> templated value (None = unset);
    ``rules``: path -> format name (data/inventory_variables.yml ``rules``)."""
    problems = []
    for path, fmt in sorted(rules.items()):
        name, parts = split_rule_path(path)
        if name not in values:
            continue
        check = FORMATS[fmt]
        for where, leaf in _paths(values[name], parts, name):
            if leaf is None or (isinstance(leaf, str) and leaf in _UNSET and fmt not in ("name", "port")):
                continue
            reason = check(leaf)
            if reason:
                secret = name in secret_names or is_secret(where.rsplit(".", 1)[-1], None)
                shown = _without_credentials(leaf) if isinstance(leaf, str) else leaf
                problems.append("%s %s, got %s; fix the value" % (where, reason, show(shown, secret)))
    return problems


def null_problems(values, catalogue):
    """``null`` for a setting whose default is not null: the role would get None, not the default."""
    problems = []
    for name in sorted(values):
        spec = catalogue.spec(name) or {}
        if values[name] is None and spec.get("default") is not None:
            problems.append("%s is null but has a default (%s); remove the line to take the default or set a value"
                            % (name, show(spec["default"])))
            continue
        options = spec.get("options") or {}
        items = values[name] if spec.get("type") == "list" and isinstance(values[name], list) else []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                continue
            for key, sub in sorted(options.items()):
                if key in item and item[key] is None and (sub or {}).get("default") is not None:
                    problems.append("%s[%d].%s is null but has a default (%s); remove the key or set a value"
                                    % (name, i, key, show(sub["default"])))
    return problems


def security_problems(values, roles, default=None):
    """Rules between settings: public vLLM addresses need keys, extra_args may not override what the
    role sets, tensor parallelism needs the GPUs listed, the gateway needs sane client keys, alert
    receivers need their addresses (and email ones a mail server).
    ``roles``: the roles that will run with these values; ``default(name)``: a setting's default."""
    default = default or (lambda name: None)
    problems = []
    if "vllm" in roles:
        for var in ("vllm_instances", "vllm_ray_instances"):
            instances = values.get(var)
            for i, inst in enumerate(instances if isinstance(instances, list) else []):
                if isinstance(inst, dict):
                    where = "%s[%d]" % (var, i) + (" (%s)" % inst["name"] if inst.get("name") else "")
                    problems += instance_rule_problems(inst, where)
    # A gateway being uninstalled serves no client: its keys no longer matter.
    if "gateway" in roles and (values.get("gateway_state") or default("gateway_state") or "present") != "absent":
        keys = values.get("gateway_api_keys")
        problems += api_key_problems(default("gateway_api_keys") if keys is None else keys)
    if "monitoring" in roles:
        receivers = values.get("monitoring_alert_receivers")
        if isinstance(receivers, list) and all(isinstance(r, dict) for r in receivers):
            smtp = {}
            for key in ("smarthost", "from"):
                value = values.get("monitoring_smtp_" + key)
                smtp[key] = default("monitoring_smtp_" + key) if value is None else value
            problems += receiver_problems(receivers, smtp, check_types=False)
    return problems
