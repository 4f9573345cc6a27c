# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""sha256 manifests of a bundle directory.

``MANIFEST.sha256`` uses ``sha256sum`` lines (``<hex>  ./<path>``), so ``sha256sum -c`` checks a
bundle on any machine; ``model_manifest`` writes the ``manifest.json`` that model_fetch's http source
reads. Dot files and dot directories (state, partials, signatures keys) are never listed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re

MANIFEST_NAME = "MANIFEST.sha256"
_LINE_RE = re.compile(r"^([0-9a-f]{64}) [ *](?:\./)?(.+)$")


def sha256_file(path, block=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(block), b""):
            digest.update(chunk)
    return digest.hexdigest()


def walk_files(root, exclude=()):
    """Relative paths (``/``-separated, sorted) of the regular files under root, without dot entries."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.startswith("."):
                continue
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            if rel in exclude or not os.path.isfile(full) or os.path.islink(full):
                continue
            out.append(rel)
    return sorted(out)


def compute(root, exclude=(MANIFEST_NAME,), hasher=sha256_file):
    """{relative path: sha256} of every file under root."""
    return dict((rel, hasher(os.path.join(root, rel))) for rel in walk_files(root, exclude))


def render(entries):
    """sha256sum text, sorted by path."""
    return "".join("%s  ./%s\n" % (entries[rel], rel) for rel in sorted(entries))


def parse(text):
    """{path: sha256} from sha256sum text; raises ValueError naming the first bad line."""
    out = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _LINE_RE.match(line)
        if not match:
            raise ValueError("line %d is not '<sha256>  <path>': %r" % (number, line[:120]))
        out[match.group(2)] = match.group(1)
    return out


def compare(expected, actual):
    """Differences between a manifest and what is on disk: missing, changed, unlisted (sorted lists)."""
    return {
        "missing": sorted(set(expected) - set(actual)),
        "changed": sorted(p for p in set(expected) & set(actual) if expected[p] != actual[p]),
        "unlisted": sorted(set(actual) - set(expected)),
    }


def model_manifest(root, revision=None, hasher=sha256_file):
    """The manifest.json text for one model directory (model_fetch's http source reads it)."""
    files = [{"path": rel, "size": os.path.getsize(os.path.join(root, rel)), "sha256": hasher(os.path.join(root, rel))}
             for rel in walk_files(root, exclude=("manifest.json",))]
    return json.dumps({"revision": revision, "files": files}, indent=2, sort_keys=True) + "\n"
