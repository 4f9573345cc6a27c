# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The boot double (tests/doubles/nvidia_boot_double.py) leaves the GPU double's tree as the real
boot leaves the GPU: the node kernel's nvidia module loaded at its version (gpu_facts reads it so),
nouveau where it is not blacklisted, nothing without a module; --loaded gives a node whose driver
was updated under the running module (nvidia-smi: version mismatch). The module lookup is modinfo's
(run for real in molecule/gpu_reboot); here it is replaced."""

import importlib.util
import pathlib

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.gpu import host

ROOT = pathlib.Path(__file__).resolve().parents[3]
SPEC = importlib.util.spec_from_file_location("nvidia_boot_double", ROOT / "tests" / "doubles" / "nvidia_boot_double.py")
double = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(double)


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """The t4x1 profile's tree (driver 515 loaded, proprietary), one kernel, an empty modprobe.d."""
    root = tmp_path / "double"
    (root / "sys" / "module" / "nvidia").mkdir(parents=True)
    (root / "sys" / "module" / "nvidia" / "version").write_text("515.105.01\n")
    (root / "proc" / "driver" / "nvidia").mkdir(parents=True)
    (root / "proc" / "driver" / "nvidia" / "version").write_text(
        double.PROPRIETARY_WORDING % "515.105.01" + "\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n")
    (root / "nvidia-smi.xml").write_text("<nvidia_smi_log>\n    <driver_version>515.105.01</driver_version>\n"
                                         "    <cuda_version>11.7</cuda_version>\n</nvidia_smi_log>\n")
    (tmp_path / "modules" / "6.8.0-147-generic").mkdir(parents=True)
    (tmp_path / "modules" / "6.8.0-147-generic" / "modules.dep").write_text("")
    (tmp_path / "modules" / "kernel" / "nvidia-580srv-open").mkdir(parents=True)
    (tmp_path / "modprobe.d").mkdir()
    monkeypatch.setattr(double, "MODULES", str(tmp_path / "modules"))
    monkeypatch.setattr(double, "MODPROBE_DIRS", (str(tmp_path / "modprobe.d"),))
    return root


def _module(tree):
    return host.driver_module(str(tree / "sys"), str(tree / "proc"))


def test_the_node_kernel_is_the_one_with_a_modules_dep(tree):
    assert double.node_kernel(double.MODULES) == "6.8.0-147-generic"


def test_boot_loads_the_kernels_nvidia_module_at_its_version(tree, monkeypatch):
    asked = []
    monkeypatch.setattr(double, "nvidia_module", lambda kernel: asked.append(kernel) or ("580.178.04", "Dual MIT/GPL"))
    assert double.boot(str(tree), double.node_kernel(double.MODULES)) == \
        "kernel 6.8.0-147-generic: nvidia 580.178.04 loaded (Dual MIT/GPL)"
    assert asked == ["6.8.0-147-generic"]
    assert _module(tree) == {"loaded": True, "version": "580.178.04", "flavour": "open"}
    assert "<driver_version>580.178.04</driver_version>" in (tree / "nvidia-smi.xml").read_text()
    assert "<cuda_version>11.7</cuda_version>" in (tree / "nvidia-smi.xml").read_text()
    assert (tree / "mode").read_text() == "ok\n"
    assert "GCC version" in (tree / "proc" / "driver" / "nvidia" / "version").read_text()


def test_a_proprietary_module_keeps_the_proprietary_wording(tree, monkeypatch):
    monkeypatch.setattr(double, "nvidia_module", lambda kernel: ("535.261.03", "NVIDIA"))
    double.boot(str(tree), "6.8.0-147-generic")
    assert _module(tree) == {"loaded": True, "version": "535.261.03", "flavour": "proprietary"}


def test_without_a_module_nothing_is_loaded_and_nvidia_smi_finds_no_driver(tree, monkeypatch):
    monkeypatch.setattr(double, "nvidia_module", lambda kernel: None)
    assert double.boot(str(tree), "6.8.0-147-generic") == "kernel 6.8.0-147-generic: no nvidia module"
    assert _module(tree)["loaded"] is False
    assert (tree / "mode").read_text() == "no_driver\n"


def test_nouveau_keeps_the_gpu_unless_blacklisted(tree, monkeypatch):
    monkeypatch.setattr(double, "nvidia_module", lambda kernel: ("580.178.04", "Dual MIT/GPL"))
    (tree / "sys" / "module" / "nouveau").mkdir()
    assert double.boot(str(tree), "6.8.0-147-generic") == "kernel 6.8.0-147-generic: nouveau holds the GPU"
    assert _module(tree)["loaded"] is False
    (pathlib.Path(double.MODPROBE_DIRS[0]) / "blacklist-nouveau.conf").write_text("blacklist nouveau\noptions nouveau modeset=0\n")
    double.boot(str(tree), "6.8.0-147-generic")
    assert not (tree / "sys" / "module" / "nouveau").exists()
    assert _module(tree)["version"] == "580.178.04"


def test_a_commented_blacklist_does_not_count(tree):
    (pathlib.Path(double.MODPROBE_DIRS[0]) / "x.conf").write_text("# blacklist nouveau\n")
    assert double.nouveau_blacklisted(double.MODPROBE_DIRS) is False


def test_loaded_sets_an_older_running_module_with_nvidia_smi_mismatched(tree):
    assert double.main(["--dir", str(tree), "--loaded", "580.95.05"]) == 0
    assert _module(tree) == {"loaded": True, "version": "580.95.05", "flavour": "proprietary"}
    assert (tree / "mode").read_text() == "mismatch\n"
