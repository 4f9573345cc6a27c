# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""onprem.llm.nvidia_driver_plan through main(), with module args patched the supported way."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.onprem.llm.plugins.modules import nvidia_driver_plan

TRIXIE = {"distribution": "Debian", "distribution_major_version": "13", "distribution_version": "13.1",
          "architecture": "x86_64", "kernel": "6.12.48+deb13-amd64"}
A100X8 = {"nvswitch": True, "in_container": True, "gpus": [{"name": "A100", "architecture": "ampere"}] * 8}


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            nvidia_driver_plan.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)


def test_driver_plan_with_templated_string_booleans(capsys):
    code, out = run({"host": TRIXIE, "gpu": A100X8,
                     "options": {"container_mode": "True", "compute_only": "true", "fabricmanager": "auto"}}, capsys)
    assert code == 0 and out["changed"] is False
    plan = out["plan"]
    assert (plan["branch"], plan["flavour"], plan["container_mode"]) == (550, "open", True)
    assert plan["fabricmanager"]["needed"] is True and plan["fabricmanager"]["install"] is False


def test_check_mode_gives_the_same_plan(capsys):
    _code, normal = run({"host": TRIXIE, "gpu": A100X8}, capsys)
    _code, checked = run({"host": TRIXIE, "gpu": A100X8, "_ansible_check_mode": True}, capsys)
    assert normal["plan"] == checked["plan"]


def test_refusal_is_a_failure_with_the_reason(capsys):
    code, out = run({"host": TRIXIE, "gpu": {"gpus": [{"architecture": "pascal"}]},
                     "options": {"branch": "590", "source": "nvidia"}}, capsys)
    assert code == 1 and out["failed"] is True
    assert "R580 is the last branch" in out["msg"]


def test_cuda_is_planned_by_its_own_module(capsys):
    code, out = run({"plan": "cuda", "host": TRIXIE, "gpu": {}, "options": {"profile": "runtime"}}, capsys)
    assert code == 1 and "value of plan must be one of: driver, activate, got: cuda" in out["msg"]


def test_activate_plan(capsys):
    code, out = run({"plan": "activate", "host": {}, "options": {
        "changed": "True", "loaded_version": "570.133.20", "installed_version": "580.95.05",
        "nouveau_loaded": "False", "container_mode": "False", "control_node": "True", "reboot_ok": "True"}}, capsys)
    assert code == 0 and out["plan"]["action"] == "reboot_needed"
