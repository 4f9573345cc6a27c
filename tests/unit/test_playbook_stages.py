"""The closed-network check runs once per run: in the preflight, which every entry playbook that
imports the network stage imports first; the network stage itself turns the role's check off."""

from __future__ import annotations

from pathlib import Path

import yaml

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"


def _imports(path):
    return [play["ansible.builtin.import_playbook"] for play in yaml.safe_load(path.read_text())
            if "ansible.builtin.import_playbook" in play]


def test_every_entry_playbook_with_the_network_stage_runs_the_preflight_first():
    entries = [path for path in sorted(PLAYBOOKS.glob("*.yml")) if "stages/network.yml" in _imports(path)]
    assert {path.name for path in entries} >= {"site.yml", "gpu.yml", "serve.yml", "weights.yml"}
    for path in entries:
        imports = _imports(path)
        assert "preflight.yml" in imports, path.name
        assert imports.index("preflight.yml") < imports.index("stages/network.yml"), path.name


def test_the_preflight_checks_and_the_network_stage_does_not_check_again():
    preflight = yaml.safe_load((PLAYBOOKS / "preflight.yml").read_text())
    checks = [task for play in preflight for task in play.get("tasks", [])
              if task.get("ansible.builtin.include_role", {}).get("tasks_from") == "check.yml"]
    assert [task["ansible.builtin.include_role"]["name"] for task in checks] == ["onprem.llm.egress"]
    (network,) = yaml.safe_load((PLAYBOOKS / "stages" / "network.yml").read_text())
    (role,) = network["roles"]
    assert role["role"] == "onprem.llm.egress" and role["vars"]["egress_check"] is False
