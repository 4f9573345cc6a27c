# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What evaluate.yml is given: file entries, and the memory each instance holds (pure functions)."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET

FILE_KEYS = {"tasks": ("path", "name", "scoring"), "texts": ("path", "name", "window")}


class InputError(ValueError):
    pass


def file_entries(entries, kind, base="", node_dir="/var/cache/onprem-llm/eval"):
    """onprem_eval_tasks / onprem_eval_texts -> [{name, path, node_path, on_controller, on_node}].

    An entry is a path or a dict with ``path``; ``name`` defaults to the file name without its
    extension; a relative path is taken from ``base`` (the directory ansible-playbook runs in).
    """
    if kind not in FILE_KEYS:
        raise InputError("kind must be tasks or texts, got %r" % (kind,))
    var = "onprem_eval_%s" % kind
    out = []
    for i, entry in enumerate(entries or []):
        if isinstance(entry, str):
            entry = {"path": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or not entry["path"].strip():
            raise InputError("%s[%d] must be a path or a dict with a path" % (var, i))
        unknown = sorted(set(entry) - set(FILE_KEYS[kind]))
        if unknown:
            raise InputError("%s[%d]: unknown keys %s (known: %s)" % (var, i, ", ".join(unknown), ", ".join(FILE_KEYS[kind])))
        path = os.path.expanduser(entry["path"])
        if not os.path.isabs(path):
            path = os.path.normpath(os.path.join(base or os.getcwd(), path))
        stem = os.path.splitext(os.path.basename(path))[0]
        name = str(entry.get("name") or stem)
        node_path = "%s/%s-%d-%s" % (node_dir.rstrip("/"), kind, i, re.sub(r"[^A-Za-z0-9_.-]", "_", os.path.basename(path)))
        if kind == "tasks":
            extra = {"scoring": entry.get("scoring") or "auto"}
        else:
            try:
                extra = {"window": int(entry.get("window") or 0)}
            except (TypeError, ValueError):
                raise InputError("%s[%d]: window must be a number of tokens, got %r" % (var, i, entry.get("window")))
        # The same entry as onprem.llm.llm_evaluate takes it on the controller and on a runner.
        out.append({"name": name, "path": path, "node_path": node_path,
                    "on_controller": dict(extra, name=name, path=path), "on_node": dict(extra, name=name, path=node_path)})
    return out


def gpu_process_memory(xml_text):
    """``nvidia-smi -q -x`` -> {pid: MiB} of every process on every GPU (summed over GPUs)."""
    if not xml_text or not xml_text.strip():
        return {}
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as exc:
        raise InputError("nvidia-smi -q -x is not XML: %s" % exc)
    out = {}
    for proc in root.findall("gpu/processes/process_info"):
        pid = (proc.findtext("pid") or "").strip()
        match = re.match(r"^(\d+)\s*MiB$", (proc.findtext("used_memory") or "").strip())
        if pid.isdigit() and match:
            out[int(pid)] = out.get(int(pid), 0) + int(match.group(1))
    return out


def rss_bytes(status_texts):
    """The summed VmRSS of ``/proc/<pid>/status`` texts (concatenated), in bytes; None without any."""
    values = [int(m) for m in re.findall(r"^VmRSS:\s+(\d+)\s+kB$", status_texts or "", re.M)]
    return sum(values) * 1024 if values else None


def instance_memory(memory_current, cgroup_procs="", gpu_xml="", status_texts=""):
    """{bytes, source} of one systemd unit: its processes' GPU memory when they hold any, else the
    unit's MemoryCurrent (cgroup accounting), else its processes' resident memory (where systemd
    does not account memory, as in a container); bytes None when none is known."""
    pids = set(int(p) for p in (cgroup_procs or "").split() if p.strip().isdigit())
    by_pid = gpu_process_memory(gpu_xml)
    gpu_mib = sum(mib for pid, mib in by_pid.items() if pid in pids)
    if gpu_mib:
        return {"bytes": gpu_mib * 1048576, "source": "GPU memory of the instance's processes (nvidia-smi)"}
    value = str(memory_current or "").strip()
    if value.isdigit() and int(value) < 2 ** 63:
        return {"bytes": int(value), "source": "host memory of the unit (systemd MemoryCurrent)"}
    rss = rss_bytes(status_texts)
    if rss:
        return {"bytes": rss, "source": "resident memory of the unit's processes (VmRSS)"}
    return {"bytes": None, "source": ""}
