# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""model_fetch's listings: Hub (through huggingface_hub against the double), http mirror, local."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.weights import download as dl
from ansible_collections.onprem.llm.plugins.module_utils.weights import sources

ROOT = Path(__file__).resolve().parents[5]
sys.path.insert(0, str(ROOT / "tests" / "doubles"))
from hf_hub_double import HubDouble, StaticMirrorDouble  # noqa: E402


@pytest.fixture
def tree(tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "model.safetensors").write_bytes(b"\x01" * 4096)
    (src / "config.json").write_bytes(b"{}\n")
    (src / "sub" / "notes.md").write_bytes(b"# hi\n")
    return src


@pytest.fixture
def hub(tree):
    d = HubDouble()
    d.commit = d.add_repo("org/m", str(tree), tags=["v1"])
    d.start()
    yield d
    d.stop()


def test_hf_listing_resolves_revision_and_maps_metadata(hub, tree):
    commit, specs = sources.hf_listing("org/m", revision="v1", endpoint=hub.url + "/", token=False)
    assert commit == hub.commit
    by = {s["path"]: s for s in specs}
    assert set(by) == {"config.json", "model.safetensors", "sub/notes.md"}
    lfs = by["model.safetensors"]
    assert lfs["sha256"] == hashlib.sha256(b"\x01" * 4096).hexdigest() and lfs["git_sha1"] is None
    assert by["config.json"]["sha256"] is None
    assert by["config.json"]["git_sha1"] == hashlib.sha1(b"blob 3\x00{}\n").hexdigest()
    assert by["sub/notes.md"]["url"] == "%s/org/m/resolve/%s/sub/notes.md" % (hub.url, commit)
    # one API call: model_info with blobs=true at the revision
    api = [r for r in hub.requests if r[1].startswith("/api/")]
    assert [r[1] for r in api] == ["/api/org/m/revision/v1"]


def test_hf_listing_falls_back_to_tree_when_mirror_lacks_file_metadata(hub):
    hub.files_metadata_supported = False
    hub.page_size = 1  # and follows the Link pagination
    commit, specs = sources.hf_listing("org/m", endpoint=hub.url, token=False)
    assert commit == hub.commit and len(specs) == 3
    assert any("/tree/" in r[1] for r in hub.requests)


def test_hf_listing_patterns(hub):
    _commit, specs = sources.hf_listing("org/m", endpoint=hub.url, token=False, allow_patterns=["*.json", "sub/"],
                                        ignore_patterns=["*.md"])
    assert [s["path"] for s in specs] == ["config.json"]


def test_hf_listing_errors(hub):
    with pytest.raises(dl.RemoteNotFound, match="repository org/nope not found"):
        sources.hf_listing("org/nope", endpoint=hub.url, token=False)
    with pytest.raises(dl.RemoteNotFound, match="revision 'v9' not found"):
        sources.hf_listing("org/m", revision="v9", endpoint=hub.url, token=False)
    hub.require_token = "hf_x"
    with pytest.raises(dl.RemoteNotFound, match="check token"):
        sources.hf_listing("org/m", endpoint=hub.url, token=False)
    assert sources.hf_listing("org/m", endpoint=hub.url, token="hf_x")[0] == hub.commit


def test_hf_listing_unreachable_endpoint():
    with pytest.raises(dl.FetchError):
        sources.hf_listing("org/m", endpoint="http://127.0.0.1:9", token=False, timeout=2)


def test_hf_endpoint_and_urls(monkeypatch):
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    assert sources.hf_endpoint() == "https://huggingface.co"
    monkeypatch.setenv("HF_ENDPOINT", "https://mirror.example/")
    assert sources.hf_endpoint() == "https://mirror.example"
    assert sources.hf_endpoint("http://x") == "http://x"
    assert sources.hf_resolve_url("http://h", "o/r", "c" * 40, "a b/c.json", "dataset") == \
        "http://h/datasets/o/r/resolve/%s/a%%20b/c.json" % ("c" * 40)
    assert sources.hf_headers("t") == {"Authorization": "Bearer t"} and sources.hf_headers(None) == {}


def test_specs_from_hf_entries_refuses_bad_paths():
    with pytest.raises(ValueError):
        sources.specs_from_hf_entries([{"path": "../x", "size": 1}])
    with pytest.raises(sources.SourceError):
        sources.specs_from_hf_entries([{"path": "x", "size": None}])


def test_manifest_parsing():
    doc = {"revision": "r1", "files": [{"path": "b.bin", "size": 2, "sha256": "a" * 64}, {"path": "a.json", "size": 1}]}
    text = json.dumps(doc)
    specs = sources.specs_from_manifest(text, "m")
    assert [s["path"] for s in specs] == ["a.json", "b.bin"]
    assert sources.manifest_revision(text) == "r1"
    with pytest.raises(sources.SourceError, match="no size"):
        sources.specs_from_manifest("%s  x.bin\n" % ("a" * 64), "m")
    assert sources.specs_from_manifest("%s  x.bin\n" % ("a" * 64), "m", size_of=lambda p: 9)[0]["size"] == 9
    with pytest.raises(sources.SourceError):
        sources.specs_from_manifest('{"files": [{"path": "/etc/passwd", "size": 1}]}', "m")
    with pytest.raises(sources.SourceError):
        sources.specs_from_manifest('{"files": [{"path": ".partial/x", "size": 1}]}', "m")


def test_http_listing(tree):
    doc = {"files": [{"path": "config.json", "size": 3, "sha256": hashlib.sha256(b"{}\n").hexdigest()}]}
    (tree / "manifest.json").write_text(json.dumps(doc))
    (tree / "other.json").write_text(json.dumps(doc))
    with StaticMirrorDouble(str(tree)) as m:
        rev, specs = sources.http_listing(m.url + "/")
        assert rev is None and specs[0]["url"] == m.url + "/config.json"
        assert sources.http_listing(m.url, "other.json")[1] == specs
        with pytest.raises(dl.RemoteNotFound):
            sources.http_listing(m.url, "missing.json")


def test_local_listing_variants(tree, tmp_path):
    rev, specs, used = sources.local_listing(str(tree))
    assert used is None and [s["path"] for s in specs] == ["config.json", "model.safetensors", "sub/notes.md"]
    assert all(s["sha256"] is None for s in specs)
    (tree / dl.VERIFIED_MANIFEST).write_text(json.dumps({"revision": "abc", "files": [
        {"path": "config.json", "size": 3, "sha256": hashlib.sha256(b"{}\n").hexdigest(), "mtime_ns": 1}]}))
    rev, specs, used = sources.local_listing(str(tree))
    assert rev == "abc" and used.endswith(dl.VERIFIED_MANIFEST) and len(specs) == 1
    with pytest.raises(dl.RemoteNotFound):
        sources.local_listing(str(tmp_path / "nope"))
