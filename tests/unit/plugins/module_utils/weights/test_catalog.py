"""Unit tests for plugins/module_utils/weights/catalog.py and the data in data/models.yml."""

import copy
from pathlib import Path

import pytest
import yaml

from ansible_collections.onprem.llm.plugins.module_utils.weights import catalog
from ansible_collections.onprem.llm.plugins.module_utils.weights.catalog import CatalogError

ROOT = Path(__file__).resolve().parents[5]
CATALOG_FILE = ROOT / "data" / "models.yml"
RAW = yaml.safe_load(CATALOG_FILE.read_text())
MODELS = catalog.load_catalog(CATALOG_FILE)

EXPECTED = {
    "llama-3.1-8b-instruct", "llama-3.1-70b-instruct", "llama-3.1-405b-instruct",
    "llama-3.2-1b-instruct", "llama-3.2-3b-instruct", "llama-3.3-70b-instruct",
    "mistral-7b-instruct-v0.3", "mixtral-8x7b-instruct-v0.1",
    "qwen2.5-7b-instruct", "qwen2.5-32b-instruct", "qwen2.5-72b-instruct",
    "deepseek-v2-lite-chat", "deepseek-v3", "deepseek-coder-v2-lite-instruct",
    "gemma-2-9b-it", "gemma-2-27b-it",
}


def test_catalog_has_the_models_the_issue_asks_for():
    assert EXPECTED <= set(MODELS)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_entry_has_every_field_and_consistent_numbers(name):
    entry = MODELS[name]
    assert catalog.entry_problems(name, entry) == []
    assert set(catalog.REQUIRED) <= set(entry)
    cfg = entry["config"]
    assert cfg["num_attention_heads"] % cfg["num_key_value_heads"] == 0
    if cfg["attention"] == "mla":
        assert cfg["head_dim"] == cfg["qk_nope_head_dim"] + cfg["qk_rope_head_dim"]
        assert cfg["kv_lora_rank"] == 512 and cfg["qk_rope_head_dim"] == 64
    elif "sliding_window" not in cfg:
        assert cfg["hidden_size"] == cfg["num_attention_heads"] * cfg["head_dim"]
    assert entry["context_length"] <= entry["max_position_embeddings"]
    if entry["architecture"] == "moe":
        assert entry["active_parameter_count"] < entry["parameter_count"]
    else:
        assert entry["active_parameter_count"] is None
    assert all(url.startswith("https://") for url in entry["sources"])


def test_dense_parameter_counts_match_the_published_ones():
    # Counts as the model cards state them (billions, one decimal).
    published = {
        "llama-3.1-8b-instruct": 8.0, "llama-3.1-70b-instruct": 70.6, "llama-3.1-405b-instruct": 405.9,
        "llama-3.2-1b-instruct": 1.2, "llama-3.2-3b-instruct": 3.2, "mistral-7b-instruct-v0.3": 7.2,
        "mixtral-8x7b-instruct-v0.1": 46.7, "qwen2.5-7b-instruct": 7.6, "qwen2.5-72b-instruct": 72.7,
        "gemma-2-9b-it": 9.2, "gemma-2-27b-it": 27.2, "deepseek-v2-lite-chat": 15.7, "deepseek-v3": 671.0,
    }
    for name, billions in published.items():
        assert round(MODELS[name]["parameter_count"] / 1e9, 1) == billions, name


def test_korean_notes_only_with_a_source():
    noted = {name for name, entry in MODELS.items() if entry["korean"]}
    assert {"qwen2.5-7b-instruct", "qwen2.5-32b-instruct", "qwen2.5-72b-instruct"} <= noted
    for name in noted:
        assert MODELS[name]["korean"]["source"].startswith("https://")


def test_gemma_sliding_window_and_deepseek_mla_recorded():
    assert MODELS["gemma-2-9b-it"]["config"]["sliding_window"] == 4096
    assert MODELS["gemma-2-27b-it"]["config"]["sliding_window"] == 4096
    for name in ("deepseek-v2-lite-chat", "deepseek-v3", "deepseek-coder-v2-lite-instruct"):
        assert MODELS[name]["config"]["attention"] == "mla"
    assert MODELS["deepseek-v3"]["dtype"] == "fp8"


# ---------------------------------------------------------------- validation errors

def broken(name, mutate):
    data = copy.deepcopy(RAW)
    mutate(data["models"][name])
    return data


@pytest.mark.parametrize("mutate,match", [
    (lambda e: e.pop("license"), "llama-3.1-8b-instruct: missing field\\(s\\): license"),
    (lambda e: e.update(colour="red"), "unknown field\\(s\\): colour"),
    (lambda e: e["config"].update(num_key_value_heads=5), "multiple of num_key_value_heads"),
    (lambda e: e["config"].update(hidden_size=4000), "hidden_size 4000 != num_attention_heads 32 x head_dim 128"),
    (lambda e: e["config"].pop("head_dim"), "config is missing head_dim"),
    (lambda e: e.update(context_length=262144), "exceeds max_position_embeddings"),
    (lambda e: e.update(dtype="int3"), "dtype: unknown dtype"),
    (lambda e: e.update(hf_repo="no-slash"), "hf_repo must look like owner/name"),
    (lambda e: e.update(sources=["http://insecure"]), "https URLs"),
    (lambda e: e.update(korean={"note": "good"}), "korean must be null or have a note and an https source"),
    (lambda e: e.update(active_parameter_count=1000000000), "must be null for dense"),
    (lambda e: e.update(parameter_count="8B"), "parameter_count"),
    (lambda e: e["quantized"][0].update(bits_per_weight=3), "quantized\\[0\\]"),
    (lambda e: e.update(ollama=["llama3.1"]), "ollama must be a list of name:tag"),
    (lambda e: e.update(tasks=["poetry"]), "tasks must be"),
])
def test_validation_names_entry_and_field(mutate, match):
    with pytest.raises(CatalogError, match=match):
        catalog.validate_catalog(broken("llama-3.1-8b-instruct", mutate))


def test_mla_entries_need_latent_numbers():
    data = broken("deepseek-v3", lambda e: e["config"].pop("kv_lora_rank"))
    with pytest.raises(CatalogError, match="deepseek-v3: config is missing kv_lora_rank"):
        catalog.validate_catalog(data)


def test_moe_active_must_be_smaller():
    data = broken("mixtral-8x7b-instruct-v0.1", lambda e: e.update(active_parameter_count=10 ** 12))
    with pytest.raises(CatalogError, match="active_parameter_count"):
        catalog.validate_catalog(data)


def test_every_problem_is_reported_at_once():
    data = copy.deepcopy(RAW)
    data["models"]["llama-3.1-8b-instruct"].pop("license")
    data["models"]["gemma-2-9b-it"]["dtype"] = "int3"
    with pytest.raises(CatalogError) as err:
        catalog.validate_catalog(data)
    assert "2 problem(s)" in str(err.value)


@pytest.mark.parametrize("data,match", [
    (None, "top level must be a mapping"),
    ({"schema_version": 2, "models": {}}, "schema_version must be 1"),
    ({"schema_version": 1, "models": {}}, "non-empty mapping"),
    ({"schema_version": 1, "models": {"Bad Name": {}}}, "lower-case"),
])
def test_top_level_problems(data, match):
    with pytest.raises(CatalogError, match=match):
        catalog.validate_catalog(data)


def test_load_catalog_errors(tmp_path):
    with pytest.raises(CatalogError, match="cannot read model catalog"):
        catalog.load_catalog(tmp_path / "missing.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("models: [unclosed\n")
    with pytest.raises(CatalogError, match="not valid YAML"):
        catalog.load_catalog(bad)


# ---------------------------------------------------------------- lookup

@pytest.mark.parametrize("query", ["llama-3.1-8b-instruct", "Llama-3.1-8B-Instruct",
                                   "meta-llama/Llama-3.1-8B-Instruct", "llama3.1:8b"])
def test_catalog_entry_lookup(query):
    entry = catalog.catalog_entry(MODELS, query)
    assert entry["name"] == "llama-3.1-8b-instruct"
    assert "name" not in MODELS["llama-3.1-8b-instruct"]  # lookup does not modify the catalog


def test_catalog_entry_unknown_lists_names():
    with pytest.raises(CatalogError, match="unknown model 'gpt-5'.*llama-3.1-8b-instruct"):
        catalog.catalog_entry(MODELS, "gpt-5")
    with pytest.raises(CatalogError, match="non-empty string"):
        catalog.catalog_entry(MODELS, "")
