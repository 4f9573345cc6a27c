# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ollama's loaded models for the node exporter's textfile collector: Ollama has no metrics endpoint.

Reads Ollama's API on this host (``/api/version``, ``/api/tags``, ``/api/ps``) and writes whether it
answers, its version, how many models it stores, and for each loaded model its size, the part in
GPU memory, its context length and when it will be unloaded. Standard library only: it runs on the
Ollama host from a systemd timer (roles/monitoring, tasks/textfile_metrics.yml).

    onprem_llm_ollama_metrics.py --output /var/lib/prometheus/node-exporter/onprem_llm_ollama.prom \\
        --url http://127.0.0.1:11434

Requests are counted by the gateway (onprem_llm_gateway_requests_total by model), not here.
"""

from __future__ import annotations

import argparse
import calendar
import json
import re
import sys
import urllib.error
import urllib.request

import onprem_llm_textfile as textfile

API_TIMEOUT = 5
# Go's RFC 3339 with nanoseconds, as Ollama writes expires_at: 2024-06-04T14:38:31.83753-07:00
_RFC3339 = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$")

# name -> (type, help)
METRICS = {
    "onprem_llm_ollama_up": ("gauge", "1 when Ollama's API answered on the last run, 0 when it did not."),
    "onprem_llm_ollama_info": ("gauge", "Ollama's version (label version), 1."),
    "onprem_llm_ollama_models_stored": ("gauge", "Models in Ollama's store (/api/tags)."),
    "onprem_llm_ollama_model_loaded_bytes": ("gauge", "Memory a loaded model takes (/api/ps size)."),
    "onprem_llm_ollama_model_vram_bytes": ("gauge", "Part of a loaded model in GPU memory (/api/ps size_vram)."),
    "onprem_llm_ollama_model_context_length": ("gauge", "Context length a loaded model was loaded with."),
    "onprem_llm_ollama_model_expiry_timestamp_seconds": (
        "gauge", "When Ollama unloads the model if it stays idle (Unix time)."),
}


def timestamp(text):
    """'2024-06-04T14:38:31.83753-07:00' -> Unix seconds; None when it does not parse."""
    match = _RFC3339.match(str(text or ""))
    if not match:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction = float(match.group(7) or 0)
    zone = match.group(8)
    offset = 0 if zone == "Z" else (1 if zone[0] == "+" else -1) * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    try:
        return calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)) - offset + fraction
    except (OverflowError, ValueError):
        return None


def samples(version, tags, ps):
    """Ollama's /api/version, /api/tags and /api/ps answers (None: no answer) -> [(name, labels, value)]."""
    if ps is None:
        return [("onprem_llm_ollama_up", {}, 0.0)]
    out = [("onprem_llm_ollama_up", {}, 1.0)]
    if version and version.get("version"):
        out.append(("onprem_llm_ollama_info", {"version": str(version["version"])}, 1.0))
    if tags is not None:
        out.append(("onprem_llm_ollama_models_stored", {}, float(len(tags.get("models") or []))))
    for model in ps.get("models") or []:
        labels = {"model": str(model.get("name") or model.get("model") or "")}
        figures = {
            "onprem_llm_ollama_model_loaded_bytes": model.get("size"),
            "onprem_llm_ollama_model_vram_bytes": model.get("size_vram"),
            "onprem_llm_ollama_model_context_length": model.get("context_length"),
            "onprem_llm_ollama_model_expiry_timestamp_seconds": timestamp(model.get("expires_at")),
        }
        out.extend((name, labels, float(value)) for name, value in figures.items()
                   if isinstance(value, (int, float)) and not isinstance(value, bool))
    return out


def exposition(rows):
    """[(name, labels, value)] -> Prometheus text format."""
    return textfile.exposition(METRICS, rows)


def get(url, path):
    """The JSON document at url + path, or None when Ollama does not answer with one."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + path, timeout=API_TIMEOUT) as answer:
            document = json.loads(answer.read().decode("utf-8"))
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return document if isinstance(document, dict) else None


def collect(url):
    """The whole file's text for one run."""
    ps = get(url, "/api/ps")
    if ps is None:
        return exposition(samples(None, None, None))
    return exposition(samples(get(url, "/api/version"), get(url, "/api/tags"), ps))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--output", required=True, help="the .prom file the textfile collector reads")
    parser.add_argument("--url", required=True, help="Ollama's API on this host, e.g. http://127.0.0.1:11434")
    args = parser.parse_args(argv)
    textfile.write_atomically(args.output, collect(args.url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
