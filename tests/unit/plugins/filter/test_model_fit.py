"""Unit tests for the onprem.llm.model_fit and onprem.llm.model_catalog filters and the generated guide."""

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.onprem.llm.plugins.filter import model_catalog as catalog_plugin
from ansible_collections.onprem.llm.plugins.filter import model_fit as fit_plugin

ROOT = Path(__file__).resolve().parents[4]
model_fit = fit_plugin.model_fit
model_catalog = catalog_plugin.model_catalog

FACTS_2X80 = {"count": 2, "gpus": [{"index": 0, "name": "NVIDIA H100 80GB HBM3", "memory_mib": 81559},
                                   {"index": 1, "name": "NVIDIA H100 80GB HBM3", "memory_mib": 81559}]}
VALIDATED = {
    "parameter_count": 8030261248, "dtype": "bfloat16", "context_length": 131072,
    "config": {"num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
               "head_dim": 128, "hidden_size": 4096},
}


def test_filters_are_registered():
    assert fit_plugin.FilterModule().filters() == {"model_fit": model_fit}
    assert catalog_plugin.FilterModule().filters() == {"model_catalog": model_catalog}


def test_catalog_path_is_relative_to_the_plugin():
    assert fit_plugin.CATALOG_PATH == ROOT / "data" / "models.yml"
    assert catalog_plugin.CATALOG_PATH == fit_plugin.CATALOG_PATH
    assert fit_plugin.CATALOG_PATH.is_file()


def test_catalog_name_input():
    result = model_fit("llama-3.1-70b-instruct", FACTS_2X80)
    assert set(result) >= {"fits", "tensor_parallel_size", "weights_bytes", "kv_bytes_per_token",
                           "max_model_len", "gpus_needed", "message"}
    assert result["fits"] and result["tensor_parallel_size"] == 2 and result["gpus_needed"] == 2


def test_ollama_tag_and_repo_work_as_names():
    assert model_fit("llama3.1:70b", FACTS_2X80)["tensor_parallel_size"] == 2
    assert model_fit("meta-llama/Llama-3.1-70B-Instruct", FACTS_2X80)["tensor_parallel_size"] == 2


def test_validated_metadata_input_and_templated_strings():
    result = model_fit(VALIDATED, FACTS_2X80, gpu_memory_utilization="0.9", max_model_len="32768")
    assert result["fits"] and result["tensor_parallel_size"] == 1 and result["max_model_len"] == 32768


def test_dtype_override():
    result = model_fit("llama-3.1-70b-instruct", {"gpus": [{"memory_mib": 81559}]}, dtype="awq")
    assert result["fits"] and result["dtype"] == "awq"


@pytest.mark.parametrize("model,gpus,kwargs,match", [
    (42, FACTS_2X80, {}, "catalog model name or a mapping of model metadata; got int"),
    ("gpt-5", FACTS_2X80, {}, "unknown model 'gpt-5'"),
    ("llama-3.1-8b-instruct", {"gpus": [{"memory_mib": "lots"}]}, {}, r"gpus\[0\].memory_mib"),
    ("llama-3.1-8b-instruct", {"devices": []}, {}, "'gpus' list"),
    ("llama-3.1-8b-instruct", FACTS_2X80, {"gpu_memory_utilization": "high"}, "gpu_memory_utilization must be a number"),
    ("llama-3.1-8b-instruct", FACTS_2X80, {"gpu_memory_utilization": 2}, r"gpu_memory_utilization must be a number in \(0, 1\]"),
    ("llama-3.1-8b-instruct", FACTS_2X80, {"max_model_len": "long"}, "max_model_len must be an integer"),
    ("llama-3.1-8b-instruct", FACTS_2X80, {"max_model_len": 1000000}, "longer than Llama-3.1-8B-Instruct supports"),
    ("llama-3.1-8b-instruct", FACTS_2X80, {"dtype": "int3"}, "unknown dtype/quantization 'int3'"),
    ("llama-3.1-8b-instruct", FACTS_2X80, {"kv_cache_dtype": "awq"}, "kv_cache_dtype"),
    ({"dtype": "bf16"}, FACTS_2X80, {}, "model.parameter_count"),
])
def test_bad_input_raises_a_filter_error_naming_the_problem(model, gpus, kwargs, match):
    with pytest.raises(AnsibleFilterError, match=match) as err:
        model_fit(model, gpus, **kwargs)
    assert str(err.value).startswith("onprem.llm.model_fit: ")


def test_broken_catalog_file_is_reported(tmp_path):
    path = tmp_path / "models.yml"
    path.write_text("schema_version: 1\nmodels: {}\n")
    with pytest.raises(AnsibleFilterError, match="models must be a non-empty mapping"):
        model_fit("llama-3.1-8b-instruct", FACTS_2X80, catalog_path=path)


def test_model_catalog_filter():
    entry = model_catalog("qwen2.5:72b")
    assert entry["name"] == "qwen2.5-72b-instruct" and entry["license"]["id"] == "qwen"
    with pytest.raises(AnsibleFilterError, match="onprem.llm.model_catalog: unknown model"):
        model_catalog("nope")


def _ansible_exe(name):
    exe = ROOT / ".venv" / "bin" / name
    return str(exe) if exe.exists() else shutil.which(name)


def _run(argv):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_LOAD_CALLBACK_PLUGINS="1")
    return subprocess.run(argv, cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=120,
                          check=False)


@pytest.mark.skipif(_ansible_exe("ansible") is None, reason="ansible not installed")
def test_filter_resolves_by_fqcn_in_a_real_template():
    expr = ("{{ ('llama-3.1-70b-instruct' | onprem.llm.model_fit({'gpus': [{'memory_mib': 81559}] * 2},"
            " gpu_memory_utilization=0.9)).tensor_parallel_size }}")
    proc = _run([_ansible_exe("ansible"), "localhost", "-i", "localhost,", "-c", "local",
                 "-m", "ansible.builtin.debug", "-a", "msg=" + expr])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '"msg": 2' in proc.stdout or '"msg": "2"' in proc.stdout, proc.stdout


@pytest.mark.skipif(_ansible_exe("ansible-doc") is None, reason="ansible-doc not installed")
@pytest.mark.parametrize("name", ["model_fit", "model_catalog"])
def test_ansible_doc_renders(name):
    proc = _run([_ansible_exe("ansible-doc"), "-t", "filter", "--json", "onprem.llm." + name])
    assert proc.returncode == 0, proc.stderr
    assert '"name": "%s"' % name in proc.stdout
    assert "[WARNING]" not in proc.stderr


def _renderer():
    spec = importlib.util.spec_from_file_location("render_model_guide", ROOT / "tests" / "tools" / "render_model_guide.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_committed_model_guide_is_up_to_date(lang):
    renderer = _renderer()
    expected = renderer.render(renderer.load_catalog(renderer.CATALOG), lang)
    guide = renderer.GUIDES[lang]
    assert guide.read_text(encoding="utf-8") == expected, "%s is stale: run tests/tools/render_model_guide.py" % guide
