# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of module_utils/ollama: names, digests, stream parsing, error mapping, requests."""

from __future__ import annotations

import json

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.ollama import OllamaError
from ansible_collections.onprem.llm.plugins.module_utils.ollama import create as cr
from ansible_collections.onprem.llm.plugins.module_utils.ollama import digest as dg
from ansible_collections.onprem.llm.plugins.module_utils.ollama import errors, names, store, stream
from ansible_collections.onprem.llm.plugins.module_utils.ollama.client import base_url

HEX = "a" * 64


@pytest.mark.parametrize("raw,short,rel", [
    ("llama3", "llama3:latest", "registry.ollama.ai/library/llama3/latest"),
    ("qwen2.5:7b-instruct", "qwen2.5:7b-instruct", "registry.ollama.ai/library/qwen2.5/7b-instruct"),
    ("acme/tiny:q4", "acme/tiny:q4", "registry.ollama.ai/acme/tiny/q4"),
    ("reg.corp:5000/team/m:v1", "reg.corp:5000/team/m:v1", "reg.corp:5000/team/m/v1"),
])
def test_names(raw, short, rel):
    name = names.parse_name(raw)
    assert str(name) == short and name.manifest_relpath == rel


@pytest.mark.parametrize("raw", ["", "a/b/c/d", "bad name", ":tag", "m:"])
def test_bad_names(raw):
    with pytest.raises(ValueError):
        names.parse_name(raw)


def test_find_listed_matches_normalised_names():
    models = [{"name": "llama3:latest", "model": "llama3:latest", "digest": "x"}, {"name": "acme/tiny:q4"}]
    assert names.find_listed(models, "llama3")["digest"] == "x"
    assert names.find_listed(models, "registry.ollama.ai/acme/tiny:q4") is models[1]
    assert names.find_listed(models, "llama3:8b") is None


def test_digest_spellings(tmp_path):
    assert dg.normalize("sha256-" + HEX) == "sha256:" + HEX
    assert dg.normalize(HEX.upper()) == "sha256:" + HEX
    assert dg.blob_filename("sha256:" + HEX) == "sha256-" + HEX
    with pytest.raises(ValueError):
        dg.normalize("sha256:xyz")
    f = tmp_path / "f"
    f.write_bytes(b"hello")
    assert dg.sha256_file(str(f), chunk=2) == ("sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", 5)


PULL_OK = [
    b'{"status":"pulling manifest"}\n',
    b'{"status":"pulling 6a0746a1ec1a","digest":"sha256:%s","total":100,"completed":0}\n' % HEX.encode(),
    b'{"status":"pulling 6a0746a1ec1a","digest":"sha256:%s","total":100,"completed":60}\n' % HEX.encode(),
    b"\n",
    b'{"status":"pulling 6a0746a1ec1a","digest":"sha256:%s","total":100,"completed":100}\n' % HEX.encode(),
    b'{"status":"verifying sha256 digest"}\n',
    b'{"status":"writing manifest"}\n',
    b'{"status":"success"}\n',
]


def test_pull_stream_summary():
    progress = stream.PullProgress().consume(stream.iter_ndjson(PULL_OK))
    assert progress.success and progress.bytes_total == progress.bytes_completed == 100
    assert progress.statuses == ["pulling manifest", "pulling 6a0746a1ec1a", "verifying sha256 digest",
                                 "writing manifest", "success"]


def test_pull_stream_error_is_verbatim_and_permanent():
    lines = [b'{"status":"pulling manifest"}\n', b'{"error":"pull model manifest: file does not exist"}\n']
    with pytest.raises(OllamaError) as exc:
        stream.PullProgress().consume(stream.iter_ndjson(lines))
    assert str(exc.value) == "pull model manifest: file does not exist"
    assert exc.value.kind == "unknown_model" and not exc.value.transient


def test_cut_stream_line_is_transient():
    with pytest.raises(OllamaError) as exc:
        list(stream.iter_ndjson([b'{"status":"pulli']))
    assert exc.value.transient


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


@pytest.mark.parametrize("host,url", [
    ("127.0.0.1:11434", "http://127.0.0.1:11434"),
    ("0.0.0.0", "http://127.0.0.1:11434"),
    ("http://[::]:8080/", "http://[::1]:8080"),
    ("https://ollama.corp", "https://ollama.corp:443"),
])
def test_base_url(host, url):
    assert base_url(host) == url
