"""onprem.llm.gpu_facts main(): arguments, the exact nvidia-smi command, check mode, failure states."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.onprem.llm.plugins.modules import gpu_facts

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "nvidia-smi"
NOT_LOADED = ("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that "
              "the latest NVIDIA driver is installed and running.\n")


@contextlib.contextmanager
def set_module_args(args, check_mode=False):
    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    with patch_module_args(args):
        yield


class Runner:
    """Stands in for AnsibleModule.run_command and records every call."""

    def __init__(self, rc=0, out="", err=""):
        self.result = (rc, out, err)
        self.calls = []

    def __call__(self, module, args, **kwargs):
        self.calls.append((args, kwargs))
        return self.result


@pytest.fixture
def tree(tmp_path):
    sysfs = tmp_path / "sys"
    (sysfs / "bus" / "pci" / "devices").mkdir(parents=True)
    procfs = tmp_path / "proc"
    procfs.mkdir()
    return sysfs, procfs


def add_gpu(sysfs, bus_id="0000:00:1e.0", device="0x1eb8"):
    base = sysfs / "bus" / "pci" / "devices" / bus_id
    base.mkdir(parents=True)
    for key, value in (("vendor", "0x10de"), ("device", device), ("class", "0x030200")):
        (base / key).write_text(value + "\n")


def run_module(monkeypatch, capsys, args, runner=None, smi_path="/usr/bin/nvidia-smi", nvml=None,
               check_mode=False):
    runner = runner or Runner()

    def run_command(self, args, **kwargs):  # a function, so that it binds to the module like the real method
        return runner(self, args, **kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path",
                        lambda self, name, required=False, opt_dirs=None: smi_path)
    monkeypatch.setattr(gpu_facts, "import_pynvml", lambda: nvml)
    with set_module_args(args, check_mode=check_mode):
        with pytest.raises(SystemExit) as exited:
            gpu_facts.main()
    out = json.loads(capsys.readouterr().out)
    return exited.value.code, out, runner


def tree_args(tree, **extra):
    sysfs, procfs = tree
    args = {"sysfs_path": str(sysfs), "procfs_path": str(procfs)}
    args.update(extra)
    return args


def test_runs_one_nvidia_smi_with_exact_argv_and_locale(monkeypatch, capsys, tree):
    add_gpu(tree[0])
    runner = Runner(0, (FIXTURES / "tesla-t4_driver515_1gpu.xml").read_text())
    code, out, runner = run_module(monkeypatch, capsys, tree_args(tree), runner)
    assert code == 0
    assert runner.calls == [(["/usr/bin/nvidia-smi", "-q", "-x"],
                             {"environ_update": {"LANGUAGE": "C", "LC_ALL": "C"}})]
    facts = out["ansible_facts"]["onprem_gpu"]
    assert out["changed"] is False
    assert (facts["state"], facts["source"], facts["count"], facts["driver_version"]) == (
        "ok", "nvidia-smi", 1, "515.105.01")
    assert facts["gpus"][0]["uuid"] == "GPU-d37e67a5-91dd-3774-a5cb-99096249601a"


def test_check_mode_gives_the_same_read_only_answer(monkeypatch, capsys, tree):
    runner = Runner(0, (FIXTURES / "a100-sxm4-80gb_driver535_mig4.xml").read_text())
    code, out, runner = run_module(monkeypatch, capsys, tree_args(tree), runner, check_mode=True)
    assert code == 0 and out["changed"] is False and len(runner.calls) == 1
    facts = out["ansible_facts"]["onprem_gpu"]
    assert facts["gpus"][0]["mig"]["mode"] == "enabled"
    assert facts["recommended_kernel_module"] == "open"


def test_explicit_nvidia_smi_path(monkeypatch, capsys, tree, tmp_path):
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    runner = Runner(6, "No devices were found\n")
    _code, out, runner = run_module(monkeypatch, capsys, tree_args(tree, nvidia_smi_path=str(fake)), runner,
                                    smi_path=None)
    assert runner.calls[0][0] == [str(fake), "-q", "-x"]
    assert out["ansible_facts"]["onprem_gpu"]["state"] == "no_gpu"


def test_missing_explicit_path_fails_cleanly(monkeypatch, capsys, tree, tmp_path):
    code, out, runner = run_module(monkeypatch, capsys, tree_args(tree, nvidia_smi_path=str(tmp_path / "nope")))
    assert code == 1 and out["failed"] is True
    assert "does not exist or is not executable" in out["msg"]
    assert runner.calls == []


def test_driver_not_loaded_is_a_state_not_a_failure(monkeypatch, capsys, tree):
    add_gpu(tree[0])
    code, out, _runner = run_module(monkeypatch, capsys, tree_args(tree), Runner(9, NOT_LOADED))
    facts = out["ansible_facts"]["onprem_gpu"]
    assert code == 0 and "failed" not in out
    assert (facts["state"], facts["source"], facts["count"], facts["present"]) == ("driver_not_loaded", "pci", 1, True)


def test_version_mismatch_state(monkeypatch, capsys, tree):
    add_gpu(tree[0])
    runner = Runner(18, "Failed to initialize NVML: Driver/library version mismatch\n")
    _code, out, _runner = run_module(monkeypatch, capsys, tree_args(tree), runner)
    assert out["ansible_facts"]["onprem_gpu"]["state"] == "driver_mismatch"


def test_unknown_failure_state(monkeypatch, capsys, tree):
    add_gpu(tree[0])
    _code, out, _runner = run_module(monkeypatch, capsys, tree_args(tree), Runner(255, "", "boom"))
    facts = out["ansible_facts"]["onprem_gpu"]
    assert (facts["state"], facts["message"]) == ("nvidia_smi_failed", "nvidia-smi -q -x exited 255: boom")


def test_no_nvidia_smi_and_a_gpu_on_the_bus(monkeypatch, capsys, tree):
    add_gpu(tree[0], "0000:18:00.0", "0x2330")
    _code, out, runner = run_module(monkeypatch, capsys, tree_args(tree), smi_path=None)
    facts = out["ansible_facts"]["onprem_gpu"]
    assert runner.calls == []
    assert (facts["state"], facts["gpus"][0]["compute_capability"]) == ("no_driver", "9.0")


def test_use_nvml_false_never_imports_pynvml(monkeypatch, capsys, tree):
    def explode():
        raise AssertionError("pynvml must not be imported")
    monkeypatch.setattr(gpu_facts, "import_pynvml", explode)
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, name, required=False, opt_dirs=None: None)
    with set_module_args(tree_args(tree, use_nvml=False)):
        with pytest.raises(SystemExit):
            gpu_facts.main()
    assert json.loads(capsys.readouterr().out)["ansible_facts"]["onprem_gpu"]["state"] == "no_gpu"


def test_nvml_failure_falls_back_to_nvidia_smi(monkeypatch, capsys, tree):
    class BrokenNvml:
        @staticmethod
        def nvmlInit():
            raise RuntimeError("libnvidia-ml.so.1 not found")

        @staticmethod
        def nvmlShutdown():
            return None

    runner = Runner(0, (FIXTURES / "tesla-p100x2_driver375_no_cuda_version.xml").read_text())
    _code, out, runner = run_module(monkeypatch, capsys, tree_args(tree), runner, nvml=BrokenNvml)
    facts = out["ansible_facts"]["onprem_gpu"]
    assert len(runner.calls) == 1
    assert (facts["source"], facts["count"], facts["cuda_version"]) == ("nvidia-smi", 2, None)


def test_defaults_read_the_real_sys_and_proc(monkeypatch, capsys):
    _code, out, _runner = run_module(monkeypatch, capsys, {}, smi_path=None)
    facts = out["ansible_facts"]["onprem_gpu"]
    # this build machine has no NVIDIA GPU; on a GPU host the count would simply be higher
    assert facts["source"] == "pci" and facts["state"] in ("no_gpu", "no_driver", "nvidia_smi_missing")
