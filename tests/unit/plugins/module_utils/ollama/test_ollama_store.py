# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/ollama/store.py: importing a model store: plan, copy, verification."""

from __future__ import annotations

import json

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.ollama import OllamaError
from ansible_collections.onprem.llm.plugins.module_utils.ollama import digest as dg
from ansible_collections.onprem.llm.plugins.module_utils.ollama import names
from ansible_collections.onprem.llm.plugins.module_utils.ollama import store


def test_store_plan_and_copy(tmp_path):
    src, dest = tmp_path / "src", tmp_path / "dest"
    blob = b"weights"
    digest = dg.sha256_bytes(blob)
    (src / "blobs").mkdir(parents=True)
    (src / "blobs" / dg.blob_filename(digest)).write_bytes(blob)
    manifest = {"schemaVersion": 2, "config": {"digest": digest, "size": len(blob)}, "layers": [{"digest": digest, "size": len(blob)}]}
    mdir = src / "manifests" / "registry.ollama.ai" / "library" / "tiny"
    mdir.mkdir(parents=True)
    (mdir / "latest").write_text(json.dumps(manifest))
    dest.mkdir()
    name = names.parse_name("tiny")
    plan = store.plan_store_import(str(src), str(dest), name)
    assert not plan["manifest_same"] and [b["present"] for b in plan["blobs"]] == [False, False]
    store.copy_manifest_dirs(plan, str(dest), None, None)
    store.copy_blob(plan["blobs"][0])
    store.write_manifest(plan)
    again = store.plan_store_import(str(src), str(dest), name)
    assert again["manifest_same"] and all(b["present"] for b in again["blobs"])
    (src / "blobs" / dg.blob_filename(digest)).write_bytes(b"tampered")
    (dest / "blobs" / dg.blob_filename(digest)).unlink()
    with pytest.raises(OllamaError, match="digest mismatch"):
        store.copy_blob(store.plan_store_import(str(src), str(dest), name)["blobs"][0])
    assert not list((dest / "blobs").iterdir())
    with pytest.raises(OllamaError, match="no manifest"):
        store.plan_store_import(str(src), str(dest), names.parse_name("other"))
