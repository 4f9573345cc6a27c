# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests for plugins/module_utils/gateway/routes.py (the gateway's route table and key checks)."""

from __future__ import annotations

import re

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.gateway import routes as gw

GROUPS = {"vllm_servers": ["cpu1", "cpu2"], "ollama_servers": ["oll1"], "gateway": ["gw1"]}
BACKEND_GROUPS = ["vllm_servers", "ollama_servers"]


def _vllm(host="10.0.0.11", **extra):
    inst = {"name": "tiny", "model": "tiny-llama", "port": 8000, "host": host, "api_key": "k" * 20}
    inst.update(extra)
    return inst


def _hostvars(**overrides):
    hv = {
        "cpu1": {"vllm_instances": [_vllm("10.0.0.11")]},
        "cpu2": {"vllm_instances": [_vllm("10.0.0.12")]},
        "oll1": {"ollama_host": "10.0.0.21:11434", "ollama_models": [{"name": "qwen2.5:0.5b"}, {"name": "llama3"}]},
        "gw1": {},
    }
    hv.update(overrides)
    return hv


def test_two_vllm_nodes_one_upstream_with_both_backends():
    out = gw.build_routes(_hostvars(), GROUPS, BACKEND_GROUPS, "gw1")
    assert out["problems"] == []
    by_model = dict((r["model"], r) for r in out["routes"])
    tiny = by_model["tiny-llama"]
    assert [b["server"] for b in tiny["backends"]] == ["10.0.0.11:8000", "10.0.0.12:8000"]
    assert [b["host"] for b in tiny["backends"]] == ["cpu1", "cpu2"]
    assert tiny["api_key"] == "k" * 20
    assert all(b["engine"] == "vllm" and not b["drained"] for b in tiny["backends"])
    # Backends carry no key (it is per route, for the proxy header).
    assert all("api_key" not in b for b in tiny["backends"])


def test_ollama_models_route_with_and_without_tag():
    out = gw.build_routes(_hostvars(), GROUPS, BACKEND_GROUPS, "gw1")
    models = [r["model"] for r in out["routes"]]
    assert models == sorted(models)
    assert {"qwen2.5:0.5b", "llama3", "llama3:latest"} <= set(models)
    llama = [r for r in out["routes"] if r["model"] == "llama3"][0]
    assert llama["backends"][0]["server"] == "10.0.0.21:11434"
    assert llama["backends"][0]["engine"] == "ollama"
    assert llama["api_key"] == ""


def test_upstream_names_are_unique_and_nginx_safe():
    out = gw.build_routes(_hostvars(), GROUPS, BACKEND_GROUPS, "gw1")
    names = [r["upstream"] for r in out["routes"]]
    assert len(set(names)) == len(names)
    assert all(re.match(r"^[a-z0-9_]+$", n) for n in names)


def test_loopback_backend_on_another_host_names_host_instance_and_variable():
    hv = _hostvars(cpu2={"vllm_instances": [_vllm(host=None, name="edge")]})
    del hv["cpu2"]["vllm_instances"][0]["host"]
    out = gw.build_routes(hv, GROUPS, BACKEND_GROUPS, "gw1")
    assert len(out["problems"]) == 1
    msg = out["problems"][0]
    assert "cpu2" in msg and "edge" in msg and "vllm_instances[0].host" in msg and "gw1" in msg
    # The unreachable backend is not routed; the reachable one still is.
    tiny = [r for r in out["routes"] if r["model"] == "tiny-llama"][0]
    assert [b["host"] for b in tiny["backends"]] == ["cpu1"]


def test_loopback_backend_on_the_gateway_host_itself_is_fine():
    groups = {"vllm_servers": ["gw1"]}
    hv = {"gw1": {"vllm_instances": [{"name": "local", "model": "m", "port": 8000}]}}
    out = gw.build_routes(hv, groups, ["vllm_servers"], "gw1")
    assert out["problems"] == []
    assert out["routes"][0]["backends"][0]["server"] == "127.0.0.1:8000"


def test_ollama_on_loopback_of_another_host_names_ollama_host():
    hv = _hostvars(oll1={"ollama_models": [{"name": "llama3"}]})
    out = gw.build_routes(hv, GROUPS, BACKEND_GROUPS, "gw1")
    assert any("oll1" in p and "ollama_host" in p for p in out["problems"])


def test_wildcard_listen_uses_gateway_backend_address_then_ansible_host():
    hv = _hostvars(cpu1={"vllm_instances": [_vllm("0.0.0.0")], "gateway_backend_address": "192.168.1.5",
                         "ansible_host": "cpu1.example"},
                   cpu2={"vllm_instances": [_vllm("::")], "ansible_host": "fd00::12"})
    out = gw.build_routes(hv, GROUPS, BACKEND_GROUPS, "gw1")
    tiny = [r for r in out["routes"] if r["model"] == "tiny-llama"][0]
    assert [b["server"] for b in tiny["backends"]] == ["192.168.1.5:8000", "[fd00::12]:8000"]


def test_served_model_name_default_and_list():
    hv = _hostvars(cpu1={"vllm_instances": [_vllm(served_model_name=["a", "b"])]},
                   cpu2={"vllm_instances": [{"name": "bare", "model_path": "/m", "port": 8001, "host": "10.0.0.12",
                                             "api_key": "k" * 20}]})
    out = gw.build_routes(hv, GROUPS, ["vllm_servers"], "gw1")
    assert [r["model"] for r in out["routes"]] == ["a", "b", "bare"]


def test_different_api_keys_for_one_model_are_a_problem():
    hv = _hostvars(cpu2={"vllm_instances": [_vllm("10.0.0.12", api_key="z" * 20)]})
    out = gw.build_routes(hv, GROUPS, BACKEND_GROUPS, "gw1")
    assert len(out["problems"]) == 1
    assert "tiny-llama" in out["problems"][0] and "cpu1/tiny" in out["problems"][0]
    assert "k" * 20 not in out["problems"][0]


def test_drained_hosts_are_marked_and_all_drained_warns():
    out = gw.build_routes(_hostvars(), GROUPS, BACKEND_GROUPS, "gw1", ["cpu1"])
    tiny = [r for r in out["routes"] if r["model"] == "tiny-llama"][0]
    assert [b["drained"] for b in tiny["backends"]] == [True, False]
    assert out["warnings"] == []
    out = gw.build_routes(_hostvars(), GROUPS, BACKEND_GROUPS, "gw1", ["cpu1", "cpu2"])
    assert len(out["warnings"]) == 1 and "tiny-llama" in out["warnings"][0]


def test_draining_an_unknown_host_is_a_problem():
    out = gw.build_routes(_hostvars(), GROUPS, BACKEND_GROUPS, "gw1", ["cpu9"])
    assert out["problems"] == ["gateway_drain_hosts: cpu9 is not a host of the backend groups "
                               "(vllm_servers, ollama_servers)"]


def test_no_backends_is_a_problem_naming_the_groups():
    out = gw.build_routes({"gw1": {}}, {"gateway": ["gw1"]}, BACKEND_GROUPS, "gw1")
    assert out["routes"] == []
    assert "vllm_servers, ollama_servers" in out["problems"][0]


def test_missing_group_and_duplicate_membership():
    groups = {"vllm_servers": ["cpu1", "cpu1"]}
    out = gw.build_routes(_hostvars(), groups, ["vllm_servers", "nope"], "gw1")
    assert out["problems"] == []
    assert len(out["routes"][0]["backends"]) == 1


@pytest.mark.parametrize("port", [None, "8000", 0, 70000, True])
def test_bad_port_is_a_problem(port):
    hv = _hostvars(cpu1={"vllm_instances": [_vllm(port=port)]})
    out = gw.build_routes(hv, GROUPS, ["vllm_servers"], "gw1")
    assert any("cpu1" in p and "port" in p for p in out["problems"])


def test_absent_ollama_models_are_not_routed():
    hv = _hostvars(oll1={"ollama_host": "10.0.0.21:11434",
                         "ollama_models": [{"name": "gone:1b", "state": "absent"}, {"name": "kept:1b"}]})
    out = gw.build_routes(hv, GROUPS, ["ollama_servers"], "gw1")
    assert [r["model"] for r in out["routes"]] == ["kept:1b"]


def test_a_host_with_vllm_state_absent_gets_no_route():
    hv = _hostvars(cpu2={"vllm_instances": [_vllm("10.0.0.12")], "vllm_state": "absent"})
    out = gw.build_routes(hv, GROUPS, ["vllm_servers"], "gw1")
    assert out["problems"] == []
    assert [b["server"] for b in out["routes"][0]["backends"]] == ["10.0.0.11:8000"]


def test_a_host_with_ollama_state_absent_gets_no_route():
    hv = _hostvars(oll1={"ollama_host": "10.0.0.21:11434", "ollama_state": "absent",
                         "ollama_models": [{"name": "kept:1b"}]})
    out = gw.build_routes(hv, GROUPS, BACKEND_GROUPS, "gw1")
    assert out["problems"] == []
    assert [r["model"] for r in out["routes"]] == ["tiny-llama"]


@pytest.mark.parametrize("value,expected", [
    ("127.0.0.1:11434", ("127.0.0.1", 11434)),
    ("0.0.0.0", ("0.0.0.0", 11434)),
    ("http://10.1.2.3:9999/", ("10.1.2.3", 9999)),
    ("[::1]:11435", ("::1", 11435)),
    ("host:abc", ("host", None)),
])
def test_split_host_port(value, expected):
    assert gw.split_host_port(value, 11434) == expected


GOOD_KEYS = [{"client": "app1", "key": "A" * 16}, {"client": "app-2.b", "key": "b.c+d/e=f~g_h-ijklmnop"}]


def test_good_api_keys():
    assert gw.api_key_problems(GOOD_KEYS) == []


@pytest.mark.parametrize("keys,needle", [
    ([], "at least one"),
    (None, "at least one"),
    ([{"client": "a", "key": "short"}], "gateway_api_keys[0] (a): key must be 16-256"),
    ([{"client": "a b", "key": "A" * 16}], "gateway_api_keys[0]: client must be"),
    ([{"client": "a", "key": "A" * 15 + '"'}], "key must be"),
    # A newline would add a line to the nginx configuration the key is written into.
    ([{"client": "a", "key": "A" * 16 + "\n"}], "key must be"),
    ([{"client": "a\n", "key": "A" * 16}], "client must be"),
    ([{"client": "a", "key": "A" * 16}, {"client": "a", "key": "B" * 16}], "client a is already"),
    ([{"client": "a", "key": "A" * 16}, {"client": "b", "key": "A" * 16}], "same as gateway_api_keys[0]"),
    ([{"client": "a", "key": "A" * 16, "secret": 1}], "unknown key(s) secret"),
    (["x"], "must be a dictionary"),
])
def test_bad_api_keys_name_the_variable_never_the_key(keys, needle):
    problems = gw.api_key_problems(keys)
    assert any(needle in p for p in problems), problems
    for item in keys or []:
        if isinstance(item, dict) and len(str(item.get("key", ""))) >= 16:
            assert all(item["key"] not in p for p in problems)


def test_key_pattern_is_exact_and_case_sensitive():
    key = "b.c+d/e=f~g_h-ijklmnop"
    regex = gw.key_pattern(key)
    assert regex.startswith("~")
    compiled = re.compile(regex[1:])
    assert compiled.match("Bearer " + key)
    assert not compiled.match("Bearer " + key.upper())
    assert not compiled.match("Bearer " + key + "x")
    assert not compiled.match("Bearer " + key.replace(".", "X"))
    assert not compiled.match("Bearer " + key.replace("+", ""))
    assert "\\" not in regex and '"' not in regex


def test_models_document():
    out = gw.build_routes(_hostvars(), GROUPS, ["vllm_servers"], "gw1")
    assert gw.models_document(out["routes"]) == {
        "object": "list", "data": [{"id": "tiny-llama", "object": "model", "owned_by": "onprem.llm"}]}


@pytest.mark.parametrize("key", ['with"quote-0123456789', "dollar$var0123456789", "back\\slash0123456789", "blank 0123456789"])
def test_backend_keys_nginx_cannot_carry_are_a_problem(key):
    hv = _hostvars(cpu1={"vllm_instances": [_vllm(api_key=key)]}, cpu2={})
    out = gw.build_routes(hv, GROUPS, ["vllm_servers"], "gw1")
    assert out["problems"] == ["host cpu1: vllm_instances[0].api_key has characters the gateway cannot pass on "
                               "(use letters, digits and ._~+/=:@!*,%-)"]


def test_serving_gateways_drop_only_the_absent_ones():
    assert gw.serving_gateways(["gw1", "gw2", "gw3"], {"gw2": "absent", "gw3": "present"}) == ["gw1", "gw3"]
    assert gw.serving_gateways([], {"gw1": "absent"}) == []
    assert gw.serving_gateways(["gw1"], None) == ["gw1"]


def _render_upstreams(drain_hosts):
    """templates/upstreams.conf.j2 rendered as the role renders it, for the routes with drain_hosts."""
    import pathlib

    import jinja2
    from ansible.plugins.filter.core import comment, to_json

    root = pathlib.Path(__file__).resolve().parents[5]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(root / "roles" / "gateway" / "templates")),
                             trim_blocks=True)
    env.filters.update(comment=comment, to_json=to_json)
    routes = gw.build_routes(_hostvars(), GROUPS, BACKEND_GROUPS, "gw1", drain_hosts)
    return env.get_template("upstreams.conf.j2").render(
        ansible_managed="Ansible managed", __gateway_routes=routes,
        __gateway_upstream_opts={"max_fails": 1, "fail_timeout": 10, "keepalive": 16, "keepalive_timeout": 4})


def test_drained_hosts_are_read_back_from_the_rendered_upstreams():
    text = _render_upstreams(["cpu2", "oll1"])
    assert "down;" in text
    assert sorted(gw.drained_hosts(text)) == ["cpu2", "oll1"]
    assert gw.drained_hosts(_render_upstreams([])) == []
    assert gw.drained_hosts("") == [] and gw.drained_hosts(None) == []


def test_a_comment_or_a_server_that_is_up_is_not_drained():
    text = ("    # server 10.0.0.9:8000 down;  # cpu9/tiny (vllm)\n"
            "    server 10.0.0.11:8000 max_fails=1 fail_timeout=10s;  # cpu1/tiny (vllm)\n"
            "    server 10.0.0.12:8000 max_fails=1 fail_timeout=10s down;  # cpu2/tiny (vllm)\n"
            "    server 10.0.0.12:8001 max_fails=1 fail_timeout=10s down;  # cpu2/keyed (vllm)\n")
    assert gw.drained_hosts(text) == ["cpu2"]


def test_upstream_hosts_are_every_backend_host_of_the_rendered_upstreams_drained_or_not():
    every = gw.upstream_hosts(_render_upstreams([]))
    assert sorted(every) == sorted(set(every)) and len(every) >= 2
    assert gw.upstream_hosts(_render_upstreams(["cpu2", "oll1"])) == every
    assert gw.upstream_hosts("") == [] and gw.upstream_hosts(None) == []


def test_a_commented_server_is_not_an_upstream_host():
    text = ("    # server 10.0.0.9:8000 down;  # cpu9/tiny (vllm)\n"
            "    server 10.0.0.11:8000 max_fails=1 fail_timeout=10s;  # cpu1/tiny (vllm)\n"
            "    server 10.0.0.12:8000 max_fails=1 fail_timeout=10s down;  # cpu2/tiny (vllm)\n"
            "    server 10.0.0.11:8001 max_fails=1 fail_timeout=10s;  # cpu1/keyed (vllm)\n")
    assert gw.upstream_hosts(text) == ["cpu1", "cpu2"]
