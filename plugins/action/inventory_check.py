# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin onprem.llm.inventory_check: the inventory preflight, run on the controller.

Documentation: plugins/modules/inventory_check.py. The checks are the pure functions of
plugins/module_utils/preflight/inventory.py; this file only reads the catalogue (every role's
meta/argument_specs.yml and data/inventory_variables.yml), templates each host's variables leaf by
leaf (so an undefined variable is reported at its list index and key) and formats the result.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import yaml

from ansible.errors import AnsibleError, AnsibleUndefinedVariable
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

from ansible_collections.onprem.llm.plugins.module_utils.preflight.catalogue import (
    CatalogueError,
    build_catalogue,
    collection_specs_from_documents,
    role_specs_from_documents,
)
from ansible_collections.onprem.llm.plugins.module_utils.preflight.inventory import (
    TemplateIssue,
    fit_problems,
    host_problems,
    name_problems,
    value_problems_of,
)
from ansible_collections.onprem.llm.plugins.module_utils.weights.catalog import SAFE_LOADER, CatalogError, load_catalog_cached
from ansible_collections.onprem.llm.plugins.module_utils.weights.sizing import plan

# plugins/action/inventory_check.py -> the collection root
ROOT = Path(__file__).resolve().parents[2]
_UNDEFINED_RE = re.compile(r"'([A-Za-z_][A-Za-z0-9_]*)' is undefined")
# Templates that read facts or other hosts cannot be resolved before the facts exist: not an error.
_LATE_RE = re.compile(r"\b(ansible_facts|hostvars|ansible_[a-z0-9_]+|onprem_gpu|onprem_models|vllm_plan)\b")

ARGUMENT_SPEC = {
    "checks": {"type": "str", "choices": ["inventory", "gpu_fit", "values"], "default": "inventory"},
    "hosts": {"type": "list", "elements": "str"},
    "roles": {"type": "list", "elements": "str", "default": []},
    "gpu_facts": {"type": "dict"},
}


def load_catalogue(root=ROOT):
    documents = {}
    for spec_file in sorted((root / "roles").glob("*/meta/argument_specs.yml")):
        with spec_file.open(encoding="utf-8") as stream:
            documents[spec_file.parent.parent.name] = yaml.load(stream, Loader=SAFE_LOADER) or {}
    with (root / "data" / "inventory_variables.yml").open(encoding="utf-8") as stream:
        data = yaml.load(stream, Loader=SAFE_LOADER) or {}
    return build_catalogue(role_specs_from_documents(documents), data, collection_specs_from_documents(documents))


def _short(exc):
    text = to_native(getattr(exc, "message", None) or exc).strip().splitlines()
    text = text[0] if text else type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def resolve(templar, value, path, issues):
    """Template ``value`` leaf by leaf; undefined leaves become None and an issue naming the path."""
    if isinstance(value, Mapping):
        return dict((key, resolve(templar, item, "%s.%s" % (path, key), issues)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [resolve(templar, item, "%s[%d]" % (path, i), issues) for i, item in enumerate(value)]
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    try:
        return templar.template(value)
    except AnsibleUndefinedVariable as exc:
        if isinstance(value, str) and _LATE_RE.search(value):
            return None
        match = _UNDEFINED_RE.search(to_native(exc))
        issues.append(TemplateIssue(path, undefined=match.group(1)) if match else TemplateIssue(path, message=_short(exc)))
    except AnsibleError as exc:
        text = to_native(exc)
        locked = "undecryptable" in text or "Decryption failed" in text or "vault secrets" in text
        issues.append(TemplateIssue(path, locked=True) if locked else TemplateIssue(path, message=_short(exc)))
    return None


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        result["changed"] = False
        validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            catalogue = load_catalogue()
        except (OSError, yaml.YAMLError, CatalogueError) as exc:
            result.update(failed=True, msg="onprem.llm.inventory_check: cannot read the catalogue: %s" % to_native(exc))
            return result
        if args["checks"] == "gpu_fit":
            problems = self._gpu_fit(catalogue, args, task_vars)
            checked = [task_vars.get("inventory_hostname")]
        elif args["checks"] == "values":
            problems = self._values(catalogue, args, task_vars)
            checked = [task_vars.get("inventory_hostname")]
        else:
            checked = args.get("hosts") or list((task_vars.get("groups") or {}).get("all") or [])
            problems = []
            for host in checked:
                problems += self._host(host, catalogue, task_vars)
        result["problems"] = problems
        result["hosts"] = checked
        if problems and args["checks"] == "values":
            result["failed"] = True
            result["msg"] = "The settings of %s have %d problem(s); nothing was changed. Fix them and run again:\n%s" % (
                ", ".join(args["roles"]), len(problems), "\n".join("- %s" % p for p in problems))
        elif problems:
            result["failed"] = True
            result["msg"] = "The inventory has %d problem(s); nothing was changed. Fix them and run again:\n%s" % (
                len(problems), "\n".join("- %s" % p for p in problems))
        else:
            result["msg"] = "%d host(s): the inventory passes the preflight" % len(checked)
        return result

    def _host(self, host, catalogue, task_vars):
        hostvars = task_vars["hostvars"]
        raw = hostvars.raw_get(host)
        if not isinstance(raw, Mapping):
            return ["%s: not in the inventory" % host]
        variables = dict(raw)
        variables["hostvars"] = hostvars
        templar = self._templar.copy_with_new_env(available_variables=variables)
        values, issues = {}, []
        for name in sorted(raw):
            if catalogue.owns(name):
                values[name] = resolve(templar, raw[name], name, issues)
        groups = list(raw.get("group_names") or [])
        return host_problems(host, values, groups, catalogue, issues, self._command_line())

    def _command_line(self):
        """Names given with -e: the variable manager knows them apart from the inventory's."""
        manager = self._task.get_variable_manager()
        return frozenset(manager.extra_vars) if manager is not None else frozenset()

    def _values(self, catalogue, args, task_vars):
        """A role's own guard: the value rules for the variables of ``roles`` and the collection-wide
        ``onprem_*`` ones as the role sees them (play vars, role params and defaults included), on the
        host the task runs for."""
        host = task_vars.get("inventory_hostname")
        roles = set(args["roles"])
        unknown = sorted(roles - set(filter(None, (catalogue.role_of(n) for n in catalogue.options))))
        if unknown:
            return ["%s: roles %s are not roles of onprem.llm" % (host, ", ".join(unknown))]
        values, issues = {}, []
        for name in sorted(catalogue.options):
            if (catalogue.role_of(name) in roles or catalogue.role_of(name) is None) and name in task_vars:
                values[name] = resolve(self._templar, task_vars[name], name, issues)
        problems = [issue.sentence() for issue in issues] + value_problems_of(values, roles, catalogue, issues)
        # An old name the role no longer reads would be ignored silently outside the preflight.
        problems += [problem for old in sorted(catalogue.renamed) if old in task_vars
                     for problem in name_problems(old, catalogue)]
        return ["%s: %s" % (host, problem) for problem in problems]

    def _gpu_fit(self, catalogue, args, task_vars):
        host = task_vars.get("inventory_hostname")
        if "vllm_servers" not in (task_vars.get("group_names") or []):
            return []
        gpu_facts = args.get("gpu_facts")
        if gpu_facts is None:
            gpu_facts = (task_vars.get("ansible_facts") or {}).get("onprem_gpu")
        if gpu_facts is None:
            return ["%s: no GPU facts (ansible_facts.onprem_gpu); run the onprem.llm.gpu_preflight role first" % host]
        values, issues = {}, []
        for name in ("vllm_instances", "model_weights_models", "vllm_allow_cpu"):
            raw = task_vars[name] if name in task_vars else catalogue.default(name)
            values[name] = resolve(self._templar, raw, name, issues)
        if issues:
            return ["%s: %s" % (host, issue.sentence()) for issue in issues]
        try:
            models = load_catalog_cached(ROOT / "data" / "models.yml")
        except CatalogError as exc:
            return ["%s: cannot read the model catalog: %s" % (host, to_native(exc))]
        found = fit_problems(values["vllm_instances"], values["model_weights_models"], gpu_facts, models, plan,
                             allow_cpu=values["vllm_allow_cpu"] is True)
        return ["%s: %s" % (host, problem) for problem in found]
