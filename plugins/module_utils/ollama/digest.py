# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Digests in Ollama's spellings: ``sha256:<hex>`` in the API, ``sha256-<hex>`` as blob file names."""

from __future__ import annotations

import hashlib
import re

_DIGEST = re.compile(r"^sha256[:-]([0-9a-f]{64})$")
CHUNK = 4 << 20


def normalize(digest):
    """``sha256:<hex>`` from either spelling (or a bare 64-hex string); ValueError otherwise."""
    text = (digest or "").strip().lower()
    if re.match(r"^[0-9a-f]{64}$", text):
        return "sha256:" + text
    match = _DIGEST.match(text)
    if not match:
        raise ValueError("not a sha256 digest: %r" % digest)
    return "sha256:" + match.group(1)


def blob_filename(digest):
    """File name of a blob under ``$OLLAMA_MODELS/blobs``."""
    return normalize(digest).replace(":", "-")


def sha256_file(path, chunk=CHUNK):
    """``(sha256:<hex>, size)`` of a file, read in chunks."""
    hasher = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while True:
            block = handle.read(chunk)
            if not block:
                break
            hasher.update(block)
            size += len(block)
    return "sha256:" + hasher.hexdigest(), size


def sha256_bytes(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()
