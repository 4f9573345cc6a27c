# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The GPU metrics the monitoring role writes for the node exporter's textfile collector
(roles/monitoring/files/onprem_llm_gpu_metrics.py), read from the real nvidia-smi captures of
tests/fixtures/nvidia-smi and real kernel Xid lines; the script run as its timer runs it, with the
nvidia-smi double. That the node exporter reads the file is checked in molecule/rollout."""

from __future__ import annotations

import os
import pathlib
import re
import stat
import subprocess
import sys

import pytest
from collector_helper import load_collector  # tests/unit is on sys.path (rootdir conftest)

ROOT = pathlib.Path(__file__).resolve().parents[2]
gm, SCRIPT = load_collector("onprem_llm_gpu_metrics")
CAPTURES = ROOT / "tests" / "fixtures" / "nvidia-smi"
XID_LOG = ROOT / "tests" / "fixtures" / "kernel-log" / "nvrm-xid.log"
DOUBLE = ROOT / "tests" / "doubles" / "nvidia_smi_double.py"
# dcgm-exporter's own list of fields (tests/fixtures/dcgm-exporter/README.md).
COUNTERS = ROOT / "tests" / "fixtures" / "dcgm-exporter" / "default-counters.csv"
_SAMPLE = re.compile(r'^[A-Za-z_:][A-Za-z0-9_:]*(\{([A-Za-z_][A-Za-z0-9_]*="(\\.|[^"\\])*",?)*\})? -?[0-9.e+]+$')


def _capture(name):
    return (CAPTURES / name).read_text()


def _by_name(samples, name):
    return {labels["gpu"]: value for sample, labels, value in samples if sample == name}


def _dcgm_fields():
    """{name: (type, enabled by default)} of dcgm-exporter's counters file."""
    fields = {}
    for line in COUNTERS.read_text().splitlines():
        match = re.match(r"^(#\s*)?(DCGM_FI_\w+)\s*,\s*(\w+)\s*,", line)
        if match:
            fields[match.group(2)] = (match.group(3), not match.group(1))
    return fields


def test_every_name_is_dcgm_exporters_with_its_type_or_the_collections_own():
    fields = _dcgm_fields()
    assert len(fields) > 30
    for name, (kind, _help) in gm.METRICS.items():
        if name.startswith("DCGM_FI_"):
            assert fields[name][0] == kind, name
        else:
            assert name.startswith("onprem_llm_gpu_"), name
    # The core figures dcgm-exporter publishes without configuration are all written.
    core = {"DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_FB_FREE", "DCGM_FI_DEV_GPU_TEMP",
            "DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_XID_ERRORS", "DCGM_FI_DEV_ROW_REMAP_FAILURE"}
    assert all(fields[name][1] for name in core) and core <= set(gm.METRICS)


def test_eight_v100s_report_utilisation_memory_temperature_power_and_ecc():
    samples = gm.gpu_samples(_capture("tesla-v100s-pcie-32gbx8_driver460_vm_passthrough.xml"), {})
    assert _by_name(samples, "DCGM_FI_DEV_GPU_UTIL") == {
        "0": 97, "1": 75, "2": 80, "3": 23, "4": 98, "5": 98, "6": 91, "7": 99}
    assert _by_name(samples, "DCGM_FI_DEV_FB_USED")["0"] == 31689
    assert _by_name(samples, "DCGM_FI_DEV_FB_FREE")["0"] == 821
    assert _by_name(samples, "DCGM_FI_DEV_GPU_TEMP")["0"] == 66
    assert _by_name(samples, "DCGM_FI_DEV_POWER_USAGE")["0"] == pytest.approx(232.8)
    assert set(_by_name(samples, "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL").values()) == {0}
    assert set(_by_name(samples, "DCGM_FI_DEV_XID_ERRORS").values()) == {0}
    # Driver 460 reports no reserved memory and no remapped rows (Volta): left out, not 0.
    assert not _by_name(samples, "DCGM_FI_DEV_FB_RESERVED")
    assert not _by_name(samples, "DCGM_FI_DEV_ROW_REMAP_FAILURE")
    labels = [labels for name, labels, _value in samples if name == "DCGM_FI_DEV_GPU_TEMP"][0]
    assert labels == {"gpu": "0", "UUID": "GPU-76098dc1-d3bc-9a1b-7ea6-f7b48837829e", "pci_bus_id": "00000000:00:0D.0",
                      "device": "nvidia0", "modelName": "Tesla V100S-PCIE-32GB"}


def test_turing_sums_dram_and_sram_uncorrectable_errors_and_reports_reserved_memory():
    samples = gm.gpu_samples(_capture("tesla-t4_driver515_1gpu.xml"))
    assert _by_name(samples, "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL") == {"0": 0}
    assert _by_name(samples, "DCGM_FI_DEV_FB_RESERVED") == {"0": 388}
    assert _by_name(samples, "DCGM_FI_DEV_POWER_USAGE") == {"0": pytest.approx(26.78)}
    assert _by_name(samples, "DCGM_FI_DEV_RETIRED_PENDING") == {"0": 0}
    # xids None: the kernel log was not readable, so no Xid figure at all.
    assert not _by_name(samples, "DCGM_FI_DEV_XID_ERRORS")


def test_driver_535_power_moved_to_gpu_power_readings_and_na_figures_are_left_out():
    samples = gm.gpu_samples(_capture("a100-sxm4-80gb_driver535_mig4.xml"), {})
    assert _by_name(samples, "DCGM_FI_DEV_POWER_USAGE") == {"0": pytest.approx(67.03)}
    assert _by_name(samples, "DCGM_FI_DEV_GPU_TEMP") == {"0": 27}
    # MIG mode: utilisation and remapped rows are N/A.
    assert not _by_name(samples, "DCGM_FI_DEV_GPU_UTIL")
    assert not _by_name(samples, "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS")


def test_remapped_rows_and_a_failed_remap():
    text = _capture("a100-sxm4-80gb_driver535_mig4.xml").replace(
        "<remapped_rows>N/A</remapped_rows>",
        "<remapped_rows><remapped_row_corr>0</remapped_row_corr><remapped_row_unc>3</remapped_row_unc>"
        "<remapped_row_pending>No</remapped_row_pending><remapped_row_failure>Yes</remapped_row_failure></remapped_rows>")
    samples = gm.gpu_samples(text, {})
    assert _by_name(samples, "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS") == {"0": 3}
    assert _by_name(samples, "DCGM_FI_DEV_ROW_REMAP_FAILURE") == {"0": 1}


def test_a_consumer_board_without_minor_number_or_power_still_reports_what_it_has():
    samples = gm.gpu_samples(_capture("geforce-gtx-1070-ti_trimmed.xml"), {})
    assert _by_name(samples, "DCGM_FI_DEV_GPU_TEMP") == {"0": 39}
    assert not _by_name(samples, "DCGM_FI_DEV_POWER_USAGE")
    assert [labels["device"] for name, labels, _v in samples if name == "DCGM_FI_DEV_GPU_TEMP"] == [""]


def test_the_last_xid_of_each_gpu_is_kept_by_its_pci_address():
    last = gm.last_xids(XID_LOG.read_text().splitlines())
    assert last == {(0, 0xCB, 0): 109, (0, 0xDC, 0): 45, (0, 0xED, 0): 45, (0x19, 1, 0): 149, (0, 1, 0): 31}


@pytest.mark.parametrize("bus_id, key", [
    ("00000000:CB:00.0", (0, 0xCB, 0)), ("0000:04:00.0", (0, 4, 0)), ("0000:cb:00", (0, 0xCB, 0)),
    ("04:00.0", (0, 4, 0)), ("", None), ("GPU-bogus", None)])
def test_nvml_and_kernel_bus_ids_meet_on_one_key(bus_id, key):
    assert gm.bus_key(bus_id) == key


def test_a_gpu_with_an_xid_reports_it_and_the_others_zero():
    text = _capture("tesla-v100s-pcie-32gbx8_driver460_vm_passthrough.xml")
    xids = gm.last_xids(["NVRM: Xid (PCI:0000:00:0e): 79, pid=1234, name=python3, GPU has fallen off the bus."])
    values = _by_name(gm.gpu_samples(text, xids), "DCGM_FI_DEV_XID_ERRORS")
    assert values["1"] == 79 and sum(values.values()) == 79


@pytest.mark.parametrize("capture", sorted(p.name for p in CAPTURES.glob("*.xml")))
def test_every_capture_renders_valid_exposition_lines(capture):
    text = gm.exposition(gm.gpu_samples(_capture(capture), {}))
    for line in text.splitlines():
        if line.startswith("# "):
            assert re.fullmatch(r"# (HELP \S+ .+|TYPE \S+ (gauge|counter))", line), line
        else:
            assert _SAMPLE.match(line), line
    assert text.endswith("\n")


def test_label_values_are_escaped():
    text = gm.exposition([("DCGM_FI_DEV_GPU_TEMP", {"gpu": "0", "modelName": 'a "quoted"\\name'}, 40.0)])
    assert 'modelName="a \\"quoted\\"\\\\name"} 40' in text


def _fake_journalctl(tmp_path, lines, rc=0, stderr=""):
    path = tmp_path / "journalctl"
    path.write_text("#!/bin/sh\ncat <<'EOF'\n%sEOF\necho -n %r >&2\nexit %d\n"
                    % ("".join(line + "\n" for line in lines), stderr, rc))
    path.chmod(0o755)
    return str(path)


def _double(tmp_path, capture, mode="ok"):
    directory = tmp_path / "double"
    directory.mkdir()
    (directory / "nvidia-smi.xml").write_text(_capture(capture))
    (directory / "mode").write_text(mode + "\n")
    wrapper = tmp_path / "nvidia-smi"
    wrapper.write_text("#!/bin/sh\nONPREM_LLM_DOUBLE_DIR=%s exec %s %s \"$@\"\n" % (directory, sys.executable, DOUBLE))
    wrapper.chmod(0o755)
    return str(wrapper)


def _run_script(tmp_path, smi, journalctl):
    output = tmp_path / "out" / "onprem_llm_gpu.prom"
    output.parent.mkdir(exist_ok=True)
    subprocess.run([sys.executable, str(SCRIPT), "--output", str(output), "--nvidia-smi", smi,
                    "--journalctl", journalctl], check=True)
    return output


def test_the_script_writes_the_file_from_the_nvidia_smi_double_and_the_kernel_log(tmp_path):
    smi = _double(tmp_path, "tesla-t4_driver515_1gpu.xml")
    output = _run_script(tmp_path, smi, _fake_journalctl(
        tmp_path, ["NVRM: Xid (PCI:0000:00:1e): 48, pid=77, name=python3, DBE (double bit error)."]))
    text = output.read_text()
    assert "onprem_llm_gpu_smi_up 1\n" in text and "onprem_llm_gpu_xid_log_up 1\n" in text
    assert re.search(r'^DCGM_FI_DEV_XID_ERRORS\{gpu="0",UUID="GPU-d37e67a5-[^}]*\} 48$', text, re.M)
    assert re.search(r'^DCGM_FI_DEV_GPU_TEMP\{[^}]*modelName="Tesla T4"\} 40$', text, re.M)
    assert stat.S_IMODE(output.stat().st_mode) == 0o644
    assert os.listdir(output.parent) == [output.name]


def test_no_xid_matches_is_zero_and_an_unreadable_journal_leaves_the_figure_out(tmp_path):
    smi = _double(tmp_path, "tesla-t4_driver515_1gpu.xml")
    # journalctl --grep exits 1 when nothing matches.
    text = _run_script(tmp_path, smi, _fake_journalctl(tmp_path, [], rc=1)).read_text()
    assert re.search(r"^DCGM_FI_DEV_XID_ERRORS\{.*\} 0$", text, re.M)
    text = _run_script(tmp_path, smi, _fake_journalctl(
        tmp_path, [], rc=1, stderr="No journal files were opened due to insufficient permissions.")).read_text()
    assert "onprem_llm_gpu_xid_log_up 0\n" in text and "DCGM_FI_DEV_XID_ERRORS" not in text
    assert "DCGM_FI_DEV_GPU_TEMP" in text


@pytest.mark.parametrize("mode", ["no_driver", "mismatch"])
def test_a_failing_nvidia_smi_writes_only_its_status(tmp_path, mode):
    smi = _double(tmp_path, "tesla-t4_driver515_1gpu.xml", mode)
    text = _run_script(tmp_path, smi, _fake_journalctl(tmp_path, [], rc=1)).read_text()
    assert "onprem_llm_gpu_smi_up 0\n" in text
    assert "DCGM_FI_" not in text


def test_a_missing_nvidia_smi_is_a_failed_answer_not_a_crash(tmp_path):
    text = _run_script(tmp_path, str(tmp_path / "absent"), _fake_journalctl(tmp_path, [], rc=1)).read_text()
    assert "onprem_llm_gpu_smi_up 0\n" in text


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path, monkeypatch):
    output = tmp_path / "onprem_llm_gpu.prom"
    output.write_text("previous\n")

    def broken(_src, _dst):
        raise OSError("disk full")
    monkeypatch.setattr(gm.textfile.os, "replace", broken)
    with pytest.raises(OSError):
        gm.textfile.write_atomically(str(output), "new\n")
    assert output.read_text() == "previous\n" and os.listdir(tmp_path) == [output.name]
