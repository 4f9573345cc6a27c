# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GPU metrics for the node exporter's textfile collector, where NVIDIA's dcgm-exporter is not run.

Reads ``nvidia-smi -q -x`` and the kernel's ``NVRM: Xid`` messages of this boot, and writes the core
figures dcgm-exporter publishes under dcgm-exporter's own metric names and labels (gpu, UUID,
pci_bus_id, device, modelName), so that alert rules and dashboards serve both. Standard library
only: it runs on the GPU node from a systemd timer (roles/monitoring, tasks/textfile_metrics.yml).

    onprem_llm_gpu_metrics.py --output /var/lib/prometheus/node-exporter/onprem_llm_gpu.prom

A figure the GPU reports as N/A (a consumer board, a vGPU, MIG) is left out rather than written
as 0. When nvidia-smi fails (no driver, a driver/library mismatch) only
``onprem_llm_gpu_smi_up 0`` is written, which an alert watches.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import onprem_llm_textfile as textfile

SMI_TIMEOUT = 20
# journalctl's pattern for the driver's Xid reports ("NVRM: Xid (PCI:0000:3b:00): 79, pid=..., ...").
XID_PATTERN = "NVRM: Xid"
_XID_LINE = re.compile(r"NVRM: Xid \(PCI:(?:([0-9a-fA-F]+):)?([0-9a-fA-F]+):([0-9a-fA-F]+)\): (\d+)")
_NUMBER = re.compile(r"^\s*(-?[0-9]+(?:\.[0-9]+)?)")

# name -> (type, help). The DCGM_* names and units are dcgm-exporter's (etc/default-counters.csv).
METRICS = {
    "DCGM_FI_DEV_GPU_UTIL": ("gauge", "GPU utilization (in %)."),
    "DCGM_FI_DEV_FB_USED": ("gauge", "Framebuffer memory used (in MiB)."),
    "DCGM_FI_DEV_FB_FREE": ("gauge", "Framebuffer memory free (in MiB)."),
    "DCGM_FI_DEV_FB_RESERVED": ("gauge", "Framebuffer memory reserved (in MiB)."),
    "DCGM_FI_DEV_GPU_TEMP": ("gauge", "GPU temperature (in C)."),
    "DCGM_FI_DEV_POWER_USAGE": ("gauge", "Power draw (in W)."),
    "DCGM_FI_DEV_XID_ERRORS": ("gauge", "Value of the last XID error encountered (this boot, 0: none)."),
    "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL": ("counter", "Total number of double-bit volatile ECC errors."),
    "DCGM_FI_DEV_RETIRED_DBE": ("counter", "Total number of retired pages due to double-bit errors."),
    "DCGM_FI_DEV_RETIRED_PENDING": ("counter", "Total number of pages pending retirement."),
    "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS": ("counter", "Number of remapped rows for uncorrectable errors."),
    "DCGM_FI_DEV_ROW_REMAP_FAILURE": ("gauge", "Whether remapping of rows has failed."),
    "onprem_llm_gpu_smi_up": ("gauge", "1 when nvidia-smi answered on the last run, 0 when it failed."),
    "onprem_llm_gpu_xid_log_up": ("gauge", "1 when the kernel log of this boot could be read for Xid errors."),
}
LABELS = ("gpu", "UUID", "pci_bus_id", "device", "modelName")


def _text(node, path):
    found = node.find(path)
    text = (found.text or "").strip() if found is not None else ""
    return "" if text in ("N/A", "[N/A]", "Not Supported", "[Not Supported]") else text


def _number(text):
    """'66 C', '232.80 W', '31689 MiB', '97 %', '0' -> float; '' or words -> None."""
    match = _NUMBER.match(text or "")
    return float(match.group(1)) if match else None


def _yes_no(text):
    return {"yes": 1.0, "no": 0.0}.get((text or "").lower())


def _first(gpu, paths):
    for path in paths:
        value = _number(_text(gpu, path))
        if value is not None:
            return value
    return None


def _sum(gpu, paths):
    values = [_number(_text(gpu, path)) for path in paths]
    values = [value for value in values if value is not None]
    return sum(values) if values else None


def bus_key(bus_id):
    """'00000000:3B:00.0', '0000:04:00.0' or the kernel's '0000:3b:00' -> (domain, bus, device)."""
    parts = str(bus_id or "").strip().split(".", maxsplit=1)[0].split(":")
    if len(parts) == 2:
        parts.insert(0, "0")
    try:
        domain, bus, device = (int(part, 16) for part in parts)
    except ValueError:
        return None
    return (domain, bus, device)


def last_xids(lines):
    """Kernel log lines -> {(domain, bus, device): the last Xid number reported for that GPU}."""
    last = {}
    for line in lines:
        match = _XID_LINE.search(line)
        if match:
            domain, bus, device, xid = match.groups()
            last[(int(domain or "0", 16), int(bus, 16), int(device, 16))] = int(xid)
    return last


def gpu_samples(xml_text, xids=None):
    """``nvidia-smi -q -x`` output (and last_xids' answer, None: not readable) -> [(name, labels, value)]."""
    samples = []
    root = ET.fromstring(xml_text)
    for index, gpu in enumerate(root.findall("gpu")):
        bus_id = _text(gpu, "pci/pci_bus_id") or gpu.get("id", "")
        minor = _text(gpu, "minor_number")
        labels = {"gpu": str(index), "UUID": _text(gpu, "uuid"), "pci_bus_id": bus_id,
                  "device": "nvidia%s" % minor if minor.isdigit() else "", "modelName": _text(gpu, "product_name")}
        figures = {
            "DCGM_FI_DEV_GPU_UTIL": _first(gpu, ["utilization/gpu_util"]),
            "DCGM_FI_DEV_FB_USED": _first(gpu, ["fb_memory_usage/used"]),
            "DCGM_FI_DEV_FB_FREE": _first(gpu, ["fb_memory_usage/free"]),
            "DCGM_FI_DEV_FB_RESERVED": _first(gpu, ["fb_memory_usage/reserved"]),
            "DCGM_FI_DEV_GPU_TEMP": _first(gpu, ["temperature/gpu_temp"]),
            # The element moved with the drivers: power_readings (up to 525), gpu_power_readings (530+),
            # where newer drivers report average and instant draws instead of power_draw.
            "DCGM_FI_DEV_POWER_USAGE": _first(gpu, [
                "power_readings/power_draw", "gpu_power_readings/power_draw",
                "gpu_power_readings/average_power_draw", "gpu_power_readings/instant_power_draw"]),
            # Double-bit (uncorrectable) errors: one total up to Volta, DRAM and SRAM counts since Ampere
            # (the SRAM one split into parity and SEC-DED by newer drivers).
            "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL": _first(gpu, ["ecc_errors/volatile/double_bit/total"]) if gpu.find(
                "ecc_errors/volatile/double_bit") is not None else _sum(gpu, [
                    "ecc_errors/volatile/dram_uncorrectable", "ecc_errors/volatile/sram_uncorrectable",
                    "ecc_errors/volatile/sram_uncorrectable_parity", "ecc_errors/volatile/sram_uncorrectable_secded"]),
            "DCGM_FI_DEV_RETIRED_DBE": _first(gpu, ["retired_pages/double_bit_retirement/retired_count"]),
            "DCGM_FI_DEV_RETIRED_PENDING": _yes_no(_text(gpu, "retired_pages/pending_retirement")),
            "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS": _first(gpu, ["remapped_rows/remapped_row_unc"]),
            "DCGM_FI_DEV_ROW_REMAP_FAILURE": _yes_no(_text(gpu, "remapped_rows/remapped_row_failure")),
        }
        if xids is not None:
            figures["DCGM_FI_DEV_XID_ERRORS"] = float(xids.get(bus_key(bus_id), 0))
        samples.extend((name, labels, value) for name, value in figures.items() if value is not None)
    return samples


def exposition(samples):
    """[(name, labels, value)] -> Prometheus text format, dcgm-exporter's label order first."""
    return textfile.exposition(METRICS, samples, LABELS)


def read_smi(nvidia_smi):
    """nvidia-smi's XML, or None when it cannot answer."""
    try:
        done = subprocess.run([nvidia_smi, "-q", "-x"], capture_output=True, text=True, timeout=SMI_TIMEOUT,
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 and "<nvidia_smi_log" in done.stdout else None


def read_xid_lines(journalctl):
    """This boot's kernel messages naming an Xid, or None when the journal cannot be read."""
    try:
        done = subprocess.run([journalctl, "-k", "-b", "-o", "cat", "--no-pager", "-q", "--grep", XID_PATTERN],
                              capture_output=True, text=True, timeout=SMI_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    # journalctl --grep exits 1 when nothing matches, with nothing on stdout.
    if done.returncode == 0 or (done.returncode == 1 and not done.stdout.strip() and not done.stderr.strip()):
        return done.stdout.splitlines()
    return None


def collect(nvidia_smi, journalctl):
    """The whole file's text for one run."""
    xml_text = read_smi(nvidia_smi)
    xid_lines = read_xid_lines(journalctl)
    samples = [("onprem_llm_gpu_smi_up", {}, 1.0 if xml_text is not None else 0.0),
               ("onprem_llm_gpu_xid_log_up", {}, 1.0 if xid_lines is not None else 0.0)]
    if xml_text is not None:
        try:
            samples.extend(gpu_samples(xml_text, last_xids(xid_lines) if xid_lines is not None else None))
        except ET.ParseError:
            samples[0] = ("onprem_llm_gpu_smi_up", {}, 0.0)
    return exposition(samples)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--output", required=True, help="the .prom file the textfile collector reads")
    parser.add_argument("--nvidia-smi", default="nvidia-smi")
    parser.add_argument("--journalctl", default="journalctl")
    args = parser.parse_args(argv)
    textfile.write_atomically(args.output, collect(args.nvidia_smi, args.journalctl))
    return 0


if __name__ == "__main__":
    sys.exit(main())
