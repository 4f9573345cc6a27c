"""Verify the gateway's metrics on g-gw1: the distribution's mtail counts the gateway's real access
log into requests, latency and tokens by client and model (roles/monitoring/files/onprem_llm_gateway.mtail)."""

import json
import re
import time

from gateway_client import GATEWAY, KEY, chat, request

testinfra_hosts = ["g-gw1"]

ACCESS_LOG = "/var/log/nginx/onprem-llm-gateway.access.log"
REQUESTS = "onprem_llm_gateway_requests_total"
DURATION_COUNT = "onprem_llm_gateway_request_duration_seconds_count"
PROMPT = "onprem_llm_gateway_prompt_tokens_total"
COMPLETION = "onprem_llm_gateway_completion_tokens_total"
# The program as the service runs it, over a whole file. One-shot mtail still opens its HTTP port:
# any free one on loopback, since the service holds 3903.
ONE_SHOT = ("mtail --one_shot --one_shot_format prometheus --emit_prog_label=false --address 127.0.0.1 --port 0 "
            "--progs /etc/mtail --logs %s 2>&1")


def _log_line(client, request, status, model, upstream, request_time, route, served, prompt="-", completion="-"):
    """A line in the gateway's log format (roles/gateway/templates/onprem-llm-gateway.conf.j2)."""
    return ('2026-12-02T10:00:00+00:00 127.0.0.1 client=%s "%s" %s model="%s" upstream=%s upstream_status=%s '
            'bytes=100 request_time=%s upstream_time=%s route=%s served=%s prompt_tokens=%s completion_tokens=%s'
            % (client, request, status, model, upstream[0], upstream[1], request_time, upstream[2], route, served,
               prompt, completion))


# What a short test cannot provoke: a refusal logged as 0.000 s, quotes escaped by escape=json in
# the path and the model, a request retried on a second backend, usage without completion tokens.
EDGE_LOG = "".join(line + "\n" for line in (
    _log_line("", "GET /v1/models", 401, "-", ("", "", ""), "0.000", "models", "-"),
    _log_line("edge", 'POST /v1/chat/\\"x\\"', 404, 'no \\"such\\" model', ("", "", ""), "0.001", "other", "-"),
    _log_line("edge", "POST /v1/chat/completions", 200, "tiny-llama",
              ("10.89.0.3:8000, 10.89.0.4:8000", "502, 200", "0.002, 2.248"), "2.250", "chat_completions",
              "tiny-llama", 12, 8),
    _log_line("edge", "POST /v1/completions", 200, "tiny-llama", ("10.89.0.3:8000", "200", "0.299"), "0.300",
              "completions", "tiny-llama", 4),
))


def _parse(text):
    """Prometheus text exposition -> {(name, ((label, value), ...)): value}."""
    series = {}
    for line in text.splitlines():
        match = re.match(r"^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$", line)
        if match and not line.startswith("#"):
            labels = tuple(sorted(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or "")))
            series[(match.group(1), labels)] = float(match.group(3))
    return series


def _key(name, **labels):
    return (name, tuple(sorted(labels.items())))


def _scrape(host):
    address = host.check_output("ip -4 -o addr show dev eth0 | awk '{print $4}'").split("/")[0]
    return _parse(host.check_output("curl -sf http://%s:3903/metrics" % address))


def _usage_of_stream(text):
    usage = [json.loads(line[6:])["usage"] for line in text.splitlines()
             if line.startswith("data: {") and json.loads(line[6:]).get("usage")]
    return usage[-1] if usage else None


def test_mtail_runs_unprivileged_and_hardened(host):
    assert host.service("mtail").is_running and host.service("mtail").is_enabled
    props = dict(line.split("=", 1) for line in host.check_output(
        "systemctl show mtail -p User -p NoNewPrivileges -p ProtectSystem -p IPAddressDeny").splitlines())
    assert props["User"] == "mtail" and props["NoNewPrivileges"] == "yes" and props["ProtectSystem"] == "strict"
    assert props["IPAddressDeny"] != ""


def test_requests_and_the_tokens_backends_report_are_counted_by_client_and_model(host):
    labels = {"client": "molecule", "model": "tiny-llama"}
    ok = dict(labels, route="chat_completions", status="200")
    before = _scrape(host)
    plain = request(host, GATEWAY + "/v1/chat/completions", "Bearer " + KEY, chat())
    with_usage = request(host, GATEWAY + "/v1/chat/completions", "Bearer " + KEY,
                         chat(stream=True, stream_options={"include_usage": True}))
    without_usage = request(host, GATEWAY + "/v1/chat/completions", "Bearer " + KEY, chat(stream=True))
    assert [plain["code"], with_usage["code"], without_usage["code"]] == [200, 200, 200]
    usage = [json.loads(plain["text"])["usage"], _usage_of_stream(with_usage["text"])]
    assert usage[1] is not None and _usage_of_stream(without_usage["text"]) is None
    # mtail follows the log every 250 ms.
    for _attempt in range(40):
        after = _scrape(host)
        if after.get(_key(REQUESTS, **ok), 0) - before.get(_key(REQUESTS, **ok), 0) >= 3:
            break
        time.sleep(0.5)

    def delta(name, **extra):
        key = _key(name, **extra)
        return after.get(key, 0) - before.get(key, 0)

    assert delta(REQUESTS, **ok) == 3
    assert delta(DURATION_COUNT, **dict(labels, route="chat_completions")) == 3
    # Streams count only when the client asked for usage (stream_options.include_usage).
    assert delta(PROMPT, **labels) == sum(u["prompt_tokens"] for u in usage)
    assert delta(COMPLETION, **labels) == sum(u["completion_tokens"] for u in usage)


def test_every_request_in_the_real_log_is_counted(host):
    lines = len(host.file(ACCESS_LOG).content_string.splitlines())
    counted = _parse(host.check_output(ONE_SHOT % ACCESS_LOG))
    assert lines > 0
    assert sum(v for (name, _labels), v in counted.items() if name == REQUESTS) == lines


def test_program_reads_refusals_escaped_quotes_retries_and_partial_usage(host):
    host.check_output("printf %%s '%s' > /root/edge.log" % EDGE_LOG.replace("'", "'\\''"))
    counted = _parse(host.check_output(ONE_SHOT % "/root/edge.log"))
    assert {k: v for k, v in counted.items() if k[0] == REQUESTS} == {
        _key(REQUESTS, client="", model="-", route="models", status="401"): 1,
        _key(REQUESTS, client="edge", model="-", route="other", status="404"): 1,
        _key(REQUESTS, client="edge", model="tiny-llama", route="chat_completions", status="200"): 1,
        _key(REQUESTS, client="edge", model="tiny-llama", route="completions", status="200"): 1}
    # The 0.000 s refusal stays out of the histogram; the retried request took 2.25 s in all.
    assert _key(DURATION_COUNT, client="", model="-", route="models") not in counted
    assert counted[_key("onprem_llm_gateway_request_duration_seconds_sum", client="edge", model="tiny-llama",
                        route="chat_completions")] == 2.25
    assert counted[_key("onprem_llm_gateway_request_duration_seconds_bucket", client="edge", model="tiny-llama",
                        route="chat_completions", le="2.5")] == 1
    assert counted[_key("onprem_llm_gateway_request_duration_seconds_bucket", client="edge", model="tiny-llama",
                        route="chat_completions", le="1")] == 0
    # Tokens only where both counts were logged.
    assert counted[_key(PROMPT, client="edge", model="tiny-llama")] == 12
    assert counted[_key(COMPLETION, client="edge", model="tiny-llama")] == 8


def test_no_key_in_the_gateway_metrics(host):
    text = host.check_output(ONE_SHOT % ACCESS_LOG)
    for secret in (KEY, "loadloop-gateway-key-0002", "rollout-backend-not-a-secret"):
        assert secret not in text
