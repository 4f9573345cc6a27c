# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""onprem.llm.ollama_model end to end against the ollama double (tests/doubles/ollama_double)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.onprem.llm.plugins.module_utils.ollama import digest as dg
from ansible_collections.onprem.llm.plugins.modules import ollama_model

ROOT = Path(__file__).resolve().parents[4]
DOUBLE = ROOT / "tests" / "doubles" / "ollama_double" / "bin" / "ollama"


def run_module(capsys, args, check_mode=False):
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            ollama_model.main()
    out = json.loads(capsys.readouterr().out)
    out["_rc"] = exc.value.code
    return out


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_registry(root, name="tiny", tag="latest", payload=b"GGUF" + b"\0" * 300_000):
    """A store-shaped registry directory holding one model (what the double's pull reads)."""
    blobs = root / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    layers = []
    for data, media in ((payload, "application/vnd.ollama.image.model"), (b"{{ .Prompt }}", "application/vnd.ollama.image.template")):
        d = dg.sha256_bytes(data)
        (blobs / dg.blob_filename(d)).write_bytes(data)
        layers.append({"mediaType": media, "digest": d, "size": len(data)})
    cfg = json.dumps({"model_format": "gguf", "model_family": "llama"}).encode()
    cd = dg.sha256_bytes(cfg)
    (blobs / dg.blob_filename(cd)).write_bytes(cfg)
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": cd, "size": len(cfg)},
                "layers": layers}
    mdir = root / "manifests" / "registry.ollama.ai" / "library" / name
    mdir.mkdir(parents=True, exist_ok=True)
    (mdir / tag).write_text(json.dumps(manifest))
    return root


@pytest.fixture
def server(tmp_path):
    port = _free_port()
    env = dict(os.environ, OLLAMA_HOST="127.0.0.1:%d" % port, OLLAMA_MODELS=str(tmp_path / "models"),
               HOME=str(tmp_path / "home"), OLLAMA_DOUBLE_REGISTRY=str(make_registry(tmp_path / "registry")),
               OLLAMA_DOUBLE_VERSION="0.20.0")
    proc = subprocess.Popen([sys.executable, str(DOUBLE), "serve"], env=env, stderr=subprocess.DEVNULL)
    url = "http://127.0.0.1:%d" % port
    deadline = time.monotonic() + 30  # a loaded 2-core machine starts Python slowly
    while True:
        try:
            urllib.request.urlopen(url + "/", timeout=1).read()
            break
        except OSError:
            assert time.monotonic() < deadline and proc.poll() is None, "the ollama double did not start"
            time.sleep(0.05)
    yield {"url": url, "models": tmp_path / "models", "registry": tmp_path / "registry", "env": env, "tmp": tmp_path}
    proc.terminate()
    proc.wait(5)


def write_gguf(path, arch="llama"):
    import gguf  # the real writer (gguf package), as llama.cpp writes files
    import numpy as np

    writer = gguf.GGUFWriter(str(path), arch)
    writer.add_block_count(1)
    writer.add_context_length(128)
    writer.add_file_type(1)
    writer.add_tensor("token_embd.weight", np.ones((8, 4), dtype=np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def test_pull_idempotent_check_mode_and_absent(capsys, server):
    args = {"name": "tiny", "host": server["url"]}
    r = run_module(capsys, args, check_mode=True)
    assert r["changed"] and r["action"] == "pulled" and r["digest"] is None
    assert not (server["models"] / "manifests" / "registry.ollama.ai").exists()
    r = run_module(capsys, args)
    assert r["_rc"] == 0 and r["changed"] and r["name"] == "tiny:latest" and r["server_version"] == "0.20.0"
    assert r["progress"]["success"] and r["progress"]["bytes_completed"] == r["progress"]["bytes_total"] > 300_000
    assert len(r["digest"]) == 64 and r["size"] > 300_000
    assert (server["models"] / "manifests" / "registry.ollama.ai" / "library" / "tiny" / "latest").is_file()
    r2 = run_module(capsys, args)
    assert not r2["changed"] and r2["digest"] == r["digest"] and r2["action"] == "none"
    r3 = run_module(capsys, dict(args, force=True))
    assert not r3["changed"] and r3["progress"]["success"]
    r4 = run_module(capsys, dict(args, state="absent"), check_mode=True)
    assert r4["changed"] and r4["action"] == "deleted"
    r5 = run_module(capsys, dict(args, state="absent"))
    assert r5["changed"] and r5["digest"] is None
    assert not list((server["models"] / "blobs").glob("sha256-*"))
    assert not run_module(capsys, dict(args, state="absent"))["changed"]


def test_pull_unknown_model_fails_verbatim(capsys, server):
    r = run_module(capsys, {"name": "nope:1b", "host": server["url"], "retries": 0})
    assert r["_rc"] == 1 and r["error"] == "pull model manifest: file does not exist"
    assert r["msg"].startswith("pull model manifest: file does not exist (unknown_model:")
    assert r["error_kind"] == "unknown_model"


def test_pull_resumes_partial_layer(capsys, server):
    manifest = json.loads((server["registry"] / "manifests/registry.ollama.ai/library/tiny/latest").read_text())
    big = manifest["layers"][0]
    partial = server["models"] / "blobs" / (dg.blob_filename(big["digest"]) + "-partial")
    data = (server["registry"] / "blobs" / dg.blob_filename(big["digest"])).read_bytes()
    partial.write_bytes(data[:1000])
    r = run_module(capsys, {"name": "tiny", "host": server["url"]})
    assert r["changed"] and not partial.exists()
    assert r["progress"]["layers"][[l["digest"] for l in r["progress"]["layers"]].index(big["digest"])]["completed"] == big["size"]


def test_import_gguf_offline_idempotent_and_updates(capsys, server, tmp_path):
    path = write_gguf(tmp_path / "tiny.gguf")
    args = {"name": "acme/tiny:f16", "source": "file", "path": str(path), "host": server["url"],
            "template": "{{ .Prompt }}", "system": "be brief", "parameters": {"num_ctx": 2048, "stop": ["</s>"]}}
    r = run_module(capsys, args, check_mode=True)
    assert r["changed"] and r["uploaded"][0]["name"] == "tiny.gguf" and r["digest"] is None
    r = run_module(capsys, args)
    assert r["_rc"] == 0 and r["changed"] and r["action"] == "created", r
    want = dg.sha256_file(str(path))[0]
    assert r["uploaded"] == [{"name": "tiny.gguf", "digest": want, "size": path.stat().st_size}]
    assert (server["models"] / "blobs" / dg.blob_filename(want)).is_file()
    r2 = run_module(capsys, args)
    assert not r2["changed"] and r2["digest"] == r["digest"] and r2["uploaded"] == []
    r3 = run_module(capsys, dict(args, system="be verbose"), check_mode=True)
    assert r3["changed"] and r3["differences"] == ["system prompt differs"] and r3["uploaded"] == []
    r4 = run_module(capsys, dict(args, parameters={"num_ctx": 4096}))
    assert r4["changed"] and r4["digest"] != r["digest"]


def test_import_rejects_non_gguf(capsys, server, tmp_path):
    bad = tmp_path / "x.gguf"
    bad.write_bytes(b"not gguf at all")
    r = run_module(capsys, {"name": "x", "source": "file", "path": str(bad), "host": server["url"]})
    assert r["_rc"] == 1 and "not a GGUF file" in r["msg"]


def test_import_safetensors_dir(capsys, server, tmp_path):
    d = tmp_path / "st"
    d.mkdir()
    (d / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"]}))
    (d / "model.safetensors").write_bytes(b"\x08\0\0\0\0\0\0\0{}      ")
    (d / "tokenizer.json").write_text("{}")
    args = {"name": "st-model", "source": "file", "path": str(d), "host": server["url"]}
    r = run_module(capsys, args)
    assert r["changed"] and len(r["uploaded"]) == 3
    assert not run_module(capsys, args)["changed"]


def test_store_copy(capsys, server, tmp_path):
    args = {"name": "tiny", "source": "store", "path": str(server["registry"]), "models_dir": str(server["models"]),
            "host": server["url"]}
    r = run_module(capsys, args, check_mode=True)
    assert r["changed"] and len(r["uploaded"]) == 3
    r = run_module(capsys, args)
    assert r["changed"] and r["action"] == "copied" and len(r["digest"]) == 64
    assert not run_module(capsys, args)["changed"]


def test_digest_mismatch_upload_is_refused(server, tmp_path):
    from ansible_collections.onprem.llm.plugins.module_utils.ollama import OllamaError
    from ansible_collections.onprem.llm.plugins.module_utils.ollama.client import OllamaClient

    f = tmp_path / "blob"
    f.write_bytes(b"abc")
    client = OllamaClient(server["url"], retries=0)
    with pytest.raises(OllamaError) as exc:
        client.push_blob("sha256:" + "0" * 64, str(f))
    assert exc.value.status == 400 and str(exc.value).startswith('digest mismatch, expected "sha256:000')
    assert not client.blob_exists("sha256:" + "0" * 64)


def test_server_unreachable_is_reported(capsys):
    r = run_module(capsys, {"name": "tiny", "host": "127.0.0.1:%d" % _free_port(), "retries": 0})
    assert r["_rc"] == 1 and "cannot reach the Ollama server" in r["msg"]


def test_double_cli(server):
    env = server["env"]
    out = subprocess.run([sys.executable, str(DOUBLE), "--version"], env=env, capture_output=True, text=True,
                         check=False).stdout
    assert out.strip() == "ollama version is 0.20.0"
    out = subprocess.run([sys.executable, str(DOUBLE), "list"], env=env, capture_output=True, text=True,
                         check=False).stdout
    assert out.split() == ["NAME", "ID", "SIZE", "MODIFIED"]
