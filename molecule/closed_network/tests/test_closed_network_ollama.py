"""The Ollama node: Ollama from the bundle's release archive, the bundle's GGUF imported."""

import json

testinfra_hosts = ["c-oll1"]


def _api(host, path):
    return json.loads(host.check_output("curl -sS -m 30 http://127.0.0.1:11434%s" % path))


def test_ollama_from_the_bundle_archive_runs_the_pinned_version(host):
    assert host.service("ollama").is_running
    assert _api(host, "/api/version")["version"] == "0.20.0"


def test_gguf_from_the_bundle_imported(host):
    assert host.file("/srv/models/tiny-gguf/tiny-import.gguf").is_file
    names = [m["name"] for m in _api(host, "/api/tags")["models"]]
    assert names == ["acme/tiny-import:f16"]
