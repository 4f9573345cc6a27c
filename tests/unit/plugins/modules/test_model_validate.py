"""onprem.llm.model_validate: run main() with real arguments on real model files."""

import json
import os

import pytest
from ansible.module_utils.testing import patch_module_args

import weights_factory as wf
from ansible_collections.onprem.llm.plugins.modules import model_validate


def run(capsys, **args):
    """Run the module; return (exit code, parsed JSON result) as Ansible would see them."""
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            model_validate.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def _warnings(out):
    """Warning texts; ansible-core 2.19 returns them as WarningSummary objects."""
    return [w["event"]["msg"] if isinstance(w, dict) else w for w in out.get("warnings", [])]


@pytest.fixture
def model(tmp_path):
    d = str(tmp_path / "tiny-llama")
    wf.make_safetensors_model(d, shards=2)
    return d


def test_reports_model(capsys, model):
    code, out = run(capsys, path=model)
    assert code == 0
    assert out["changed"] is False
    assert out["format"] == "safetensors"
    assert out["model_path"] == model
    assert "path" not in out and "size" not in out and "owner" not in out
    assert out["architecture"] == "LlamaForCausalLM"
    assert out["parameter_count"] == 86336
    assert out["dtype"] == "F16"
    assert out["context_length"] == 2048
    assert out["config"]["num_key_value_heads"] == 2 and out["config"]["head_dim"] == 16
    assert [f["path"] for f in out["files"] if f["role"] == "weights"] == [
        "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    assert "warnings" not in out


def test_check_mode_is_identical(capsys, model):
    _code, normal = run(capsys, path=model, checksums=True)
    code, checked = run(capsys, path=model, checksums=True, _ansible_check_mode=True)
    assert code == 0
    normal.pop("invocation", None)
    checked.pop("invocation", None)
    assert checked == normal
    assert checked["changed"] is False
    assert all(len(f["sha256"]) == 64 for f in checked["files"])


def test_gguf(capsys, tmp_path):
    path = str(tmp_path / "tiny.gguf")
    count, _ntensors = wf.make_gguf(path, file_type=15)
    code, out = run(capsys, path=path, require_tokenizer=True)
    assert code == 0
    assert out["format"] == "gguf" and out["quantization"] == "Q4_K_M" and out["parameter_count"] == count
    assert out["config"]["num_hidden_layers"] == 2


def test_fails_on_missing_shard(capsys, model):
    os.remove(os.path.join(model, "model-00002-of-00002.safetensors"))
    code, out = run(capsys, path=model)
    assert code == 1
    assert out["failed"] is True
    assert out["msg"] == ("%s: model-00002-of-00002.safetensors named by model.safetensors.index.json is missing"
                          % model)
    assert out["problems"] == [out["msg"]]
    assert "size" not in out and "owner" not in out


def test_fails_on_manifest_mismatch_in_check_mode(capsys, model):
    manifest = wf.write_manifest(model, corrupt="config.json")
    code, out = run(capsys, path=model, manifest=manifest, _ansible_check_mode=True)
    assert code == 1
    assert len(out["problems"]) == 1
    assert out["problems"][0].startswith("config.json: sha256 ")
    assert out["problems"][0].endswith(", expected " + "0" * 64)
    assert out["msg"] == "manifest check failed in %s: %s" % (model, out["problems"][0])


def test_manifest_gaps_are_warnings(capsys, model, tmp_path):
    manifest = str(tmp_path / "m.json")
    with open(manifest, "w") as f:
        json.dump({"files": [{"path": "config.json", "size": os.path.getsize(os.path.join(model, "config.json"))}]}, f)
    code, out = run(capsys, path=model, manifest=manifest)
    assert code == 0
    assert out["manifest"] == {"path": manifest, "entries": 1, "verified_sha256": 0}
    assert _warnings(out) == ["not covered by manifest %s: model.safetensors.index.json, tokenizer.json, "
                              "tokenizer_config.json, model-00001-of-00002.safetensors, "
                              "model-00002-of-00002.safetensors" % manifest]


def test_missing_tokenizer_can_be_allowed(capsys, model):
    os.remove(os.path.join(model, "tokenizer.json"))
    code, out = run(capsys, path=model)
    assert code == 1 and out["msg"].startswith("%s: no tokenizer: expected tokenizer.json" % model)
    code, out = run(capsys, path=model, require_tokenizer=False)
    assert code == 0 and out["tokenizer"] == []


def test_path_is_required(capsys):
    code, out = run(capsys)
    assert code == 1 and out["msg"] == "missing required arguments: path"
