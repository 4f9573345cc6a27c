#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Double of what the kernel does with the GPU at boot, for a container node's GPU double.

A container shares the host's kernel: its reboot starts the node's systemd again, but no kernel
reads the node's /lib/modules. Run at each boot (``onprem-nvidia-boot-double.service``), this
sets the GPU double's tree (tests/doubles/README.md) to what the real boot would leave:

- the node's kernel is the one kernel under /lib/modules with a ``modules.dep`` (what its boot
  loader would start);
- where the tree shows nouveau loaded, it binds the GPU again unless a modprobe.d file blacklists it
  (``blacklist nouveau``), and the nvidia module is not loaded;
- otherwise udev loads that kernel's ``nvidia`` module if it has one (``modinfo -k``): the tree
  then reports its version (``sys/module/nvidia/version``, the first line of
  ``proc/driver/nvidia/version`` in the open or proprietary module's wording, by the module's
  licence, and ``<driver_version>`` of the nvidia-smi capture) and nvidia-smi works (mode ``ok``);
  with no module, nothing is loaded and nvidia-smi cannot reach a driver (mode ``no_driver``).

``--loaded VERSION`` instead sets the running module's version without a boot: the state of a node
whose driver packages were updated under the running module (nvidia-smi then fails with NVML's
version mismatch, as the real one does until the reboot). The CUDA version in the capture is left
as recorded.
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

DOUBLE_DIR = os.environ.get("ONPREM_LLM_DOUBLE_DIR", "/usr/share/onprem-llm-double")
# Where modprobe reads its configuration (modprobe.d(5)).
MODPROBE_DIRS = ("/etc/modprobe.d", "/run/modprobe.d", "/lib/modprobe.d", "/usr/lib/modprobe.d")
MODULES = "/lib/modules"

OPEN_WORDING = "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  %s  Release Build  (onprem-llm double)"
PROPRIETARY_WORDING = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  %s  Release Build  (onprem-llm double)"


def node_kernel(modules):
    kernels = sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(modules, "*", "modules.dep")))
    if len(kernels) != 1:
        sys.exit("nvidia_boot_double: expected one kernel under %s, found %s" % (modules, kernels))
    return kernels[0]


def nouveau_blacklisted(dirs):
    for path in [p for d in dirs for p in glob.glob(os.path.join(d, "*.conf"))]:
        with open(path) as handle:
            if any(line.split() == ["blacklist", "nouveau"] for line in handle):
                return True
    return False


def nvidia_module(kernel):
    """(version, licence) of the kernel's nvidia module, or None when it has none."""
    found = subprocess.run(["modinfo", "-k", kernel, "-F", "version", "nvidia"], capture_output=True, text=True, check=False)
    if found.returncode != 0 or not found.stdout.strip():
        return None
    licence = subprocess.run(["modinfo", "-k", kernel, "-F", "license", "nvidia"], capture_output=True, text=True, check=False)
    return found.stdout.strip(), licence.stdout.strip()


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        handle.write(text)


def _remove(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.remove(path)


def set_loaded(tree, version, licence, mode):
    """The tree with the nvidia module ``version`` loaded."""
    _write(os.path.join(tree, "sys", "module", "nvidia", "version"), version + "\n")
    proc = os.path.join(tree, "proc", "driver", "nvidia", "version")
    rest = ""
    if os.path.exists(proc):
        with open(proc) as handle:
            rest = "".join(handle.readlines()[1:])
    wording = OPEN_WORDING if licence == "Dual MIT/GPL" else PROPRIETARY_WORDING
    _write(proc, wording % version + "\n" + rest)
    capture = os.path.join(tree, "nvidia-smi.xml")
    if os.path.exists(capture):
        with open(capture) as handle:
            xml = handle.read()
        _write(capture, re.sub(r"<driver_version>[^<]*</driver_version>",
                               "<driver_version>%s</driver_version>" % version, xml))
    _write(os.path.join(tree, "mode"), mode + "\n")


def set_unloaded(tree, mode):
    _remove(os.path.join(tree, "sys", "module", "nvidia"))
    _remove(os.path.join(tree, "proc", "driver", "nvidia", "version"))
    _write(os.path.join(tree, "mode"), mode + "\n")


def boot(tree, kernel):
    """What the boot leaves: a sentence for the journal."""
    if nouveau_blacklisted(MODPROBE_DIRS):
        _remove(os.path.join(tree, "sys", "module", "nouveau"))
    elif os.path.isdir(os.path.join(tree, "sys", "module", "nouveau")):
        set_unloaded(tree, "no_driver")
        return "kernel %s: nouveau holds the GPU" % kernel
    module = nvidia_module(kernel)
    if module is None:
        set_unloaded(tree, "no_driver")
        return "kernel %s: no nvidia module" % kernel
    set_loaded(tree, module[0], module[1], "ok")
    return "kernel %s: nvidia %s loaded (%s)" % (kernel, module[0], module[1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loaded", metavar="VERSION", help="set the running module's version (no boot)")
    parser.add_argument("--dir", default=DOUBLE_DIR)
    args = parser.parse_args(argv)
    if args.loaded:
        proc = os.path.join(args.dir, "proc", "driver", "nvidia", "version")
        with open(proc) if os.path.exists(proc) else open(os.devnull) as handle:
            open_module = "Open Kernel Module" in handle.readline()
        set_loaded(args.dir, args.loaded, "Dual MIT/GPL" if open_module else "NVIDIA", "mismatch")
        print("nvidia %s loaded; nvidia-smi reports a version mismatch" % args.loaded)
        return 0
    print(boot(args.dir, node_kernel(MODULES)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
