#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dcgm-exporter test double: installed as /usr/bin/dcgm-exporter by the double of NVIDIA's
``datacenter-gpu-manager-exporter`` package (build_repo.py), on lab nodes that have no GPU.

It behaves as NVIDIA/dcgm-exporter documents and does (pkg/cmd/app.go, internal/pkg/rendermetrics at
commit d5e5f51): ``-f``/``DCGM_EXPORTER_COLLECTORS`` names the counters file (``field, type, help``
lines), ``-a``/``DCGM_EXPORTER_LISTEN`` the listen address (default ``:9400``, every address), and
``GET /metrics`` answers each counter it has a value for as ``# HELP`` / ``# TYPE`` and one sample per
GPU labelled ``gpu``, ``UUID``, ``pci_bus_id``, ``device``, ``modelName`` and ``hostname``; ``GET /health``
answers ``OK``. The values come from the nvidia-smi double's ``nvidia-smi -q -x`` (standing in for DCGM's
reads of the GPUs), read again for every scrape. Like the real exporter, it does not start when the
GPUs cannot be read. Standard library only.
"""

import os
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn

VERSION = "4.5.3-4.8.2"
DEFAULT_COUNTERS = "/etc/dcgm-exporter/default-counters.csv"
DEFAULT_LISTEN = ":9400"


def read_counters(path):
    """The counters file -> [(field, type, help)] of its uncommented lines."""
    counters = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = [part.strip() for part in line.split(",", 2)]
            if len(parts) == 3:
                counters.append(tuple(parts))
    return counters


def _number(text):
    """'40 C', '70.00 W', '15 MiB', '3 %' -> the number, None for N/A."""
    word = (text or "").strip().split(" ")[0]
    try:
        return float(word)
    except ValueError:
        return None


def read_gpus():
    """[(labels, {field: value})] from ``nvidia-smi -q -x``; raises when it fails, as DCGM fails to start."""
    xml = subprocess.run(["nvidia-smi", "-q", "-x"], check=True, capture_output=True, text=True).stdout
    gpus = []
    for index, gpu in enumerate(ET.fromstring(xml).findall("gpu")):
        def text(path):
            node = gpu.find(path)
            return node.text if node is not None else None
        labels = {"gpu": str(index), "UUID": text("uuid") or "", "pci_bus_id": gpu.get("id", ""),
                  "device": "nvidia%s" % (text("minor_number") or index), "modelName": text("product_name") or "",
                  "hostname": socket.gethostname()}
        power = text("gpu_power_readings/power_draw") or text("power_readings/power_draw")
        values = {
            "DCGM_FI_DEV_GPU_TEMP": _number(text("temperature/gpu_temp")),
            "DCGM_FI_DEV_GPU_UTIL": _number(text("utilization/gpu_util")),
            "DCGM_FI_DEV_MEM_COPY_UTIL": _number(text("utilization/memory_util")),
            "DCGM_FI_DEV_FB_USED": _number(text("fb_memory_usage/used")),
            "DCGM_FI_DEV_FB_FREE": _number(text("fb_memory_usage/free")),
            "DCGM_FI_DEV_FB_RESERVED": _number(text("fb_memory_usage/reserved")),
            "DCGM_FI_DEV_POWER_USAGE": _number(power),
            "DCGM_FI_DEV_SM_CLOCK": _number(text("clocks/sm_clock")),
            "DCGM_FI_DEV_MEM_CLOCK": _number(text("clocks/mem_clock")),
            "DCGM_FI_DEV_XID_ERRORS": 0.0,
        }
        gpus.append((labels, {field: value for field, value in values.items() if value is not None}))
    return gpus


def render(counters, gpus):
    lines = []
    for field, kind, help_text in counters:
        samples = [(labels, values[field]) for labels, values in gpus if field in values]
        if not samples:
            continue
        lines.append("# HELP %s %s" % (field, help_text))
        lines.append("# TYPE %s %s" % (field, kind))
        for labels, value in samples:
            text = ",".join('%s="%s"' % (key, labels[key])
                            for key in ("gpu", "UUID", "pci_bus_id", "device", "modelName", "hostname"))
            lines.append("%s{%s} %s" % (field, text, ("%d" % value) if value == int(value) else value))
    return "\n".join(lines) + "\n"


def parse_args(argv):
    options = {"collectors": os.environ.get("DCGM_EXPORTER_COLLECTORS", DEFAULT_COUNTERS),
               "listen": os.environ.get("DCGM_EXPORTER_LISTEN", DEFAULT_LISTEN)}
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("-v", "--version"):
            print("dcgm-exporter version %s (onprem.llm test double)" % VERSION)
            sys.exit(0)
        name, value = (arg.split("=", 1) + [""])[:2]
        if name in ("-f", "--collectors", "-a", "--address"):
            value = value or (args.pop(0) if args else "")
            options["collectors" if name in ("-f", "--collectors") else "listen"] = value
        else:
            sys.exit("dcgm-exporter double: unsupported argument %r" % arg)
    return options


def split_listen(listen):
    host, port = listen.rsplit(":", 1)
    return host.strip("[]"), int(port)


class Server(ThreadingMixIn, HTTPServer):
    daemon_threads = True


def main(argv):
    options = parse_args(argv)
    counters = read_counters(options["collectors"])
    try:
        read_gpus()
    except (OSError, subprocess.CalledProcessError) as exc:
        sys.exit("DCGM initialization error: the GPUs cannot be read (%s)" % exc)
    host, port = split_listen(options["listen"])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/health":
                body, status = "OK\n", 200
            elif self.path == "/metrics":
                try:
                    body, status = render(counters, read_gpus()), 200
                except (OSError, subprocess.CalledProcessError) as exc:
                    body, status = "failed to read the GPUs: %s\n" % exc, 500
            else:
                body, status = "404 page not found\n", 404
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    if ":" in host:
        Server.address_family = socket.AF_INET6
    server = Server((host or "", port), Handler)
    print("Starting webserver on %s" % options["listen"], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
