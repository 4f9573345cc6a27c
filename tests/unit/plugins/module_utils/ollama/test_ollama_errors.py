# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/ollama/errors.py: Ollama's error messages classified and described."""

from __future__ import annotations

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.ollama import errors


@pytest.mark.parametrize("message,status,kind,transient", [
    ("write /m/blobs/sha256-x-partial: no space left on device", None, "disk_full", False),
    ('digest mismatch, expected "sha256:a", got "sha256:b"', 400, "digest_mismatch", False),
    ("model 'nope:latest' not found", 404, "unknown_model", False),
    ("Get \"https://registry.ollama.ai/v2/...\": dial tcp: i/o timeout", None, "network", True),
    ("something odd", 503, "network", True),
    ("something odd", 500, "server", False),
])
def test_classify(message, status, kind, transient):
    got = errors.classify(message, status)
    assert got[:2] == (kind, transient)
    text = errors.describe(message, got[0], got[2])
    assert text.startswith(message)


def test_error_from_body():
    assert errors.error_from_body(b'{"error":"model \'x\' not found"}', 404) == "model 'x' not found"
    assert errors.error_from_body(b"404 page not found", 404) == "404 page not found"
    assert errors.error_from_body(b"", 502) == "HTTP 502 with an empty body"
