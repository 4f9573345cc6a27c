# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A copied model store (``blobs/`` + ``manifests/``, the layout of ``$OLLAMA_MODELS``).

``plan_store_import`` reads one model's manifest in a source store and says which blobs must be
copied into the server's store; ``copy_blob`` copies one with its digest checked on the way.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile

from ansible_collections.onprem.llm.plugins.module_utils.ollama import OllamaError
from ansible_collections.onprem.llm.plugins.module_utils.ollama import digest as dg

MANIFEST_MEDIA_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


def read_manifest(store, name):
    """``(path, bytes, parsed)`` of the manifest of ``name`` (a ModelName) in ``store``."""
    path = os.path.join(store, "manifests", *name.manifest_relpath.split("/"))
    if not os.path.isfile(path):
        raise OllamaError("%s: no manifest for %s in the store %s" % (path, name, store), kind="unknown_model")
    with open(path, "rb") as handle:
        raw = handle.read()
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except ValueError as exc:
        raise OllamaError("%s is not a JSON manifest: %s" % (path, exc), kind="server")
    return path, raw, manifest


def manifest_layers(manifest):
    """All ``{digest, size, mediaType}`` a manifest references (config first)."""
    layers = []
    if isinstance(manifest.get("config"), dict) and manifest["config"].get("digest"):
        layers.append(manifest["config"])
    layers += [layer for layer in manifest.get("layers") or [] if layer.get("digest")]
    return layers


def plan_store_import(source, dest, name):
    """What to copy from store ``source`` into store ``dest`` for model ``name``.

    Returns a dict: ``manifest_src``, ``manifest_dest``, ``manifest_bytes``, ``manifest_same``
    (dest has an identical manifest), ``blobs`` - a list of ``{digest, size, src, dest, present}``
    - and ``size`` (sum of the blob sizes). Raises OllamaError for a missing manifest or blob.
    """
    src_manifest, raw, manifest = read_manifest(source, name)
    dest_manifest = os.path.join(dest, "manifests", *name.manifest_relpath.split("/"))
    same = False
    if os.path.isfile(dest_manifest):
        with open(dest_manifest, "rb") as handle:
            same = handle.read() == raw
    blobs = []
    for layer in manifest_layers(manifest):
        filename = dg.blob_filename(layer["digest"])
        src = os.path.join(source, "blobs", filename)
        if not os.path.isfile(src):
            raise OllamaError("%s: blob %s referenced by %s is missing from the store" % (src, layer["digest"], src_manifest),
                              kind="digest_mismatch")
        target = os.path.join(dest, "blobs", filename)
        present = os.path.isfile(target) and os.path.getsize(target) == int(layer.get("size", os.path.getsize(src)))
        blobs.append({"digest": dg.normalize(layer["digest"]), "size": int(layer.get("size") or os.path.getsize(src)),
                      "src": src, "dest": target, "present": present})
    return {
        "manifest_src": src_manifest,
        "manifest_dest": dest_manifest,
        "manifest_bytes": raw,
        "manifest_digest": dg.sha256_bytes(raw),
        "manifest_same": same,
        "blobs": blobs,
        "size": sum(b["size"] for b in blobs),
    }


def _atomic_write(dest, writer, uid=None, gid=None, mode=0o644):
    directory = os.path.dirname(dest)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".onprem-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            writer(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        if uid is not None:
            os.chown(tmp, uid, gid)
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def copy_blob(blob, uid=None, gid=None):
    """Copy one blob, hashing it on the way; a mismatch leaves nothing behind and raises."""
    expected = blob["digest"]
    state = {}

    def writer(out):
        hasher = hashlib.sha256()
        with open(blob["src"], "rb") as handle:
            while True:
                block = handle.read(dg.CHUNK)
                if not block:
                    break
                hasher.update(block)
                out.write(block)
        state["digest"] = "sha256:" + hasher.hexdigest()
        if state["digest"] != expected:
            raise OllamaError('digest mismatch, expected "%s", got "%s" (%s)' % (expected, state["digest"], blob["src"]),
                              kind="digest_mismatch")

    _atomic_write(blob["dest"], writer, uid, gid)


def write_manifest(plan, uid=None, gid=None):
    _atomic_write(plan["manifest_dest"], lambda out: out.write(plan["manifest_bytes"]), uid, gid)


def makedirs_owned(path, stop, uid, gid):
    """Create ``path`` (below ``stop``) with each new directory owned by uid:gid, mode 0755."""
    missing = []
    current = path
    while not os.path.isdir(current) and current != stop and current != os.path.dirname(current):
        missing.append(current)
        current = os.path.dirname(current)
    for directory in reversed(missing):
        os.mkdir(directory, 0o755)
        if uid is not None:
            os.chown(directory, uid, gid)


def copy_manifest_dirs(plan, dest_store, uid, gid):
    makedirs_owned(os.path.dirname(plan["manifest_dest"]), dest_store, uid, gid)
    makedirs_owned(os.path.join(dest_store, "blobs"), dest_store, uid, gid)
