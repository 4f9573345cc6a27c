"""Every per-OS file a role includes exists for every platform its meta/main.yml lists.

For each platform, the role's values are put together the way onprem.llm._common's os_vars entry
point does (vars/main.yml, then each of onprem.llm.os_vars_files that exists under vars/), and every
``include_tasks`` / ``import_tasks`` whose name is templated is rendered with them and must name a
file of the role. A role that says it supports EL but includes ``sources_{{ package manager }}.yml``
without a ``sources_dnf.yml`` fails here instead of on the user's first RHEL host. The per-OS files
hold only what differs: none repeats a value of vars/main.yml, and each is loaded on some platform.
"""

import re
from pathlib import Path

import jinja2
import pytest
import yaml

from ansible_collections.onprem.llm.plugins.module_utils.os_vars import os_vars_files

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p.parent.parent for p in ROOT.glob("roles/*/meta/main.yml"))

# ansible_facts of a representative host per platform listed in meta/main.yml.
FACTS = {
    ("Debian", "bookworm"): [{"distribution": "Debian", "distribution_major_version": "12",
                              "distribution_version": "12.12", "os_family": "Debian"}],
    ("Debian", "trixie"): [{"distribution": "Debian", "distribution_major_version": "13",
                            "distribution_version": "13.1", "os_family": "Debian"}],
    ("Ubuntu", "jammy"): [{"distribution": "Ubuntu", "distribution_major_version": "22",
                           "distribution_version": "22.04", "os_family": "Debian"}],
    ("Ubuntu", "noble"): [{"distribution": "Ubuntu", "distribution_major_version": "24",
                           "distribution_version": "24.04", "os_family": "Debian"}],
}
for _major, _minor in (("8", "10"), ("9", "6"), ("10", "0")):
    FACTS[("EL", _major)] = [{"distribution": name, "distribution_major_version": _major,
                              "distribution_version": "%s.%s" % (_major, _minor), "os_family": "RedHat"}
                             for name in ("RedHat", "Rocky", "AlmaLinux")]

INCLUDE = re.compile(r"ansible\.builtin\.(?:include|import)_tasks:\s*[\"']?([^\"'\n]*\{\{[^\n]*?)[\"']?\s*$", re.M)


def _platforms(role):
    meta = yaml.safe_load((role / "meta" / "main.yml").read_text(encoding="utf-8"))
    for platform in meta["galaxy_info"].get("platforms") or []:
        for version in platform["versions"]:
            yield platform["name"], str(version)


def _uses_os_vars(role):
    """Whether a task of the role includes onprem.llm._common's os_vars entry point."""
    for path in sorted((role / "tasks").glob("*.yml")):
        for task in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            include = task.get("ansible.builtin.include_role") or {}
            if include.get("name") == "onprem.llm._common" and include.get("tasks_from") == "os_vars.yml":
                return True
    return False


def _load(path):
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _os_files(role, facts):
    """The per-OS files os_vars loads for these facts, in order."""
    return [role / "vars" / name for name in os_vars_files(facts) if (role / "vars" / name).is_file()]


def _render(template, variables):
    return jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(template).render(**variables)


CASES = [(role, platform, facts) for role in ROLES for platform in _platforms(role)
         for facts in FACTS[platform]]


@pytest.mark.parametrize("role,platform,facts", CASES,
                         ids=["%s-%s%s-%s" % (r.name, p[0], p[1], f["distribution"]) for r, p, f in CASES])
def test_per_os_includes_exist(role, platform, facts):
    variables = {"ansible_facts": facts, "role_path": str(role)}
    if (role / "vars" / "main.yml").is_file():
        variables.update(_load(role / "vars" / "main.yml"))
    if _uses_os_vars(role):
        for path in _os_files(role, facts):
            variables.update(_load(path))
    for path in sorted((role / "tasks").glob("*.yml")):
        for template in INCLUDE.findall(path.read_text(encoding="utf-8")):
            name = _render(template.strip(), variables)
            assert (role / "tasks" / name).is_file(), "%s/tasks/%s includes %s on %s %s (%s): no such file" % (
                role.name, path.name, name, platform[0], platform[1], facts["distribution"])


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_per_os_files_hold_only_what_differs(role):
    main = _load(role / "vars" / "main.yml") if (role / "vars" / "main.yml").is_file() else {}
    per_os = sorted(p for p in (role / "vars").glob("*.yml") if p.name != "main.yml") if (role / "vars").is_dir() else []
    if per_os:
        assert _uses_os_vars(role), "%s has per-OS vars files but does not include onprem.llm._common's os_vars" % role.name
    loaded = {p for platform in _platforms(role) for facts in FACTS[platform] for p in _os_files(role, facts)}
    for path in per_os:
        assert path in loaded, "%s/vars/%s is loaded on none of the role's platforms" % (role.name, path.name)
        repeated = sorted(k for k, v in _load(path).items() if k in main and main[k] == v)
        assert not repeated, "%s/vars/%s repeats vars/main.yml: %s" % (role.name, path.name, repeated)


def test_no_role_picks_its_vars_with_first_found():
    for role in ROLES:
        for path in sorted((role / "tasks").glob("*.yml")):
            assert "first_found" not in path.read_text(encoding="utf-8"), (
                "%s/tasks/%s: per-OS values come from onprem.llm._common's os_vars" % (role.name, path.name))


def test_the_check_sees_the_templated_includes():
    text = (ROOT / "roles" / "nvidia_driver" / "tasks" / "main.yml").read_text(encoding="utf-8")
    assert INCLUDE.findall(text) == ["sources_{{ __nvidia_driver_package_manager }}.yml",
                                     "install_{{ __nvidia_driver_package_manager }}.yml"]
