#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""nvidia-smi test double: installed as /usr/bin/nvidia-smi on lab nodes that have no GPU.

Replays a recorded ``nvidia-smi -q -x`` capture from $ONPREM_LLM_DOUBLE_DIR (default
/usr/share/onprem-llm-double)/nvidia-smi.xml and answers ``-L``, ``--query-gpu`` and the bare
summary from it. The ``mode`` file beside it picks the behaviour:
  ok        normal answers (the default when the file is missing)
  no_driver the real "couldn't communicate with the NVIDIA driver" message, exit 9
  mismatch  "Failed to initialize NVML: Driver/library version mismatch", exit 18
  no_devices "No devices were found", exit 6
Standard library only: lab nodes have python3 and nothing else.
"""

from __future__ import print_function

import os
import sys
import xml.etree.ElementTree as ET

DEFAULT_DIR = "/usr/share/onprem-llm-double"

# Real messages (printed on stdout by nvidia-smi) and exit codes, which are NVML error numbers.
FAILURES = {
    "no_driver": (9, "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
                     "Make sure that the latest NVIDIA driver is installed and running.\n"),
    "mismatch": (18, "Failed to initialize NVML: Driver/library version mismatch\n"),
    "no_devices": (6, "No devices were found\n"),
}
INVALID = (2, "Invalid combination of input arguments. Please run 'nvidia-smi -h' for help.\n")
HELP = """NVIDIA System Management Interface -- onprem.llm test double

    -h,   --help                Print usage information and exit.
    -L,   --list-gpus           Display a list of GPUs connected to the system.
    -q,   --query               Display GPU or Unit info.
    -x,   --xml-format          Produce XML output.
    --query-gpu=FIELDS          index, name, uuid, pci.bus_id, memory.total, driver_version,
                                mig.mode.current, count (with --format=csv[,noheader][,nounits])
"""


def double_dir():
    return os.environ.get("ONPREM_LLM_DOUBLE_DIR", DEFAULT_DIR)


def read_mode(directory):
    try:
        with open(os.path.join(directory, "mode")) as handle:
            return handle.read().strip() or "ok"
    except (IOError, OSError):
        return "ok"


def read_xml(directory):
    """The capture as text, or None when there is none (a node with a driver but no GPU)."""
    try:
        with open(os.path.join(directory, "nvidia-smi.xml")) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def _text(element, path, default="N/A"):
    found = element.find(path)
    if found is None or found.text is None or not found.text.strip():
        return default
    return found.text.strip()


def gpus_of(root):
    return root.findall("gpu")


def list_gpus(root):
    lines = []
    for index, gpu in enumerate(gpus_of(root)):
        lines.append("GPU %d: %s (UUID: %s)" % (index, _text(gpu, "product_name"), _text(gpu, "uuid")))
        # The XML has no MIG profile names or UUIDs, so MIG lines say what it does have.
        for dev in gpu.findall("mig_devices/mig_device"):
            lines.append("  MIG GI %s CI %s     Device %2s: (UUID: N/A)" % (
                _text(dev, "gpu_instance_id"), _text(dev, "compute_instance_id"), _text(dev, "index")))
    return "\n".join(lines) + "\n"


def _mib(text):
    return text.split()[0] if text.endswith("MiB") else text


def summary(root):
    rule = "+" + "-" * 89 + "+"
    lines = [
        rule,
        "| NVIDIA-SMI %-18s Driver Version: %-18s CUDA Version: %-9s|" % (
            _text(root, "driver_version"), _text(root, "driver_version"), _text(root, "cuda_version")),
        rule,
        "| GPU  Name                         Bus-Id            Memory-Usage          MIG M.          |",
        "|" + "=" * 89 + "|",
    ]
    for index, gpu in enumerate(gpus_of(root)):
        memory = "%sMiB / %sMiB" % (_mib(_text(gpu, "fb_memory_usage/used", "0 MiB")),
                                    _mib(_text(gpu, "fb_memory_usage/total")))
        lines.append("| %3d  %-28s %-17s %-21s %-15s |" % (
            index, _text(gpu, "product_name")[:28], _text(gpu, "pci/pci_bus_id", gpu.get("id", "N/A")),
            memory, _text(gpu, "mig_mode/current_mig")))
    lines.append(rule)
    return "\n".join(lines) + "\n"


QUERY_FIELDS = {
    "index": lambda root, index, gpu: str(index),
    "name": lambda root, index, gpu: _text(gpu, "product_name"),
    "uuid": lambda root, index, gpu: _text(gpu, "uuid"),
    "pci.bus_id": lambda root, index, gpu: _text(gpu, "pci/pci_bus_id", gpu.get("id", "N/A")),
    "memory.total": lambda root, index, gpu: _text(gpu, "fb_memory_usage/total"),
    "driver_version": lambda root, index, gpu: _text(root, "driver_version"),
    "mig.mode.current": lambda root, index, gpu: _text(gpu, "mig_mode/current_mig"),
    "count": lambda root, index, gpu: str(len(gpus_of(root))),
}


def query_gpu(root, fields, fmt):
    names = [f.strip() for f in fields.split(",") if f.strip()]
    for name in names:
        if name not in QUERY_FIELDS:
            return 2, 'Field "%s" is not a valid field to query.\n' % name
    options = fmt.split(",")
    if options[0] != "csv":
        return INVALID
    rows = [] if "noheader" in options else [", ".join(names)]
    for index, gpu in enumerate(gpus_of(root)):
        values = [QUERY_FIELDS[name](root, index, gpu) for name in names]
        if "nounits" in options:
            values = [_mib(value) for value in values]
        rows.append(", ".join(values))
    return 0, "\n".join(rows) + "\n"


def run(argv, directory):
    """(exit code, stdout text) for one invocation; kept pure so tests can call it."""
    if any(arg in ("-h", "--help") for arg in argv):
        return 0, HELP
    mode = read_mode(directory)
    if mode in FAILURES:
        return FAILURES[mode]
    text = read_xml(directory)
    if text is None:
        return FAILURES["no_devices"]
    root = ET.fromstring(text.encode("utf-8"))
    if not gpus_of(root):
        return FAILURES["no_devices"]
    flags = set(arg for arg in argv if not arg.startswith("--query-gpu=") and not arg.startswith("--format="))
    query = [arg.split("=", 1)[1] for arg in argv if arg.startswith("--query-gpu=")]
    fmt = [arg.split("=", 1)[1] for arg in argv if arg.startswith("--format=")]
    if query:
        return query_gpu(root, query[0], fmt[0] if fmt else "") if fmt and not flags else INVALID
    if flags in ({"-q", "-x"}, {"--query", "--xml-format"}, {"-q", "--xml-format"}, {"--query", "-x"}):
        return 0, text
    if flags in ({"-L"}, {"--list-gpus"}):
        return 0, list_gpus(root)
    if not flags:
        return 0, summary(root)
    return INVALID


def main():
    code, out = run(sys.argv[1:], double_dir())
    sys.stdout.write(out)
    sys.exit(code)


if __name__ == "__main__":
    main()
