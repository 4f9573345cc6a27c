# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""NDJSON progress streams of ``/api/pull`` and ``/api/create``.

A pull streams ``{"status": "pulling manifest"}``, then per layer
``{"status": "pulling <digest12>", "digest": "sha256:...", "total": N, "completed": M}``, then
``verifying sha256 digest``, ``writing manifest``, ``success``. A failure is a line
``{"error": "..."}`` (the HTTP status stays 200). ``PullProgress`` folds the lines into a summary.
"""

from __future__ import annotations

import json

from ansible_collections.onprem.llm.plugins.module_utils.ollama import OllamaError
from ansible_collections.onprem.llm.plugins.module_utils.ollama.errors import classify


def iter_ndjson(lines):
    """Yield one dict per non-empty line; a line that is not JSON raises OllamaError (transient:
    a connection cut mid-line looks like this)."""
    for raw in lines:
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", "replace")
        raw = raw.strip()
        if not raw:
            continue
        try:
            event = json.loads(raw)
        except ValueError:
            raise OllamaError("unreadable progress line from the server: %r" % raw[:200], transient=True, kind="network")
        if not isinstance(event, dict):
            raise OllamaError("unexpected progress line from the server: %r" % raw[:200], transient=True, kind="network")
        yield event


class PullProgress:
    """Summary of one pull/create stream: statuses seen, per-layer totals, final state."""

    def __init__(self):
        self.statuses = []
        self.layers = {}  # digest -> {"total": int, "completed": int}
        self.success = False
        self.error = None

    def feed(self, event):
        """Take one event; raise OllamaError on an ``error`` line."""
        if event.get("error"):
            message = str(event["error"])
            kind, transient, _hint = classify(message)
            self.error = message
            raise OllamaError(message, transient=transient, kind=kind)
        status = event.get("status")
        if status and (not self.statuses or self.statuses[-1] != status):
            self.statuses.append(status)
        digest = event.get("digest")
        if digest:
            layer = self.layers.setdefault(digest, {"total": 0, "completed": 0})
            if event.get("total") is not None:
                layer["total"] = int(event["total"])
            if event.get("completed") is not None:
                layer["completed"] = max(layer["completed"], int(event["completed"]))
        if status == "success":
            self.success = True

    def consume(self, events):
        for event in events:
            self.feed(event)
        return self

    @property
    def bytes_total(self):
        return sum(layer["total"] for layer in self.layers.values())

    @property
    def bytes_completed(self):
        return sum(layer["completed"] for layer in self.layers.values())

    def as_dict(self):
        return {
            "statuses": list(self.statuses),
            "bytes_total": self.bytes_total,
            "bytes_completed": self.bytes_completed,
            "layers": [dict(digest=d, **v) for d, v in sorted(self.layers.items())],
            "success": self.success,
        }
