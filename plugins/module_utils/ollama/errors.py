# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Classify the server's error text: retry, or stop and show it verbatim.

Ollama reports errors as ``{"error": "..."}`` - the body of a non-2xx answer, or a line of an NDJSON
stream (pull/create answer 200 and then fail mid-stream). The text is never rewritten; the module
only adds a hint after it.
"""

from __future__ import annotations

import json

# (substring of the lowered message, kind, transient, hint). First match wins.
_RULES = (
    ("file does not exist", "unknown_model", False,
     "the registry has no such model or tag; check the name (ollama.com/library) or the mirror"),
    ("not found", "unknown_model", False, "the model or tag does not exist"),
    ("no space left on device", "disk_full", False,
     "free space in the models directory (OLLAMA_MODELS) or move it to a larger volume"),
    ("digest mismatch", "digest_mismatch", False,
     "the bytes do not hash to the digest they were announced with; the source file is corrupt or changed"),
    ("permission denied", "permission", False,
     "the ollama user cannot read or write the models directory or one of its parents"),
    ("unauthorized", "auth", False, "the registry refused the request"),
    ("invalid model name", "bad_name", False, None),
    ("unsupported", "unsupported", False, None),
    ("max retries exceeded", "network", True, None),
    ("unexpected eof", "network", True, None),
    ("connection reset", "network", True, None),
    ("connection refused", "network", True, None),
    ("i/o timeout", "network", True, None),
    ("tls handshake timeout", "network", True, None),
    ("timed out", "network", True, None),
    ("temporary failure", "network", True, None),
    ("context deadline exceeded", "network", True, None),
    ("service unavailable", "network", True, None),
)


def classify(message, status=None):
    """Return ``(kind, transient, hint)`` for an error text and optional HTTP status."""
    lowered = (message or "").lower()
    for needle, kind, transient, hint in _RULES:
        if needle in lowered:
            return kind, transient, hint
    if status is not None and status in (502, 503, 504):
        return "network", True, None
    if status == 404:
        return "unknown_model", False, None
    return "server", False, None


def error_from_body(body, status):
    """Extract the message from an error response body (JSON ``{"error": ...}`` or plain text)."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    text = (body or "").strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return text or "HTTP %s with an empty body" % status


def describe(message, kind, hint):
    """The message for ``fail_json``: the server's text first, verbatim, then our hint."""
    return message if not hint else "%s (%s: %s)" % (message, kind, hint)
