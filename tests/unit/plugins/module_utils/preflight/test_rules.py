"""Value rules (module_utils/preflight/rules.py): each format, the rules table, nulls, the rules
between settings, and the real catalogue (every rule names a declared setting, every role's
defaults and the shipped inventories pass)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.onprem.llm.plugins.module_utils.preflight import rules
from ansible_collections.onprem.llm.plugins.module_utils.preflight.inventory import host_problems, value_problems_of

ROOT = Path(__file__).resolve().parents[5]


@pytest.fixture(scope="module")
def catalogue():
    from ansible_collections.onprem.llm.plugins.action.inventory_check import load_catalogue

    return load_catalogue(ROOT)


@pytest.mark.parametrize("fmt, good, bad", [
    ("port", [1, 8000, 65535, "8443"], [0, -1, 65536, "http", True, 80.5]),
    ("name", ["chat", "llama-3.2-1b", "a_b.c", "Q7"], ["a b", "a;b", "a/b", "..", "a..b", ".hidden", "-x", "", "x" * 65]),
    ("model_name", ["tiny-llama", "llama-3.2-1b", "qwen2.5_7b"], ["Tiny", "a b", "a/b", "..x", "-x", ""]),
    ("account", ["vllm", "_svc", "ollama-1"], ["Vllm", "1user", "a b", "x" * 33]),
    ("hf_repo_id", ["Qwen/Qwen2.5-0.5B-Instruct", "meta-llama/Llama-3.2-1B", "a/b"],
     ["llama", "a/b/c", "/a", "a/", "a--b/c", "a/b..c", "-a/b", "a/b-", "o/" + "x" * 95]),
    ("host_port", ["127.0.0.1:11434", "[::1]:11434", "0.0.0.0:80", "localhost", "node1.lan:11434", "http://0.0.0.0:11434"],
     ["127.0.0.1:abc", "127.0.0.1:0", "127.0.0.1:70000", "a b:80", "::1:80"]),
    ("abs_path", ["/srv/models", "/", "/opt/x/"], ["srv/models", "./x", "/srv/../etc", "/srv//x", "~/x"]),
    ("version_pin", ["0.20.0", "2.60.0", "0.32.7", "v1.2", "1.2.3-rc1"], ["latest", "0", "stable", "1.x", "1..2"]),
    ("version_or_auto", ["auto", "0.32.0"], ["latest", "nightly"]),
    ("driver_branch", ["auto", "570", 580], ["latest", "57", "570-server", "5700"]),
    ("driver_version", ["570.133.20", "580.95"], ["570", "latest", "57.1"]),
    ("dotted_version", ["550", "570.133.20"], ["v550", "5.x"]),
    ("positive", [1, 300, "5"], [0, -3, "x", True]),
    ("not_negative", [0, 7], [-1, "none"]),
    ("url", ["https://pypi.example/simple", "http://mirror:8089/bundle", "file:///srv/x"], ["pypi.example", "ftp://x", "https:// x"]),
    ("host", ["127.0.0.1", "g-cpu1", "node1.corp.example", "::1", "[::1]", "0.0.0.0"], ["http://x", "a b", "x:80/y", "a;b"]),
    ("served_name", ["tiny", "Qwen/Qwen2.5-7B-Instruct", "org:model"], ["a b", "x/../y", "a//b", "{evil}"]),
    ("revision", ["main", "v1.0", "refs/pr/1", "a" * 40], ["a b", "../main", ""]),
    ("word", ["float32", "awq", "1g.10gb", "bookworm"], ["a b", "x;y", ""]),
    ("sha256", ["a" * 64], ["a" * 63, "g" * 64]),
    ("location", ["/models/", "/", "/a/b/"], ["models/", "/models", "/a/../"]),
    ("package", ["nginx", "nvidia-utils-570-server", "libc6=2.36-9"], ["a b", "x;y"]),
    ("package_name", ["datacenter-gpu-manager-exporter", "libstdc++6", "g++-12"],
     ["libc6=2.36-9", "Nginx", "a b", "x"]),
    ("duration", ["5m", "1h", "-1", "1h30m"], ["5 minutes", "forever"]),
    ("san", ["DNS:llm.corp", "IP:10.0.0.1", "DNS:*.corp"], ["llm.corp", "DNS:a b"]),
    ("size", ["8m", "512k", "1024"], ["8 MB", "big"]),
    ("no_proxy", ["localhost,.corp,10.0.0.0/8", "*"], ["a, b", "x;y"]),
    ("device_list", ["auto", "0,1", "GPU-abc"], ["0, 1", "all gpus"]),
    ("device_allow", ["/dev/nvidia0 rw", "char-nvidia-uvm rw", "/dev/nvidia*"], ["nvidia0", "/dev/x rwx y"]),
    ("executable", ["python3", "/usr/bin/python3.11"], ["python3 -I", "../bin/python", "py;rm"]),
    ("interface", ["eth0", "ens5f0"], ["eth 0", "x" * 16]),
    ("token", ["abc-123_DEF.~+/=:"], ["a b", "a'b", "x\ny"]),
    ("path_or_url", ["/srv/wheels", "https://mirror/wheels"], ["wheels", "mirror/wheels"]),
    ("argument", ["--disable-usage-stats", "--num-cpus=4"], ["a b", "--x=$HOME", "--y=%h", "a;b", "'q'"]),
    ("arguments", ["--index-url https://mirror/simple --timeout 60", "-q"], ["--x 'a b'", "a;b", "$(id)"]),
    ("cidr", ["10.0.0.0/8", "192.168.1.5", "all", "::1"], ["10.0.0.0/8 # lab", "any"]),
    ("ip_network", ["10.0.0.0/8", "192.168.1.5", "fd00::/8"], ["all", "any", "localhost", "10.0.0.1 10.0.0.2"]),
    ("prom_duration", ["15s", "5m", "15d", "1h30m", "2w", "1y", "500ms"], ["15", "5 m", "-1m", "1.5h", "15D", "10min"]),
    ("prom_size", ["512MB", "50GB", "1TB", "100B"], ["50G", "50 GB", "1.5GB", "50gb", "GB"]),
    ("email", ["oncall@example.com", "llm-alerts+gpu@corp.internal"],
     ["oncall", "On Call <oncall@example.com>", "a@corp, b@corp", "a@@corp", "a@corp.", "a b@corp"]),
    ("fraction", [0.9, "0.1", 1, 1.0], [0, "0", 1.5, -0.1, "ninety", True]),
    ("number_not_negative", [0, 10, 2.5, "3"], [-1, "ten", False]),
    ("ollama_model", ["llama3", "llama3:8b", "acme/tiny-import:f16", "host:5000/ns/m:tag"], ["a b", "a;b", "a/b/c/d", "m:..", ""]),
])
def test_each_format_accepts_and_refuses(fmt, good, bad):
    check = rules.FORMATS[fmt]
    assert [v for v in good if check(v)] == []
    assert [v for v in bad if not check(v)] == []


def test_rule_paths_walk_lists_and_name_the_item():
    values = {"vllm_instances": [{"name": "ok", "port": 8000}, {"name": "bad one", "port": 0}],
              "ollama_host": "127.0.0.1:99999"}
    found = rules.rule_problems(values, {"vllm_instances[].name": "name", "vllm_instances[].port": "port",
                                         "ollama_host": "host_port", "absent_var": "port"})
    assert found == [
        "ollama_host must be host:port with a port from 1 to 65535 (e.g. 127.0.0.1:11434), got '127.0.0.1:99999'; "
        "fix the value",
        "vllm_instances[1] (bad one).name must be 1-64 characters of letters, digits, '_', '.', '-', starting with a letter or "
        "digit, without '..' (it becomes a systemd unit name, a file name and part of a URL), got 'bad one'; fix the value",
        "vllm_instances[1] (bad one).port must be a TCP port from 1 to 65535, got 0; fix the value",
    ]


def test_empty_string_means_unset_except_for_names_and_ports():
    assert rules.rule_problems({"a": "", "b": ""}, {"a": "url", "b": "abs_path"}) == []
    assert len(rules.rule_problems({"a": ""}, {"a": "name"})) == 1


def test_split_rule_path():
    assert rules.split_rule_path("vllm_instances[].port") == ("vllm_instances", ["[]", "port"])
    assert rules.split_rule_path("vllm_pip_extra_index_urls[]") == ("vllm_pip_extra_index_urls", ["[]"])
    assert rules.split_rule_path("vllm_prefix") == ("vllm_prefix", [])


def test_secret_values_are_never_shown():
    found = rules.rule_problems({"demo_token": "s3cr3t s3cr3t"}, {"demo_token": "name"})
    assert found and "s3cr3t" not in found[0] and "(hidden)" in found[0]


def test_null_for_a_setting_with_a_default(catalogue):
    found = rules.null_problems({"vllm_start_timeout": None, "vllm_wheelhouse": None,
                                 "model_weights_models": [{"name": "m", "source": None}]}, catalogue)
    assert found == [
        "model_weights_models[0].source is null but has a default ('hf'); remove the key or set a value",
        "vllm_start_timeout is null but has a default (600); remove the line to take the default or set a value",
    ]


def test_security_rules_between_settings():
    values = {"vllm_instances": [
        {"name": "pub", "port": 8000, "host": "0.0.0.0"},
        {"name": "tp", "port": 8001, "gpus": [0], "tensor_parallel_size": 2},
        {"name": "ov", "port": 8002, "extra_args": {"port": 9000}},
    ], "gateway_api_keys": [{"client": "a", "key": "short"}, {"client": "b", "key": "k" * 20}, {"client": "c", "key": "k" * 20}]}
    text = "\n".join(rules.security_problems(values, {"vllm", "gateway"}))
    assert "vllm_instances[0] (pub): host 0.0.0.0 is not loopback, so api_key is required" in text
    assert "vllm_instances[1] (tp): tensor_parallel_size 2 x pipeline_parallel_size 1 needs 2 GPUs but gpus lists 1" in text
    assert "vllm_instances[2] (ov): extra_args may not set port" in text
    assert "gateway_api_keys[0] (a): key must be 16-256 characters" in text
    assert "gateway_api_keys[2] (c): key is the same as gateway_api_keys[1]'s" in text
    assert "k" * 20 not in text and "short" not in text
    # Only for the roles that run: no gateway, no client check.
    assert rules.security_problems({"gateway_api_keys": []}, {"vllm"}) == []
    assert rules.security_problems({}, {"gateway"}, lambda name: []) == [
        "gateway_api_keys must list at least one {client, key} (keys from a vault)"]
    # A gateway being uninstalled needs no keys, whether absent is set on the host or is the default.
    assert rules.security_problems({"gateway_state": "absent"}, {"gateway"}, lambda name: []) == []
    assert rules.security_problems({}, {"gateway"}, {"gateway_state": "absent", "gateway_api_keys": []}.get) == []


def test_host_problems_apply_the_rules_for_the_host_groups(catalogue):
    values = {"vllm_instances": [{"name": "a;b", "port": 70000, "model_path": "srv/m"}], "ollama_version": "latest",
              "gateway_port": -1, "nvidia_driver_branch": "five-fifty", "model_weights_root": "models",
              "model_weights_models": [{"name": "m", "repo_id": "just-a-name"}]}
    text = "\n".join(host_problems("h1", values, ["vllm_servers"], catalogue))
    for words in ("h1: vllm_instances[0] (a;b).name must be 1-64 characters", "vllm_instances[0] (a;b).port must be a TCP port",
                  "vllm_instances[0] (a;b).model_path must be an absolute", "ollama_version must pin a release",
                  "gateway_port must be a TCP port", "nvidia_driver_branch must be auto or a driver branch",
                  "model_weights_root must be an absolute", "model_weights_models[0] (m).repo_id must be a Hugging Face"):
        assert words in text, text


def test_a_type_problem_is_reported_once(catalogue):
    found = host_problems("h1", {"gateway_port": "80a"}, ["gateway"], catalogue)
    assert [p for p in found if "gateway_port" in p] == ["h1: gateway_port must be an integer, got the string '80a'"]


def test_every_rule_names_a_declared_setting(catalogue):
    assert catalogue.rules
    for path, fmt in catalogue.rules.items():
        assert fmt in rules.FORMATS
        name, parts = rules.split_rule_path(path)
        spec = catalogue.spec(name)
        assert spec is not None, path
        for part in parts:
            if part == "[]":
                assert spec.get("type") == "list", path
                continue
            spec = (spec.get("options") or {}).get(part)
            assert spec is not None, path


@pytest.mark.parametrize("role", sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "defaults" / "main.yml").exists()))
def test_role_defaults_pass_the_rules(catalogue, role):
    defaults = yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text()) or {}
    plain = dict((k, v) for k, v in defaults.items() if not (isinstance(v, str) and "{{" in v))
    assert value_problems_of(plain, set(), catalogue) == []


def test_a_variable_that_could_not_be_templated_is_not_checked_again(catalogue):
    from ansible_collections.onprem.llm.plugins.module_utils.preflight.inventory import TemplateIssue

    issues = [TemplateIssue("vllm_instances[0].api_key", undefined="vault_key")]
    values = {"vllm_instances": [{"name": "pub", "port": 8000, "host": "10.0.0.1", "api_key": None}]}
    assert host_problems("h1", values, ["vllm_servers"], catalogue, issues) == [
        "h1: vllm_instances[0].api_key: undefined variable vault_key; define it in the vault"]


def _string_settings(catalogue):
    """Every str / path setting (or list of them) without choices, as a rules path."""
    found = []

    def walk(spec, path):
        kind, elements = spec.get("type", "str"), spec.get("elements")
        if not spec.get("choices") and (kind in ("str", "path") or (kind == "list" and elements in ("str", "path"))):
            found.append(path + ("[]" if kind == "list" else ""))
        for key, sub in (spec.get("options") or {}).items():
            walk(sub or {}, path + ("[]." if kind == "list" else ".") + key)

    for name, spec in sorted(catalogue.options.items()):
        walk(spec, name)
    return found


def test_every_string_setting_has_a_format_or_a_reason(catalogue):
    """No setting reaches a unit name, file path, URL or command line unchecked: each string setting
    is in rules, limited by choices, or listed in free_text with the reason no format is needed."""
    unchecked = [path for path in _string_settings(catalogue)
                 if path not in catalogue.rules and path not in catalogue.free_text]
    assert unchecked == []
    both = sorted(set(catalogue.rules) & set(catalogue.free_text))
    assert both == []
    stale = sorted(set(catalogue.free_text) - set(_string_settings(catalogue)))
    assert stale == []
    assert all(isinstance(reason, str) and reason for reason in catalogue.free_text.values())


@pytest.mark.parametrize("inventory", ["lab", "example"])
def test_shipped_inventories_pass_the_rules(catalogue, inventory):
    """The plain (untemplated) values of the shipped inventories' group and host vars."""
    values = {}
    for path in sorted((ROOT / "inventories" / inventory).rglob("*.yml")):
        if "vars" not in path.parts[-2] and "vars" not in path.parts[-3]:
            continue
        data = yaml.safe_load(path.read_text()) if "$ANSIBLE_VAULT" not in path.read_text() else None
        for name, value in (data or {}).items() if isinstance(data, dict) else []:
            if catalogue.owns(name) and "{{" not in repr(value) and "!vault" not in repr(value):
                values.setdefault(name, value)
    assert values
    assert value_problems_of(values, set(), catalogue) == []


@pytest.mark.parametrize("page", ["docs/preflight.md", "docs/ko/preflight.md"])
def test_the_docs_list_every_rule(catalogue, page):
    text = (ROOT / page).read_text(encoding="utf-8")
    missing = [path for path in catalogue.rules if "`%s`" % path not in text]
    assert missing == []
    formats = set(catalogue.rules.values())
    assert [f for f in sorted(formats) if "| `%s` |" % f not in text] == []


def test_credentials_in_a_bad_url_are_not_shown():
    found = rules.rule_problems({"onprem_https_proxy": "alice:s3cret@proxy.corp:3128",
                                 "closed_network_http_proxy": "http://bob:pw@proxy corp:3128"},
                                {"onprem_https_proxy": "url", "closed_network_http_proxy": "url"})
    text = "\n".join(found)
    assert len(found) == 2 and "s3cret" not in text and "pw" not in text and "(hidden)@proxy" in text
