"""Verify molecule/rollout: the gateway on g-gw1 in front of two real vLLM CPU nodes.

The HTTP requests run on g-gw1 (gateway_client.py).
"""

import json
import math
from datetime import datetime

import pytest
from gateway_client import GATEWAY, KEY, chat as _chat, request as _request

testinfra_hosts = ["g-gw1"]

BACKEND_KEY = "rollout-backend-not-a-secret"
NODES = ("g-cpu1", "g-cpu2")
ACCESS_LOG = "/var/log/nginx/onprem-llm-gateway.access.log"


@pytest.mark.parametrize("header", [None, "Bearer wrong-key-wrong-key-0001", "Bearer " + KEY.upper(),
                                    "Bearer " + KEY + "x", "Basic " + KEY, KEY])
def test_no_or_invalid_key_gets_401_json(host, header):
    for path, body in (("/v1/chat/completions", _chat()), ("/v1/models", None)):
        out = _request(host, GATEWAY + path, header, body)
        assert out["code"] == 401, out
        assert json.loads(out["text"])["error"]["code"] == "invalid_api_key"
        assert out["headers"].get("WWW-Authenticate", "").startswith("Bearer")


def test_models_lists_the_routed_model(host):
    out = _request(host, GATEWAY + "/v1/models", "Bearer " + KEY)
    assert out["code"] == 200, out
    assert [m["id"] for m in json.loads(out["text"])["data"]] == ["tiny-llama"]


def test_chat_completion_through_the_gateway(host):
    out = _request(host, GATEWAY + "/v1/chat/completions", "Bearer " + KEY, _chat())
    assert out["code"] == 200, out
    answer = json.loads(out["text"])
    assert answer["model"] == "tiny-llama"
    assert answer["choices"][0]["message"]["role"] == "assistant"
    assert answer["usage"]["completion_tokens"] > 0


def test_streaming_through_the_gateway(host):
    out = _request(host, GATEWAY + "/v1/chat/completions", "Bearer " + KEY, _chat(stream=True))
    assert out["code"] == 200, out
    assert out["headers"]["Content-Type"].startswith("text/event-stream")
    events = [line for line in out["text"].splitlines() if line.startswith("data: ")]
    assert len(events) >= 2 and events[-1] == "data: [DONE]"


def test_unknown_model_gets_openai_style_404(host):
    out = _request(host, GATEWAY + "/v1/chat/completions", "Bearer " + KEY, _chat(model="no-such-model"))
    assert out["code"] == 404, out
    assert json.loads(out["text"])["error"]["code"] == "model_not_found"


def test_backends_refuse_requests_without_their_own_key(host):
    # The backends listen on the private network with vLLM's own key: the gateway's client key is
    # not valid there, only the gateway's backend key is.
    for node in NODES:
        url = "http://%s:8000/v1/models" % node
        assert _request(host, url, "Bearer " + KEY)["code"] == 401
        assert _request(host, url, "Bearer " + BACKEND_KEY)["code"] == 200


def test_gateway_listens_on_loopback_only(host):
    listening = host.check_output("ss -Hltn 'sport = :8443'")
    assert "127.0.0.1:8443" in listening
    assert "0.0.0.0:8443" not in listening and "*:8443" not in listening


def test_access_log_names_clients_never_keys(host):
    log = host.file(ACCESS_LOG).content_string
    assert "client=molecule" in log and "client=loadloop" in log
    assert 'model="tiny-llama"' in log
    for secret in (KEY, "loadloop-gateway-key-0002", BACKEND_KEY):
        assert secret not in log


def test_keys_file_is_root_only(host):
    secrets = host.file("/etc/onprem-llm/gateway/secrets.conf")
    assert secrets.user == "root" and secrets.mode == 0o600
    assert host.file("/etc/onprem-llm/gateway/tls/gateway.key").mode == 0o600


def test_mirror_site_is_untouched(host):
    # The model mirror's nginx site on the same host still serves the weights (the revision the
    # side effect's rollout switched to; the first one was pruned).
    assert host.file("/etc/nginx/conf.d/onprem-models.conf").exists
    out = _request(host, "http://127.0.0.1:8088/models/tiny-llama-r2/config.json")
    assert out["code"] == 200 and "LlamaForCausalLM" in out["text"]


def _addresses(host):
    """The nodes' addresses on the scenario network, as nginx logs them."""
    return tuple(host.check_output("getent hosts %s" % node).split()[0] for node in NODES)


def _summary(host, name):
    return json.loads(host.file("/root/load-%s.json" % name).content_string)


def test_rollout_loop_had_no_failed_request(host):
    stats = _summary(host, "rollout")
    assert stats["failed"] == 0, stats["errors"]
    assert stats["ok"] >= 20 and stats["streamed_ok"] >= 3


@pytest.mark.parametrize("node", ["g-cpu1", "g-cpu2"])
def test_rollout_restarted_every_node(host, node):
    pids = json.loads(host.get_host("podman://" + node).file("/root/rollout-pids.json").content_string)
    assert pids["after"] != pids["before"] and int(pids["after"]) > 0


def _log_lines_between(host, start, end):
    """Access log lines of the seconds from ``start`` to ``end``: the log stamps whole seconds, so
    the first and last second count whole (a request at 100.9 s is logged at 100)."""
    lines = []
    for line in host.file(ACCESS_LOG).content_string.splitlines():
        stamp = datetime.fromisoformat(line.split(" ", 1)[0]).timestamp()
        if math.floor(start) <= stamp <= math.ceil(end):
            lines.append(line)
    return lines


def test_rollout_drained_each_node_before_restarting_it(host):
    # A drained node gets no request: while upgrade.yml restarted the nodes one by one, no request
    # even tried a node that was down (nginx would log two upstream addresses for such a retry).
    stats = _summary(host, "rollout")
    lines = _log_lines_between(host, stats["started"], stats["finished"])
    assert len(lines) >= stats["total"]
    retried = [line for line in lines if ", " in line.split(" upstream=", 1)[1].split(" upstream_status=")[0]]
    assert not retried, retried[:5]
    # Both nodes served during the loop.
    for address in _addresses(host):
        assert any("upstream=%s:8000 " % address in line for line in lines)


def test_kill_loop_had_no_failed_request(host):
    stats = _summary(host, "kill")
    assert stats["failed"] == 0, stats["errors"]
    assert stats["ok"] >= 20


def test_kill_was_routed_around(host):
    # After the kill, requests that first tried g-cpu1 were passed to g-cpu2 and succeeded: nginx
    # logs both upstream addresses for such a request.
    killed_at = host.file("/root/kill-time").content_string.strip()[:19]
    retry = "upstream=%s:8000, %s:8000" % _addresses(host)
    retried = [line for line in host.file(ACCESS_LOG).content_string.splitlines()
               if line[:19] >= killed_at and retry in line and '" 200 ' in line]
    assert retried, "no request was passed from g-cpu1 to g-cpu2 after the kill"


def test_upstream_keepalive_ends_before_the_backends(host):
    # vLLM closes idle connections after 5 s: nginx must drop them first (gateway_keepalive_timeout).
    upstreams = host.file("/etc/onprem-llm/gateway/upstreams.conf").content_string
    assert "keepalive_timeout 4s;" in upstreams
