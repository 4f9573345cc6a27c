# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""onprem.llm.model_fetch end to end: the module's main() against the Hub double, a plain static
server (python's http.server, which ignores Range) and a local directory."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import os
import sys
import threading
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.onprem.llm.plugins.module_utils.weights import download as dl
from ansible_collections.onprem.llm.plugins.modules import model_fetch

ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(ROOT / "tests" / "doubles"))
from hf_hub_double import HubDouble  # noqa: E402

MiB = 1 << 20


def run_module(capsys, args, check_mode=False):
    if check_mode:
        args = dict(args, _ansible_check_mode=True)
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            model_fetch.main()
    out = json.loads(capsys.readouterr().out)
    out["_rc"] = exc.value.code
    return out


@pytest.fixture
def tree(tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "model.safetensors").write_bytes(os.urandom(2 * MiB + 3))
    (src / "config.json").write_bytes(b'{"model_type": "llama"}\n')
    (src / "sub" / "tokenizer.json").write_bytes(b"{}" * 100)
    return src


@pytest.fixture
def hub(tree):
    d = HubDouble()
    d.commit = d.add_repo("org/m", str(tree))
    d.start()
    yield d
    d.stop()


def _same(src, dest):
    for f in src.rglob("*"):
        if f.is_file() and f.name != "manifest.json":
            assert (dest / f.relative_to(src)).read_bytes() == f.read_bytes()


def test_hf_fetch_then_idempotent(capsys, hub, tree, tmp_path):
    dest = tmp_path / "dest"
    args = {"repo_id": "org/m", "endpoint": hub.url, "dest": str(dest), "token": "hf_secret_value"}
    r = run_module(capsys, args)
    assert r["_rc"] == 0 and r["changed"] is True
    assert r["revision"] == hub.commit and r["dest"] == str(dest)
    assert sorted((f["path"], f["action"]) for f in r["files"]) == [
        ("config.json", "downloaded"), ("model.safetensors", "downloaded"), ("sub/tokenizer.json", "downloaded")]
    assert r["bytes_downloaded"] == r["bytes_total"] == sum(f.stat().st_size for f in tree.rglob("*") if f.is_file())
    assert all(len(f["sha256"]) == 64 for f in r["files"])
    assert "hf_secret_value" not in json.dumps(r)
    _same(tree, dest)
    hub.reset_counters()
    r2 = run_module(capsys, args)
    assert r2["changed"] is False and {f["action"] for f in r2["files"]} == {"present"}
    assert r2["bytes_downloaded"] == 0 and hub.bytes_sent == 0


def test_hf_check_mode_touches_nothing(capsys, hub, tmp_path):
    dest = tmp_path / "dest"
    r = run_module(capsys, {"repo_id": "org/m", "endpoint": hub.url, "dest": str(dest)}, check_mode=True)
    assert r["_rc"] == 0 and r["changed"] is True
    assert r["bytes_downloaded"] == r["bytes_total"] and r["revision"] == hub.commit
    assert {f["action"] for f in r["files"]} == {"downloaded"}
    assert not dest.exists() and hub.bytes_sent == 0


def test_check_mode_reports_resume_and_present(capsys, hub, tree, tmp_path):
    dest = tmp_path / "dest"
    args = {"repo_id": "org/m", "endpoint": hub.url, "dest": str(dest)}
    run_module(capsys, args)
    os.unlink(dest / "model.safetensors")
    part, _meta = dl.partial_paths(str(dest), "model.safetensors")
    os.makedirs(os.path.dirname(part))
    Path(part).write_bytes((tree / "model.safetensors").read_bytes()[:MiB])
    before = sorted(str(p) for p in dest.rglob("*"))
    r = run_module(capsys, args, check_mode=True)
    acts = {f["path"]: f["action"] for f in r["files"]}
    assert acts == {"config.json": "present", "model.safetensors": "resumed", "sub/tokenizer.json": "present"}
    assert r["bytes_downloaded"] == MiB + 3 and r["bytes_resumed_from"] == MiB
    assert sorted(str(p) for p in dest.rglob("*")) == before
    r = run_module(capsys, args)
    assert r["changed"] and r["bytes_resumed_from"] == MiB and r["bytes_downloaded"] == MiB + 3
    _same(tree, dest)


def test_hf_404_repo_fails_clearly(capsys, hub, tmp_path):
    r = run_module(capsys, {"repo_id": "org/none", "endpoint": hub.url, "dest": str(tmp_path / "d")})
    assert r["_rc"] == 1 and r["failed"] and "not found" in r["msg"]


def test_disk_space_failure(capsys, hub, tmp_path, monkeypatch):
    monkeypatch.setattr(dl, "free_bytes", lambda p: 10)
    r = run_module(capsys, {"repo_id": "org/m", "endpoint": hub.url, "dest": str(tmp_path / "d")})
    assert r["_rc"] == 1 and "not enough free space" in r["msg"] and hub.bytes_sent == 0


def test_missing_huggingface_hub(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(model_fetch, "_have_huggingface_hub", lambda: False)
    r = run_module(capsys, {"repo_id": "org/m", "dest": str(tmp_path / "d")})
    assert r["_rc"] == 1 and "huggingface_hub" in r["msg"]


def test_required_if(capsys, tmp_path):
    r = run_module(capsys, {"source": "http", "dest": str(tmp_path / "d")})
    assert r["_rc"] == 1 and "url" in r["msg"]


@pytest.fixture
def plain_mirror(tree):
    """python -m http.server: no Range support, exactly like a naive mirror."""
    files = []
    for f in sorted(tree.rglob("*")):
        if f.is_file():
            files.append({"path": f.relative_to(tree).as_posix(), "size": f.stat().st_size,
                          "sha256": hashlib.sha256(f.read_bytes()).hexdigest()})
    (tree / "manifest.json").write_text(json.dumps({"revision": "2025-01-01", "files": files}))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tree))
    handler.log_message = lambda *a: None
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def test_http_mirror_with_manifest(capsys, plain_mirror, tree, tmp_path):
    dest = tmp_path / "dest"
    args = {"source": "http", "url": plain_mirror, "dest": str(dest), "parallel": 2}
    r = run_module(capsys, args)
    assert r["_rc"] == 0 and r["changed"] and r["revision"] == "2025-01-01"
    _same(tree, dest)
    # a partial left behind is "resumed" against a server that ignores Range: restarted, warned
    os.unlink(dest / "model.safetensors")
    part, _meta = dl.partial_paths(str(dest), "model.safetensors")
    os.makedirs(os.path.dirname(part))
    Path(part).write_bytes((tree / "model.safetensors").read_bytes()[:1000])
    r = run_module(capsys, args)
    assert "ignored Range" in json.dumps(r.get("warnings"))  # structured warnings in ansible-core 2.19
    assert {f["path"]: f["action"] for f in r["files"]}["model.safetensors"] == "downloaded"
    _same(tree, dest)
    assert run_module(capsys, args)["changed"] is False


def test_http_mirror_bad_checksum_never_lands(capsys, plain_mirror, tree, tmp_path):
    doc = json.loads((tree / "manifest.json").read_text())
    for f in doc["files"]:
        if f["path"] == "config.json":
            f["sha256"] = "0" * 64
    (tree / "manifest.json").write_text(json.dumps(doc))
    dest = tmp_path / "dest"
    r = run_module(capsys, {"source": "http", "url": plain_mirror, "dest": str(dest)})
    assert r["_rc"] == 1 and "config.json" in r["msg"] and "sha256" in r["msg"]
    assert not (dest / "config.json").exists()


def test_local_source(capsys, tree, tmp_path):
    dest = tmp_path / "dest"
    args = {"source": "local", "path": str(tree), "dest": str(dest)}
    r = run_module(capsys, args)
    assert r["_rc"] == 0 and r["changed"]
    _same(tree, dest)
    assert run_module(capsys, args)["changed"] is False
    # the staged dir is itself a verified source (its .onprem-verified.json gives the sha256)
    dest2 = tmp_path / "dest2"
    r = run_module(capsys, {"source": "local", "path": str(dest), "dest": str(dest2)})
    assert r["_rc"] == 0 and r["revision"] is None
    _same(tree, dest2)


def test_local_source_same_dir_refused(capsys, tree):
    r = run_module(capsys, {"source": "local", "path": str(tree), "dest": str(tree)})
    assert r["_rc"] == 1 and "same directory" in r["msg"]


def test_documentation_parses():
    import yaml

    doc = yaml.safe_load(model_fetch.DOCUMENTATION)
    assert doc["attributes"]["check_mode"]["support"] == "full"
    spec_opts = set(doc["options"])
    assert {"source", "dest", "repo_id", "revision", "token", "parallel", "proxy", "ca_path", "status_file"} <= spec_opts
    yaml.safe_load(model_fetch.EXAMPLES)
    ret = yaml.safe_load(model_fetch.RETURN)
    assert {"changed", "revision", "files", "bytes_downloaded", "bytes_resumed_from", "dest"} - {"changed"} <= set(ret)
