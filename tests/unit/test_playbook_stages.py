"""Entry playbooks sit at the top of playbooks/ and only import stages (playbooks/stages/); the
preflight stage comes first in each, and the closed-network check runs once per run: in the
preflight, while the closed_network stage turns the role's check off. upgrade.yml restarts and waits
through the engine roles, never with its own unit names or health probes."""

from __future__ import annotations

from pathlib import Path

import yaml

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"
STAGES = PLAYBOOKS / "stages"


def _load(path):
    return yaml.safe_load(path.read_text())


def _imports(path):
    return [play["ansible.builtin.import_playbook"] for play in _load(path)
            if "ansible.builtin.import_playbook" in play]


def _tasks(plays):
    def walk(tasks):
        for task in tasks or []:
            yield task
            yield from walk(task.get("block"))
            yield from walk(task.get("rescue"))
            yield from walk(task.get("always"))
    for play in plays:
        for key in ("pre_tasks", "tasks", "post_tasks"):
            yield from walk(play.get(key))


def test_entry_playbooks_import_only_stages():
    for path in sorted(PLAYBOOKS.glob("*.yml")):
        for imported in _imports(path):
            assert imported.startswith("stages/"), f"{path.name} imports {imported}, not a stage"
            assert (PLAYBOOKS / imported).is_file(), f"{path.name}: {imported} does not exist"


def test_stages_import_no_entry_playbook():
    for path in sorted(STAGES.glob("*.yml")):
        for imported in _imports(path):
            assert not (PLAYBOOKS / imported).resolve().parent == PLAYBOOKS, f"{path.name} imports {imported}"


def test_every_entry_playbook_that_touches_hosts_runs_the_preflight_first():
    for path in sorted(PLAYBOOKS.glob("*.yml")):
        imports = _imports(path)
        if path.name in {"bundle.yml", "evaluate.yml"}:
            # The controller's own jobs: the bundle is built and the answers scored on localhost.
            continue
        assert imports and imports[0] == "stages/preflight.yml", path.name
        assert imports.count("stages/preflight.yml") == 1, path.name


def test_the_preflight_checks_and_the_closed_network_stage_does_not_check_again():
    checks = [task for task in _tasks(_load(STAGES / "preflight.yml"))
              if task.get("ansible.builtin.include_role", {}).get("tasks_from") == "check.yml"]
    assert [task["ansible.builtin.include_role"]["name"] for task in checks] == ["onprem.llm.closed_network"]
    (network,) = _load(STAGES / "closed_network.yml")
    (role,) = network["roles"]
    assert role["role"] == "onprem.llm.closed_network" and role["vars"]["closed_network_check"] is False


def test_upgrade_restarts_and_waits_through_the_engine_roles():
    tasks = list(_tasks(_load(STAGES / "upgrade.yml")))
    modules = {key for task in tasks for key in task if key.startswith("ansible.builtin.")}
    assert not modules & {"ansible.builtin.systemd_service", "ansible.builtin.systemd", "ansible.builtin.uri",
                          "ansible.builtin.command"}, modules
    roles = {task["ansible.builtin.include_role"]["name"]: task.get("vars", {}) for task in tasks
             if "ansible.builtin.include_role" in task and "tasks_from" not in task["ansible.builtin.include_role"]}
    assert roles["onprem.llm.vllm"]["vllm_restart"] == "{{ onprem_upgrade_restart | bool }}"
    assert roles["onprem.llm.ollama"]["ollama_restart"] == "{{ onprem_upgrade_restart | bool }}"
