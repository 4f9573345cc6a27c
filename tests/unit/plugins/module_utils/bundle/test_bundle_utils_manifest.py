"""module_utils/bundle/manifest.py: the bundle's sha256sum manifest and the model manifest."""

import json

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.bundle import manifest


def _tree(tmp_path):
    (tmp_path / "apt" / "pool").mkdir(parents=True)
    (tmp_path / "apt" / "pool" / "a.deb").write_bytes(b"deb")
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / "x.whl").write_bytes(b"wheel")
    (tmp_path / ".state").mkdir()
    (tmp_path / ".state" / "secret").write_text("never listed")
    (tmp_path / ".hidden").write_text("never listed")
    return tmp_path


def test_manifest_lists_files_sha256sum_style_without_dot_entries(tmp_path):
    root = _tree(tmp_path)
    entries = manifest.compute(str(root))
    text = manifest.render(entries)
    assert text.splitlines() == [
        "%s  ./apt/pool/a.deb" % manifest.sha256_file(str(root / "apt/pool/a.deb")),
        "%s  ./wheels/x.whl" % manifest.sha256_file(str(root / "wheels/x.whl"))]
    assert manifest.parse(text) == entries


def test_manifest_comparison_names_missing_changed_unlisted(tmp_path):
    root = _tree(tmp_path)
    expected = manifest.compute(str(root))
    (root / "wheels" / "x.whl").write_bytes(b"tampered")
    (root / "apt" / "pool" / "a.deb").unlink()
    (root / "new.txt").write_text("n")
    assert manifest.compare(expected, manifest.compute(str(root))) == {
        "missing": ["apt/pool/a.deb"], "changed": ["wheels/x.whl"], "unlisted": ["new.txt"]}
    with pytest.raises(ValueError, match="line 1"):
        manifest.parse("not a manifest line\n")


def test_model_manifest_is_what_model_fetch_reads(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "manifest.json").write_text("old")
    (tmp_path / ".onprem-verified.json").write_text("{}")
    data = json.loads(manifest.model_manifest(str(tmp_path), "abc"))
    assert data == {"revision": "abc", "files": [
        {"path": "config.json", "size": 2, "sha256": manifest.sha256_file(str(tmp_path / "config.json"))}]}


def test_model_manifest_parses_as_a_mirror_manifest(tmp_path):
    from ansible_collections.onprem.llm.plugins.module_utils.weights.sources import specs_from_manifest
    (tmp_path / "model.safetensors").write_bytes(b"x" * 10)
    specs = specs_from_manifest(manifest.model_manifest(str(tmp_path)), "bundle")
    assert [(s["path"], s["size"], s["sha256"]) for s in specs] == [
        ("model.safetensors", 10, manifest.sha256_file(str(tmp_path / "model.safetensors")))]
