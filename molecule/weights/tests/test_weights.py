"""Verify the weights fan-out: files in place with the upstream sha256, nothing partial under a
final name, nginx bound where configured and refusing dot-paths, the onprem_models fact."""

import hashlib
import json
import os
from pathlib import Path

import pytest

UPSTREAM = Path(os.environ["MOLECULE_PROJECT_DIRECTORY"]) / ".cache" / "molecule-weights" / "models"
MODELS = {"tiny-llama": "tiny-llama", "tiny-gguf": "tiny-gguf"}


def _upstream_files(repo):
    root = UPSTREAM / repo
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.iterdir()) if p.is_file()}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_files_present_with_upstream_sha256(host, name):
    final = host.file(f"/srv/models/{name}")
    assert final.is_symlink and final.linked_to == f"/srv/models/.store/{name}"
    for fname, digest in _upstream_files(MODELS[name]).items():
        if fname == "manifest.json":  # the gguf source's manifest is a listing, not a model file
            continue
        f = host.file(f"/srv/models/{name}/{fname}")
        assert f.exists, fname
        assert f.mode == 0o644 and f.user == "root"
        assert f.sha256sum == digest, fname


def test_nothing_partial_under_final_names(host):
    # model_fetch keeps partials in <dest>/.partial/ and removes the folder when all files are in
    assert host.check_output("find -L /srv/models -name '*.partial' -o -name .partial") == ""
    assert host.check_output("find /srv/models -maxdepth 1 -mindepth 1 -not -name .store -not -type l") == ""


def test_fact(host):
    models = json.loads(host.file("/etc/onprem-models-test.json").content_string)
    assert sorted(models) == ["tiny-gguf", "tiny-llama"]
    llama, gguf = models["tiny-llama"], models["tiny-gguf"]
    assert llama["path"] == "/srv/models/tiny-llama" and llama["format"] == "safetensors"
    assert llama["architecture"] == "LlamaForCausalLM" and llama["dtype"] == "F16"
    assert llama["context_length"] == 2048 and llama["parameter_count"] > 0
    assert gguf["path"] == "/srv/models/tiny-gguf/tiny-llama-q8_0.gguf" and gguf["format"] == "gguf"
    assert gguf["quantization"] == "Q8_0"
    for m in models.values():
        assert m["fit"]["gpu_count"] == (1 if host.backend.get_hostname() == "w-node1" else 0)
        assert m["fit"]["fits"] is (host.backend.get_hostname() == "w-node1")
