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


def test_the_driver_and_cuda_roles_run_in_that_play():
    roles = [r["role"] for r in _gpu_play()["roles"]]
    assert roles == ["onprem.llm.nvidia_driver", "onprem.llm.cuda"]


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
