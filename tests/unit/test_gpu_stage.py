"""The GPU stage reboots one node at a time unless told otherwise (issue: every GPU node rebooted at
once). Read from the real playbook and the example inventory, templated the way Ansible does: the
play's roles depend on onprem.llm._common, whose defaults are the lowest layer, and extra vars win
(play keywords never see the inventory; tests/unit/test_common_role.py runs that for real)."""

from __future__ import annotations

from pathlib import Path

import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROOT = Path(__file__).resolve().parents[2]


def _gpu_play():
    plays = yaml.safe_load((ROOT / "playbooks" / "stages" / "gpu.yml").read_text())
    (play,) = [p for p in plays if p.get("hosts") == "gpu_nodes"]
    return play


def _serial(**extra_vars):
    defaults = yaml.safe_load((ROOT / "roles" / "_common" / "defaults" / "main.yml").read_text())
    templar = Templar(loader=DataLoader(), variables=dict(defaults, **extra_vars))
    return templar.template(trust_as_template(_gpu_play()["serial"]))


def test_gpu_stage_runs_one_node_at_a_time_by_default():
    assert _serial() == 1


def test_gpu_stage_batch_is_onprem_gpu_serial():
    assert _serial(onprem_gpu_serial="100%") == "100%"
    assert _serial(onprem_gpu_serial=2) == 2


def _includes(tasks):
    """(role, tasks_from) of every include_role in the play's tasks, blocks flattened, in order."""
    found = []
    for task in tasks:
        if "block" in task:
            found += _includes(task["block"])
        elif "ansible.builtin.include_role" in task:
            inc = task["ansible.builtin.include_role"]
            found.append((inc["name"], inc.get("tasks_from", "main")))
    return found


def test_the_driver_and_cuda_roles_run_in_that_play():
    assert [r["role"] for r in _gpu_play()["roles"]] == ["onprem.llm._common"]
    includes = _includes(_gpu_play()["tasks"])
    assert includes.index(("onprem.llm.nvidia_driver", "main")) < includes.index(("onprem.llm.cuda", "main"))


def test_a_node_behind_a_gateway_leaves_it_for_the_reboot_and_comes_back():
    """Drain, reboot, wait, put back - in that order, after the driver role and before CUDA."""
    assert _includes(_gpu_play()["tasks"]) == [
        ("onprem.llm.gateway", "drained.yml"),
        ("onprem.llm.nvidia_driver", "main"),
        ("onprem.llm.gateway", "drain.yml"),
        ("onprem.llm.nvidia_driver", "reboot.yml"),
        ("onprem.llm.gateway", "wait.yml"),
        ("onprem.llm.gateway", "drain.yml"),
        ("onprem.llm.cuda", "main"),
    ]


def _reboot_hosts(batch, hostvars):
    templar = Templar(loader=DataLoader(), variables={"ansible_play_batch": batch, "hostvars": hostvars})
    return templar.template(trust_as_template(_gpu_play()["vars"]["__gpu_reboot_hosts"]))


def test_the_reboot_list_is_the_batch_hosts_the_role_left_a_reboot_to():
    hostvars = {
        "gpu1": {"inventory_hostname": "gpu1", "nvidia_driver_reboot_pending": True},
        "gpu2": {"inventory_hostname": "gpu2", "nvidia_driver_reboot_pending": False},
        "gpu3": {"inventory_hostname": "gpu3"},
        "gpu4": {"inventory_hostname": "gpu4", "nvidia_driver_reboot_pending": True},
    }
    assert _reboot_hosts(["gpu1", "gpu2", "gpu3"], hostvars) == ["gpu1"]
    assert _reboot_hosts(["gpu2", "gpu3"], hostvars) == []
    assert _reboot_hosts(["gpu4", "gpu1"], hostvars) == ["gpu4", "gpu1"]


def test_the_driver_role_hands_the_reboot_over_only_for_hosts_the_gateways_route_to():
    (driver,) = [t for t in _gpu_play()["tasks"]
                 if t.get("ansible.builtin.include_role", {}).get("name") == "onprem.llm.nvidia_driver"]
    expr = driver["vars"]["nvidia_driver_reboot_handoff"]
    for upstream, host, expected in ((["gpu1", "cpu1"], "gpu1", True), (["cpu1"], "gpu1", False), (None, "gpu1", False)):
        variables = {"inventory_hostname": host}
        if upstream is not None:
            variables["__gateway_upstream_hosts"] = upstream
        templar = Templar(loader=DataLoader(), variables=variables)
        assert templar.template(trust_as_template(expr)) is expected


def test_example_and_lab_inventories_set_no_batch_size():
    """Batch sizes are play keywords: set in an inventory they would be ignored (the preflight refuses them)."""
    keywords = yaml.safe_load((ROOT / "data" / "inventory_variables.yml").read_text())["play_keywords"]
    for inventory in ("example", "lab"):
        for path in (ROOT / "inventories" / inventory).rglob("*.yml"):
            text = path.read_text()
            data = yaml.safe_load(text) if "$ANSIBLE_VAULT" not in text else None
            assert not set(keywords) & set(data if isinstance(data, dict) else {}), path


def test_example_inventory_allows_reboots_only_with_the_default_batch():
    driver = yaml.safe_load((ROOT / "inventories" / "example" / "group_vars" / "gpu_nodes" / "driver.yml").read_text())
    assert driver.get("nvidia_driver_reboot_ok") is True
    for path in (ROOT / "inventories" / "example").rglob("*.yml"):
        data = yaml.safe_load(path.read_text()) if "$ANSIBLE_VAULT" not in path.read_text() else None
        assert "onprem_gpu_serial" not in (data or {}) if isinstance(data, dict) else True, path
