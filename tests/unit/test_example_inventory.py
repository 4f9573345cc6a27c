"""inventories/example stays honest: it parses (vault included) and sets only variables that exist.

Every variable the example sets - and every one its comments show as ``# <name>: <default>`` - must
be declared by a role's ``meta/argument_specs.yml`` (the collection-wide ``onprem_*`` ones by the main
entry point of ``roles/_common``) or be a plumbing pattern of ``data/inventory_variables.yml``;
entries of list/dict options (``vllm_instances``, ``model_weights_models`` ...) may only use that
option's suboptions; every ``vault_*`` the example references is defined and decrypts with the
documented example password.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible.parsing.vault import VaultLib, VaultSecret

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "inventories" / "example"
PASSWORD_FILE = EXAMPLE / "vault-password.txt"
GROUPS = {"gpu_nodes", "vllm_servers", "ollama_servers", "model_mirror", "gateway", "monitoring"}
CONNECTION_VARS = {"ansible_host", "ansible_port", "ansible_user", "ansible_connection", "ansible_python_interpreter",
                   "ansible_become", "ansible_ssh_common_args"}


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!vault", lambda loader, node: {"__vault__": loader.construct_scalar(node)})


def load(path):
    with path.open(encoding="utf-8") as stream:
        return yaml.load(stream, Loader=_Loader) or {}


def role_options():
    out = {}
    for spec in sorted(ROOT.glob("roles/*/meta/argument_specs.yml")):
        for entry in (load(spec).get("argument_specs") or {}).values():
            out.update((entry or {}).get("options") or {})
    return out


def patterns():
    return load(ROOT / "data" / "inventory_variables.yml").get("patterns") or []


def var_files():
    return sorted(p for p in (EXAMPLE / "group_vars").rglob("*.yml")) + sorted((EXAMPLE / "host_vars").rglob("*.yml"))


def set_variables():
    """(file, name, value) for every variable set in group_vars, host_vars and hosts.yml."""
    out = []
    for path in var_files():
        for name, value in load(path).items():
            out.append((path.relative_to(EXAMPLE), name, value))

    def walk(group, where):
        for host, hvars in ((group or {}).get("hosts") or {}).items():
            for name, value in (hvars or {}).items():
                out.append((where, name, value))
        for name, value in ((group or {}).get("vars") or {}).items():
            out.append((where, name, value))
        for child in ((group or {}).get("children") or {}).values():
            walk(child, where)

    walk(load(EXAMPLE / "hosts.yml").get("all"), Path("hosts.yml"))
    return out


def known(name, options, plumbing):
    import fnmatch
    return (name in options or name in CONNECTION_VARS or name.startswith("vault_")
            or any(fnmatch.fnmatch(name, pat) for pat in plumbing))


def test_inventory_parses_with_the_example_vault_password():
    tool = Path(sys.executable).with_name("ansible-inventory")
    result = subprocess.run([str(tool), "-i", str(EXAMPLE), "--list", "--vault-password-file", str(PASSWORD_FILE)],
                            capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert GROUPS <= set(doc)
    for group in GROUPS:
        assert doc[group].get("hosts"), "group %s has no hosts" % group
    hostvars = doc["_meta"]["hostvars"]
    assert hostvars["gw1"]["gateway_listen"] == "0.0.0.0"
    assert "vllm_instances" in hostvars["gpu1"] and "vllm_instances" not in hostvars["gw1"]


def test_every_set_variable_is_declared():
    options, plumbing = role_options(), patterns()
    unknown = ["%s: %s" % (where, name) for where, name, _value in set_variables()
               if not known(name, options, plumbing)]
    assert unknown == []


def _suboption_problems(name, value, spec, where):
    problems = []
    subs = spec.get("options")
    if not subs:
        return problems
    items = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
    for item in items:
        if isinstance(item, dict):
            for key, sub in item.items():
                if key not in subs:
                    problems.append("%s: %s entry has unknown key %s" % (where, name, key))
                else:
                    problems += _suboption_problems("%s.%s" % (name, key), sub, subs[key] or {}, where)
    return problems


def test_entries_use_only_declared_suboptions():
    options = role_options()
    problems = []
    for where, name, value in set_variables():
        if name in options:
            problems += _suboption_problems(name, value, options[name] or {}, where)
    assert problems == []


COMMENTED = re.compile(r"^# ([a-z][a-z0-9_]*): ")


def test_commented_defaults_name_declared_variables():
    options, plumbing = role_options(), patterns()
    prefixes = tuple(sorted({name.split("_")[0] + "_" for name in options} | {"onprem_"}))
    shown = []
    for path in var_files():
        for line in path.read_text(encoding="utf-8").splitlines():
            match = COMMENTED.match(line)
            if match and match.group(1).startswith(prefixes):
                shown.append((path.relative_to(EXAMPLE), match.group(1)))
    assert len(shown) > 100, "the example documents the roles' settings as commented defaults"
    unknown = ["%s: %s" % item for item in shown if not known(item[1], options, plumbing)]
    assert unknown == []


def test_every_role_setting_is_documented_somewhere():
    """Each role variable of the roles a site runs appears in the example, set or commented."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in var_files())
    roles = ("gpu_preflight", "nvidia_driver", "cuda", "model_weights", "vllm", "ollama", "gateway", "monitoring")
    missing = []
    for role in roles:
        spec = load(ROOT / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
        missing += [name for name in spec if not re.search(r"^(# )?%s:" % re.escape(name), text, re.M)]
    assert missing == []


def test_vault_references_resolve_and_decrypt():
    secret = VaultLib([("default", VaultSecret(PASSWORD_FILE.read_bytes().strip()))])
    vault = load(EXAMPLE / "group_vars" / "all" / "vault.yml")
    assert vault and all(name.startswith("vault_") for name in vault)
    for name, value in vault.items():
        assert isinstance(value, dict) and "__vault__" in value, "%s is not encrypted" % name
        assert secret.decrypt(value["__vault__"].encode()).decode()
    referenced = set()
    for path in var_files():
        referenced |= set(re.findall(r"\b(vault_[a-z0-9_]+)\b", path.read_text(encoding="utf-8").split("$ANSIBLE_VAULT")[0]))
    referenced -= {"vault_password_file"}
    assert referenced and referenced <= set(vault), sorted(referenced - set(vault))


@pytest.mark.parametrize("playbook", ["playbooks/smoke.yml", "playbooks/benchmark.yml"])
def test_playbooks_syntax_against_the_example(playbook):
    tool = Path(sys.executable).with_name("ansible-playbook")
    result = subprocess.run([str(tool), "-i", str(EXAMPLE), "--syntax-check", "--vault-password-file",
                             str(PASSWORD_FILE), playbook], capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
