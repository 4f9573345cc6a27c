"""Every per-OS file a role includes exists for every platform its meta/main.yml lists.

For each platform, the role's ``first_found`` vars list is resolved the way Ansible does (first
existing file under ``vars/``), that file's variables are loaded, and every ``include_tasks`` /
``import_tasks`` whose name is templated is rendered with them and must name a file of the role.
A role that says it supports EL but includes ``sources_{{ package manager }}.yml`` without a
``sources_dnf.yml`` fails here instead of on the user's first RHEL host.
"""

import re
from pathlib import Path

import jinja2
import pytest
import yaml

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


def _first_found_lists(role):
    """Each first_found 'files' list in the role's tasks, as raw templates."""
    out = []
    for path in sorted((role / "tasks").glob("*.yml")):
        for task in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            for value in (task.get("vars") or {}).values():
                if isinstance(value, dict) and "files" in value and "paths" in value:
                    out.append(value["files"])
    return out


def _render(template, variables):
    return jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(template).render(**variables)


CASES = [(role, platform, facts) for role in ROLES for platform in _platforms(role)
         for facts in FACTS[platform]]


@pytest.mark.parametrize("role,platform,facts", CASES,
                         ids=["%s-%s%s-%s" % (r.name, p[0], p[1], f["distribution"]) for r, p, f in CASES])
def test_per_os_includes_exist(role, platform, facts):
    variables = {"ansible_facts": facts, "role_path": str(role)}
    for files in _first_found_lists(role):
        names = [_render(name, variables) for name in files]
        found = [n for n in names if (role / "vars" / n).is_file()]
        assert found, "%s on %s %s: none of %s exists under vars/" % (role.name, platform[0], platform[1], names)
        variables.update(yaml.safe_load((role / "vars" / found[0]).read_text(encoding="utf-8")) or {})
    for path in sorted((role / "tasks").glob("*.yml")):
        for template in INCLUDE.findall(path.read_text(encoding="utf-8")):
            name = _render(template.strip(), variables)
            assert (role / "tasks" / name).is_file(), "%s/tasks/%s includes %s on %s %s (%s): no such file" % (
                role.name, path.name, name, platform[0], platform[1], facts["distribution"])


def test_the_check_sees_the_templated_includes():
    text = (ROOT / "roles" / "nvidia_driver" / "tasks" / "main.yml").read_text(encoding="utf-8")
    assert INCLUDE.findall(text) == ["sources_{{ __nvidia_driver_package_manager }}.yml",
                                     "install_{{ __nvidia_driver_package_manager }}.yml"]
