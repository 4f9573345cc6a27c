# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/ollama/create.py: the create request, what differs from a model, source files."""

from __future__ import annotations

import json

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.ollama import create as cr

HEX = "a" * 64


def test_create_request_and_idempotence():
    body = cr.build_create_request("acme/tiny:q4", [("tiny.gguf", "sha256:" + HEX)], template="{{ .Prompt }}",
                                   system="be brief", parameters={"num_ctx": 2048, "stop": ["<|end|>"]})
    assert body == {"model": "acme/tiny:q4", "files": {"tiny.gguf": "sha256:" + HEX}, "stream": True,
                    "template": "{{ .Prompt }}", "system": "be brief", "parameters": {"num_ctx": 2048, "stop": ["<|end|>"]}}
    assert json.loads(json.dumps(body)) == body
    show = {"modelfile": "# x\nFROM /m/blobs/sha256-%s\nTEMPLATE \"\"\"{{ .Prompt }}\"\"\"\n" % HEX,
            "template": "{{ .Prompt }}", "system": "be brief",
            "parameters": 'num_ctx                        2048\nstop                           "<|end|>"'}
    assert cr.differences(show, "sha256:" + HEX, "{{ .Prompt }}", "be brief", {"num_ctx": 2048, "stop": "<|end|>"}) == []
    diffs = cr.differences(show, "sha256:" + "b" * 64, "other", None, {"num_ctx": 4096})
    assert len(diffs) == 3 and diffs[0].startswith("model weights sha256:" + HEX)
    assert cr.differences(show, None, None, None, None) == []


def test_source_files(tmp_path):
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF\x03\x00\x00\x00")
    assert cr.source_files(str(gguf)) == [("m.gguf", str(gguf))]
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"PK\x03\x04")
    with pytest.raises(ValueError, match="not a GGUF file"):
        cr.source_files(str(bad))
    st_dir = tmp_path / "st"
    st_dir.mkdir()
    (st_dir / "model.safetensors").write_bytes(b"x")
    with pytest.raises(ValueError, match="no config.json"):
        cr.source_files(str(st_dir))
    (st_dir / "config.json").write_text("{}")
    (st_dir / "README.md").write_text("ignored")
    assert [n for n, _full in cr.source_files(str(st_dir))] == ["config.json", "model.safetensors"]
