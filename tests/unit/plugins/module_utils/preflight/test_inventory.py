"""Inventory preflight: the pure checks (types, names, ports, serving, fit) and the real catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.onprem.llm.plugins.module_utils.preflight.catalogue import (
    CatalogueError,
    build_catalogue,
    role_specs_from_documents,
)
from ansible_collections.onprem.llm.plugins.module_utils.preflight.inventory import (
    TemplateIssue,
    fit_problems,
    host_problems,
    name_problems,
    play_keyword_problems,
    port_problems,
    serving_problems,
    split_host_port,
)
from ansible_collections.onprem.llm.plugins.module_utils.preflight.typecheck import type_problem, value_problems
from ansible_collections.onprem.llm.plugins.module_utils.weights.catalog import load_catalog
from ansible_collections.onprem.llm.plugins.module_utils.weights.sizing import plan

ROOT = Path(__file__).resolve().parents[5]

SPECS = {
    "demo": {
        "demo_enabled": {"type": "bool", "default": False, "description": "x"},
        "demo_port": {"type": "int", "default": 8080, "description": "x"},
        "demo_listen": {"type": "str", "default": "127.0.0.1", "description": "x"},
        "demo_mode": {"type": "str", "choices": ["fast", "safe"], "default": "safe", "description": "x"},
        "demo_version": {"type": "str", "default": "1.0", "description": "x"},
        "demo_token": {"type": "str", "default": "", "no_log": True, "description": "x"},
        "demo_urls": {"type": "list", "elements": "str", "default": [], "description": "x"},
        "demo_items": {
            "type": "list", "elements": "dict", "default": [], "description": "x",
            "options": {
                "name": {"type": "str", "required": True, "description": "x"},
                "port": {"type": "int", "required": True, "description": "x"},
                "host": {"type": "str", "description": "x"},
                "eager": {"type": "bool", "description": "x"},
                "secret": {"type": "str", "no_log": True, "description": "x"},
            },
        },
    },
    "vllm": {
        "vllm_instances": {"type": "list", "elements": "dict", "default": [], "description": "x",
                           "options": {"name": {"type": "str"}, "port": {"type": "int"}, "model": {"type": "str"},
                                       "served_model_name": {"type": "str"}, "host": {"type": "str"},
                                       "model_path": {"type": "str"}}},
        "vllm_allow_cpu": {"type": "bool", "default": False, "description": "x"},
    },
    "model_weights": {
        "model_weights_models": {"type": "list", "elements": "dict", "default": [], "description": "x"},
        "model_weights_fanout": {"type": "str", "default": "none", "description": "x"},
        "model_weights_mirror_port": {"type": "int", "default": 8088, "description": "x"},
        "model_weights_mirror_listen": {"type": "str", "default": "0.0.0.0", "description": "x"},
    },
}
DATA = {
    "prefixes": ["onprem_"],
    "facts": ["onprem_gpu"],
    "play_keywords": ["onprem_serial"],
    "patterns": ["onprem_lab_*"],
    "renamed": {"demo_old_port": {"name": "demo_port", "version": "0.2.0"}},
    "ports": [
        {"var": "demo_port", "groups": ["demo"], "address_var": "demo_listen"},
        {"var": "demo_items", "groups": ["demo"], "format": "list", "port_key": "port", "address_key": "host",
         "default_address": "127.0.0.1"},
        {"var": "vllm_instances", "groups": ["vllm_servers"], "format": "list", "port_key": "port",
         "address_key": "host", "default_address": "127.0.0.1"},
        {"var": "model_weights_mirror_port", "groups": ["model_mirror"], "address_var": "model_weights_mirror_listen",
         "when": {"model_weights_fanout": "mirror"}},
    ],
}


COLLECTION = {"onprem_serial": {"type": "raw", "default": 1, "description": "x"},
              "onprem_closed_network": {"type": "bool", "default": False, "description": "x"}}


@pytest.fixture
def catalogue():
    return build_catalogue(SPECS, DATA, COLLECTION)


# --- types ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["yes", "true", "True", "1", "on", "no"])
def test_string_booleans_are_refused(value):
    assert "string boolean" in type_problem(value, "bool")


@pytest.mark.parametrize("value, kind", [(True, "bool"), (3, "int"), (0.5, "float"), (2, "float"), ("x", "str"),
                                         (550, "str"), ("/x", "path"), ([1], "list"), ({}, "dict"), (None, "int"),
                                         ("anything", "raw")])
def test_proper_values_pass(value, kind):
    assert type_problem(value, kind) is None


@pytest.mark.parametrize("value, kind, words", [
    ("80a", "int", "an integer, got the string '80a'"),
    ("8000", "int", "without quotes"),
    (True, "int", "an integer, got a boolean"),
    (0.2, "str", "YAML reads 0.20"),
    (False, "str", 'quote it ("false")'),
    ("http://x", "list", "a list, got the string"),
    ([], "dict", "a mapping, got a list"),
    ("0.9", "float", "a number, got the string '0.9'"),
    (1, "bool", "write true or false"),
])
def test_wrong_types_are_named(value, kind, words):
    assert words in type_problem(value, kind)


def test_choices_suggest_the_closest(catalogue):
    problems = value_problems("demo_mode", "fsat", catalogue.spec("demo_mode"))
    assert problems == ["demo_mode must be one of fast, safe, got 'fsat'; did you mean fast?"]


def test_list_items_and_suboptions(catalogue):
    items = [
        {"name": "a", "port": 1, "eager": "yes"},
        {"name": "b", "port": "80a", "prot": 3},
        {"port": 2},
        "not a dict",
    ]
    problems = value_problems("demo_items", items, catalogue.spec("demo_items"))
    assert "demo_items[0].eager must be a boolean, got the string 'yes' (a string boolean); write true or " \
           "false without quotes" in problems
    assert "demo_items[1].port must be an integer, got the string '80a'" in problems
    assert "demo_items[1].prot is not an option here (did you mean port?); rename or remove it" in problems
    assert "demo_items[2].name is required; add it" in problems
    assert "demo_items[3] must be a mapping, got the string 'not a dict'" in problems


def test_list_elements(catalogue):
    assert value_problems("demo_urls", ["a", 3.5], catalogue.spec("demo_urls")) == [
        "demo_urls[1] must be a string, got a number (3.5); quote it, YAML reads 0.20 as the number 0.2"]


def test_secrets_are_never_shown(catalogue):
    problems = value_problems("demo_token", 12345.5, catalogue.spec("demo_token"))
    problems += value_problems("demo_items", [{"name": "a", "port": 1, "secret": ["hunter2"]}],
                               catalogue.spec("demo_items"))
    assert problems and all("12345" not in p and "hunter2" not in p for p in problems)
    assert "(hidden)" in problems[0] or "got a number" in problems[0]


# --- names ---------------------------------------------------------------------------------------

def test_catalogue_prefixes_and_known_names(catalogue):
    assert catalogue.owns("demo_anything") and catalogue.owns("vllm_x") and catalogue.owns("onprem_x")
    assert not catalogue.owns("__demo_internal") and not catalogue.owns("ansible_host") and not catalogue.owns("foo")
    assert catalogue.known("demo_port") and catalogue.known("onprem_serial") and catalogue.known("onprem_gpu")
    assert catalogue.known("onprem_lab_image") and not catalogue.known("onprem_labx")


def test_unknown_names_get_a_suggestion(catalogue):
    assert name_problems("demo_prot", catalogue) == [
        "demo_prot is not a variable of onprem.llm (did you mean demo_port?); rename or remove it"]
    assert name_problems("onprem_zzzzzz", catalogue) == [
        "onprem_zzzzzz is not a variable of onprem.llm (no role declares it); rename or remove it"]
    assert name_problems("unrelated_var", catalogue) == []
    assert name_problems("demo_port", catalogue) == []


def test_renamed_variables_name_the_new_one(catalogue):
    assert name_problems("demo_old_port", catalogue) == [
        "demo_old_port was renamed to demo_port in onprem.llm 0.2.0; rename it in the inventory"]


def test_roles_of_every_entry_point_count():
    documents = {"gw": {"argument_specs": {
        "main": {"options": {"gw_port": {"type": "int", "description": "main"}}},
        "drain": {"options": {"gw_port": {"type": "str", "description": "drain"}, "gw_drain": {"type": "bool"}}},
    }}}
    options = role_specs_from_documents(documents)["gw"]
    assert options["gw_port"]["description"] == "main" and "gw_drain" in options


@pytest.mark.parametrize("data, words", [
    ({"unknown": 1}, "unknown key unknown"),
    ({"renamed": {"a_x": {"name": "a_y"}}}, "renamed.a_x needs name"),
    ({"ports": [{"var": "x"}]}, "ports[0] needs var and groups"),
    ({"ports": [{"var": "x", "groups": ["g"], "format": "csv"}]}, "format must be"),
    ({"variables": {"onprem_x": {"type": "int"}}}, "unknown key variables"),
    ({"play_keywords": ["onprem_nope"]}, "play_keywords: onprem_nope is not a collection variable"),
])
def test_data_file_schema(data, words):
    with pytest.raises(CatalogueError, match=words.replace("[", r"\[").replace("]", r"\]")):
        build_catalogue(SPECS, data, COLLECTION)


def test_collection_variables_need_a_description_and_a_type():
    with pytest.raises(CatalogueError, match=r"_common/meta/argument_specs.yml \(main\): onprem_x needs"):
        build_catalogue(SPECS, DATA, dict(COLLECTION, onprem_x={"type": "int"}))


def test_play_keywords_from_the_inventory_are_refused_with_the_command_line_that_works(catalogue):
    assert play_keyword_problems({"onprem_serial": "25%", "onprem_closed_network": True}, catalogue) == [
        "onprem_serial is a play keyword, which Ansible templates before it reads any host's variables, so "
        "the inventory's value is never used; remove it from the inventory and pass it on the command line: "
        "-e onprem_serial=25%"]
    assert play_keyword_problems({"onprem_serial": "25%"}, catalogue, command_line={"onprem_serial"}) == []
    assert any("play keyword" in p for p in host_problems("h1", {"onprem_serial": 2}, [], catalogue))
    assert host_problems("h1", {"onprem_serial": 2}, [], catalogue, command_line={"onprem_serial"}) == []


# --- host problems, ports, serving -----------------------------------------------------------------

def test_host_problems_prefix_every_sentence(catalogue):
    problems = host_problems("h1", {"demo_enabled": "true", "demo_prot": 1}, ["demo"], catalogue,
                             [TemplateIssue("demo_items[0].secret", undefined="vault_secret_x"),
                              TemplateIssue("demo_listen", message="boom")])
    assert problems == [
        "h1: demo_items[0].secret: undefined variable vault_secret_x; define it in the vault",
        "h1: demo_listen: cannot be templated (boom); fix the expression",
        "h1: demo_enabled must be a boolean, got the string 'true' (a string boolean); write true or false "
        "without quotes",
        "h1: demo_prot is not a variable of onprem.llm (did you mean demo_port?); rename or remove it",
    ]


def test_locked_vault_asks_for_the_password():
    assert TemplateIssue("gateway_api_keys[0].key", locked=True).sentence() == (
        "gateway_api_keys[0].key: is vault-encrypted and cannot be decrypted (no or the wrong vault password); "
        "run with --vault-password-file or --ask-vault-pass")


def test_undefined_non_vault_variable_points_at_the_inventory():
    assert TemplateIssue("x", undefined="site_name").sentence() == (
        "x: undefined variable site_name; define it in the inventory (group_vars/host_vars)")


def test_port_clash_between_list_items_and_a_service(catalogue):
    items = [{"name": "a", "port": 8000}, {"name": "b", "port": 8001}, {"name": "c", "port": 8001, "host": "10.0.0.5"}]
    values = {"demo_listen": "0.0.0.0", "demo_port": 8000, "demo_items": items}
    assert port_problems(values, ["demo"], catalogue) == [
        "demo_items[0].port (a): port 8000 is also used by demo_port on this host; give each service its own port"]


def test_default_ports_count_and_groups_gate(catalogue):
    values = {"demo_items": [{"name": "a", "port": 8080}]}
    assert "port 8080 is also used by demo_port" in port_problems(values, ["demo"], catalogue)[0]
    assert port_problems(values, ["other"], catalogue) == []


def test_when_condition_and_addresses(catalogue):
    values = {"vllm_instances": [{"name": "a", "port": 8088}]}
    assert port_problems(values, ["vllm_servers", "model_mirror"], catalogue) == []
    values["model_weights_fanout"] = "mirror"
    assert port_problems(values, ["vllm_servers", "model_mirror"], catalogue) == [
        "model_weights_mirror_port: port 8088 is also used by vllm_instances[0].port (a) on this host; give each "
        "service its own port"]
    values["model_weights_mirror_listen"] = "10.1.1.1"
    assert port_problems(values, ["vllm_servers", "model_mirror"], catalogue) == []


@pytest.mark.parametrize("text, expected", [
    ("127.0.0.1:11434", ("127.0.0.1", 11434)),
    ("0.0.0.0", ("0.0.0.0", 11434)),
    ("[::1]:8080", ("::1", 8080)),
    (":9000", ("", 9000)),
    ("host:abc", ("host", None)),
])
def test_split_host_port(text, expected):
    assert split_host_port(text, 11434) == expected


def test_serving_duplicates_and_staged_models(catalogue):
    values = {
        "model_weights_models": [{"name": "m1"}, {"name": "m1"}],
        "vllm_instances": [
            {"name": "a", "port": 1, "model": "m1"},
            {"name": "a", "port": 2, "model": "m1", "served_model_name": "other"},
            {"name": "b", "port": 3, "model": "m2"},
            {"name": "c", "port": 4, "model_path": "/srv/x", "served_model_name": "other"},
        ],
    }
    problems = serving_problems(values, ["vllm_servers"], catalogue)
    assert problems == [
        "vllm_instances[1].name 'a' is already used by vllm_instances[0]; instance names must be unique on a host",
        "vllm_instances[2].model 'm2' is not in model_weights_models on this host (it has: m1); add it there, "
        "fix the name or set model_path",
        "vllm_instances[3].served_model_name 'other' is also served by vllm_instances[1] on this host; give each "
        "instance its own served_model_name",
        "model_weights_models[1].name 'm1' is already used by model_weights_models[0]",
    ]
    assert serving_problems(values, ["ollama_servers"], catalogue) == []


# --- fit -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def models():
    return load_catalog(ROOT / "data" / "models.yml")


def _gpus(*mib):
    return {"count": len(mib), "gpus": [{"index": i, "uuid": "GPU-%d" % i, "memory_mib": m} for i, m in enumerate(mib)]}


MODELS = [{"name": "big", "catalog": "llama-3.1-70b-instruct"},
          {"name": "small", "repo_id": "meta-llama/Llama-3.2-1B-Instruct"},
          {"name": "own", "source": "local", "path": "/srv/own"}]


def test_model_too_large_for_the_assigned_gpus(models):
    problems = fit_problems([{"name": "chat", "model": "big", "gpus": [0]}], MODELS, _gpus(81920, 81920), models, plan)
    assert len(problems) == 1
    assert problems[0].startswith("vllm_instances[0].model big (instance chat) does not fit the 1 GPU(s) listed in gpus")


def test_model_fits_on_all_gpus_and_tp_too_small(models):
    instances = [{"name": "chat", "model": "big"}, {"name": "tp1", "model": "big", "tensor_parallel_size": 1}]
    problems = fit_problems(instances, MODELS, _gpus(81920, 81920), models, plan)
    assert problems == [p for p in problems if p.startswith("vllm_instances[1].tensor_parallel_size (instance tp1) "
                                                            "is 1 but model big needs at least 2")]
    assert len(problems) == 1


def test_small_model_by_repo_and_unknown_model_pass(models):
    instances = [{"name": "s", "model": "small", "max_model_len": 4096}, {"name": "o", "model": "own"},
                 {"name": "p", "model_path": "/srv/x"}]
    assert fit_problems(instances, MODELS, _gpus(15360), models, plan) == []


def test_missing_gpu_and_cpu_hosts(models):
    assert fit_problems([{"name": "s", "model": "small", "gpus": [2]}], MODELS, _gpus(15360), models, plan) == [
        "vllm_instances[0].gpus (instance s): GPU 2 is not on this host (it has 1)"]
    assert "set vllm_allow_cpu: true" in fit_problems([{"name": "s"}], MODELS, _gpus(), models, plan)[0]
    assert fit_problems([{"name": "s"}], MODELS, _gpus(), models, plan, allow_cpu=True) == []
    assert fit_problems([], MODELS, _gpus(), models, plan) == []


# --- the real catalogue --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real():
    from ansible_collections.onprem.llm.plugins.action.inventory_check import load_catalogue

    return load_catalogue(ROOT)


def test_real_catalogue_covers_every_role(real):
    for role in sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").is_file()):
        # The private role's options are what the other roles pass it, never inventory settings.
        assert ("%s_" % role in real.prefixes) is not role.startswith("_")
    assert real.known("vllm_instances") and real.known("onprem_vllm_serial") and real.known("onprem_lab_image")


def test_every_port_entry_names_a_declared_variable(real):
    for entry in real.ports:
        when = entry.get("when") or []
        conditions = [name for condition in (when if isinstance(when, list) else [when]) for name in condition]
        for name in [entry["var"], entry.get("address_var")] + conditions:
            assert name is None or name in real.options, "ports entry %s: %s is not declared" % (entry["var"], name)


def test_every_port_option_is_in_the_ports_table(real):
    """A role that adds a *_port option must add it to data/inventory_variables.yml (ports)."""
    listed = set(entry["var"] for entry in real.ports)
    missing = []
    for name, spec in real.options.items():
        if spec.get("type") == "int" and name.endswith("_port") and name not in listed:
            missing.append(name)
        sub = spec.get("options") or {}
        if spec.get("type") == "list" and (sub.get("port") or {}).get("type") == "int" and name not in listed:
            missing.append(name)
    assert not missing, "add these to ports in data/inventory_variables.yml: %s" % ", ".join(sorted(missing))


class _InventoryLoader(yaml.SafeLoader):
    """safe_load that reads inline `!vault` values as None (only the names matter here)."""


_InventoryLoader.add_constructor("!vault", lambda loader, node: None)


def test_inventory_variables_are_known(real):
    names = set()
    for path in (ROOT / "inventories").rglob("*.yml"):
        text = path.read_text()
        data = {} if text.startswith("$ANSIBLE_VAULT") else yaml.load(text, Loader=_InventoryLoader)  # noqa: S506 - a SafeLoader subclass
        if ("group_vars" in path.parts or "host_vars" in path.parts) and isinstance(data, dict):
            names.update(data)
    # Molecule scenarios' inventories (a scenario that runs site.yml or preflight.yml is checked too).
    for path in [ROOT / "molecule" / "default" / "config.yml"] + sorted((ROOT / "molecule").glob("*/molecule.yml")):
        inventory = ((yaml.safe_load(path.read_text()) or {}).get("provisioner") or {}).get("inventory") or {}
        for section in ("group_vars", "host_vars"):
            for variables in (inventory.get(section) or {}).values():
                names.update(variables or {})
    unknown = sorted(n for n in names if real.owns(n) and not real.known(n))
    assert not unknown, "inventory variables (inventories/, molecule/) that no role declares: %s" % unknown
