# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The offline bundle carries every package the roles install with apt (docs/closed-network.md): a
role that starts installing a package the bundle's default list lacks fails here, not on the first
closed-network host. The NVIDIA driver and CUDA packages come from the GPU plan, not this list."""

from __future__ import annotations

import pathlib

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
# Their apt packages are planned per host (plugins/module_utils/bundle/gpu_packages.py).
PLANNED = {"nvidia_driver", "cuda"}


def _tasks(node):
    """Every task dict in a task file, blocks included."""
    for task in node or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from _tasks(task.get(key))


def _installed_literally():
    """{package: 'role/tasks/file.yml'} of apt tasks naming packages literally, not removing them."""
    found = {}
    for path in sorted(ROOT.glob("roles/*/tasks/*.yml")):
        role = path.parts[-3]
        if role in PLANNED:
            continue
        for task in _tasks(yaml.safe_load(path.read_text())):
            apt = task.get("ansible.builtin.apt")
            include = task.get("ansible.builtin.include_role") or {}
            if include.get("name") == "onprem.llm._common" and include.get("tasks_from") == "packages.yml":
                # The shared install idiom: its package list comes in the include's vars.
                apt = {"name": (task.get("vars") or {}).get("_common_packages", [])}
            if not isinstance(apt, dict) or apt.get("state", "present") == "absent" or "name" not in apt:
                continue
            names = apt["name"] if isinstance(apt["name"], list) else [apt["name"]]
            for name in names:
                if "{{" not in str(name):
                    found[str(name)] = "%s/tasks/%s" % (role, path.name)
    return found


def _debian_package_lists():
    """{package: 'role/vars/<file>'} of the package lists the roles template into their install tasks
    (what every OS shares in vars/main.yml, what differs on Debian and Ubuntu in vars/Debian.yml)."""
    found = {}
    for path in sorted(ROOT.glob("roles/*/vars/Debian.yml")) + sorted(ROOT.glob("roles/*/vars/main.yml")):
        role = path.parts[-3]
        if role in PLANNED:
            continue
        for name, value in (yaml.safe_load(path.read_text()) or {}).items():
            if name.endswith("_packages") and isinstance(value, list):
                for package in value:
                    found[str(package)] = "%s/vars/%s %s" % (role, path.name, name)
    return found


def test_the_bundle_carries_every_package_a_role_installs():
    carried = set(yaml.safe_load((ROOT / "roles" / "bundle" / "defaults" / "main.yml").read_text())["bundle_apt_packages"])
    installed = dict(_installed_literally(), **_debian_package_lists())
    assert {"prometheus", "mtail", "zstd", "libnginx-mod-http-js", "libnuma1", "nginx", "g++"} <= set(installed)
    missing = {package: where for package, where in installed.items() if package not in carried}
    assert missing == {}


def test_the_argument_spec_default_is_the_defaults_list():
    spec = yaml.safe_load((ROOT / "roles" / "bundle" / "meta" / "argument_specs.yml").read_text())
    default = spec["argument_specs"]["main"]["options"]["bundle_apt_packages"]["default"]
    assert default == yaml.safe_load((ROOT / "roles" / "bundle" / "defaults" / "main.yml").read_text())[
        "bundle_apt_packages"]
