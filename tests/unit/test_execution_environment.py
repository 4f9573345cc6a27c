"""The execution environment declares what the controller's side of the collection imports.

An execution environment (AWX, Ansible Automation Platform) is the controller: the action and
filter plugins, and the modules of the plays that run on localhost, run inside it, with the Python
packages ansible-builder installs from meta/ee-requirements.txt. A module of such a play importing a
package missing there would fail only in the image. The modules that run on the managed nodes use
the nodes' Python, which the roles provision, and bundle.yml is documented as a Debian or Ubuntu
controller's job (it runs apt), so neither is counted here.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ROOT / "plugins"
UTILS_PREFIX = "ansible_collections.onprem.llm.plugins.module_utils."
# What ansible-core itself requires (its wheel's Requires-Dist), present in every execution environment.
ANSIBLE_CORE_PROVIDES = {"ansible", "jinja2", "yaml", "cryptography", "packaging", "resolvelib"}
# Import name -> distribution name, where they differ.
DISTRIBUTION = {"yaml": "pyyaml"}
# Playbooks whose localhost plays are not for an execution environment (the reason is in the docstring).
NOT_IN_EE = {"bundle.yml"}


def _pins(path):
    lines = (line.split("#")[0].strip() for line in path.read_text().splitlines())
    return dict(line.split("==") for line in lines if line)


def _tasks(items):
    for item in items or []:
        if not isinstance(item, dict):
            continue
        yield item
        for key in ("block", "rescue", "always"):
            yield from _tasks(item.get(key))


def controller_modules():
    modules = set()
    for playbook in sorted((ROOT / "playbooks").rglob("*.yml")):
        if playbook.name in NOT_IN_EE:
            continue
        for play in yaml.safe_load(playbook.read_text()) or []:
            if not isinstance(play, dict) or play.get("hosts") != "localhost":
                continue
            for task in _tasks(play.get("tasks", []) + play.get("pre_tasks", []) + play.get("post_tasks", [])):
                if "delegate_to" in task:
                    continue
                modules.update(key.split(".")[-1] for key in task if key.startswith("onprem.llm."))
    return {name for name in modules if (PLUGINS / "modules" / (name + ".py")).exists()}


def _imports(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
            yield from ("%s.%s" % (node.module, alias.name) for alias in node.names)


def third_party_imports(paths):
    """Top-level third-party packages imported by paths and the module_utils they use, transitively."""
    found, seen, todo = set(), set(), list(paths)
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _imports(path):
            if name.startswith(UTILS_PREFIX):
                relative = name[len(UTILS_PREFIX):].replace(".", "/")
                for candidate in (PLUGINS / "module_utils" / (relative + ".py"),
                                  PLUGINS / "module_utils" / relative / "__init__.py"):
                    if candidate.exists():
                        todo.append(candidate)
                continue
            top = name.split(".")[0]
            if top not in sys.stdlib_module_names and top != "ansible_collections":
                found.add(top)
    return found


def test_the_plays_on_the_controller_are_found():
    # The reports draw charts on the controller; evaluate.yml checks the task files there first.
    assert {"llm_benchmark_report", "llm_evaluate_report", "llm_evaluate"} <= controller_modules()


def test_the_controller_side_imports_only_declared_packages():
    paths = [PLUGINS / "modules" / (name + ".py") for name in controller_modules()]
    paths += sorted((PLUGINS / "action").glob("*.py")) + sorted((PLUGINS / "filter").glob("*.py"))
    declared = {name.lower() for name in _pins(ROOT / "meta" / "ee-requirements.txt")}
    missing = sorted(name for name in third_party_imports(paths) - ANSIBLE_CORE_PROVIDES
                     if DISTRIBUTION.get(name, name).lower() not in declared)
    assert missing == [], "imported on the controller, missing from meta/ee-requirements.txt: %s" % missing


def test_the_scan_sees_a_package_a_module_imports_inside_a_function():
    # The charts import matplotlib lazily; the scan must still count it.
    assert "matplotlib" in third_party_imports([PLUGINS / "modules" / "llm_benchmark_report.py"])


def test_the_execution_environment_pins_what_the_tests_run():
    tools = _pins(ROOT / "requirements" / "tools.txt")
    for name, version in _pins(ROOT / "meta" / "ee-requirements.txt").items():
        assert tools.get(name) == version, "meta/ee-requirements.txt pins %s==%s, requirements/tools.txt %s" % (
            name, version, tools.get(name))
    definition = yaml.safe_load((ROOT / "execution-environment.yml").read_text())
    for key in ("ansible_core", "ansible_runner"):
        name, version = definition["dependencies"][key]["package_pip"].split("==")
        assert tools[name] == version, (key, version, tools[name])


def test_the_collection_points_ansible_builder_at_its_files():
    meta = yaml.safe_load((ROOT / "meta" / "execution-environment.yml").read_text())
    assert meta["version"] == 1
    for key in ("python", "system"):
        assert (ROOT / meta["dependencies"][key]).is_file(), meta["dependencies"][key]
    for line in (ROOT / "meta" / "ee-bindep.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            assert re.fullmatch(r"[a-z0-9.+-]+( \[platform:(rpm|dpkg)\])?", line), line
