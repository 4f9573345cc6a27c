# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""onprem.llm.cuda_plan (the module) through main(): the plan from typed options, string booleans as the role
templates them, and a refusal as a failure with the planner's message."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.onprem.llm.plugins.modules import cuda_plan

TRIXIE = {"distribution": "Debian", "distribution_major_version": "13", "distribution_version": "13.1",
          "architecture": "x86_64"}
NOBLE = {"distribution": "Ubuntu", "distribution_major_version": "24", "distribution_version": "24.04",
         "architecture": "x86_64"}
A100 = {"driver_version": "580.95.05", "gpus": [{"name": "NVIDIA A100-SXM4-80GB", "architecture": "ampere"}]}


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            cuda_plan.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)


def test_the_distribution_archive_by_default_on_debian(capsys):
    code, out = run({"host": TRIXIE, "profile": "runtime"}, capsys)
    assert code == 0 and out["changed"] is False
    assert out["plan"]["source"] == "distro" and out["plan"]["packages"] == ["libcudart12"]


def test_versions_side_by_side_from_nvidia_with_a_default(capsys):
    code, out = run({"host": NOBLE, "gpu": A100, "versions": ["12.8", "13.0"], "default": "12.8",
                     "compat": "false"}, capsys)
    assert code == 0, out
    plan = out["plan"]
    assert plan["source"] == "nvidia" and plan["default"] == "12.8"
    assert [entry["packages"] for entry in plan["versions"]] == [["cuda-toolkit-12-8"], ["cuda-toolkit-13-0"]]


def test_a_refusal_is_a_failure_naming_the_variable(capsys):
    code, out = run({"host": TRIXIE, "versions": ["12.8", "13.0"], "source": "distro"}, capsys)
    assert code == 1 and out["failed"] is True
    assert "use cuda_source=nvidia for other or several versions" in out["msg"]


def test_a_bad_choice_is_refused_by_the_argument_spec(capsys):
    code, out = run({"host": TRIXIE, "profile": "full"}, capsys)
    assert code == 1 and "value of profile must be one of: toolkit, runtime, got: full" in out["msg"]
