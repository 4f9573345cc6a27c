"""Unit tests for plugins/module_utils/vllm/ray.py (multi-node vLLM: Ray cluster plan)."""

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.vllm import ray
from ansible_collections.onprem.llm.plugins.filter.vllm import FilterModule


def _facts(address="10.0.0.1", gpus=0, iface="ens1f0", active=True):
    """ansible_facts as setup (network subset) and gpu_facts give them."""
    key = iface.replace("-", "_")
    return {
        "interfaces": ["lo", "eth0", iface],
        key: {"device": iface, "active": active,
              "ipv4": {"address": address, "netmask": "255.255.255.0",
                       "network": address.rsplit(".", 1)[0] + ".0"}},
        "eth0": {"device": "eth0", "active": True, "ipv4": {"address": "192.0.2.10"}},
        "onprem_gpu": {"count": gpus, "gpus": [{"index": i, "uuid": "GPU-%d" % i} for i in range(gpus)]},
    }


HOSTS = ["n1", "n2", "n3"]


def _cluster(gpus=(8, 8, 8), variant="cu129", **kw):
    facts = dict((h, _facts("10.0.0.%d" % (i + 1), g)) for i, (h, g) in enumerate(zip(HOSTS, gpus)))
    args = dict(hosts=HOSTS, interface="ens1f0", variant=variant, group="vllm_ray_nodes")
    args.update(kw)
    return ray.cluster_plan(facts, **args)


def test_gpu_cluster_plan_head_workers_addresses_and_sizes():
    plan = _cluster(instances=[{"name": "big", "port": 8100, "model_path": "/srv/models/big"}])
    assert plan["problems"] == []
    assert plan["head"] == "n1" and plan["workers"] == ["n2", "n3"]
    assert plan["head_address"] == "10.0.0.1:6379"
    assert plan["addresses"] == ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
    assert (plan["gpus_per_node"], plan["tensor_parallel_size"], plan["pipeline_parallel_size"]) == (8, 8, 3)
    big = plan["instances"][0]
    assert big["config"]["distributed-executor-backend"] == "ray"
    assert big["config"]["tensor-parallel-size"] == 8 and big["config"]["pipeline-parallel-size"] == 3
    assert big["config"]["model"] == "/srv/models/big" and big["config"]["host"] == "127.0.0.1"
    assert big["env"]["RAY_ADDRESS"] == "10.0.0.1:6379"
    assert big["env"]["VLLM_HOST_IP"] == "10.0.0.1"
    assert big["env"]["GLOO_SOCKET_IFNAME"] == big["env"]["NCCL_SOCKET_IFNAME"] == "ens1f0"
    assert "CUDA_VISIBLE_DEVICES" not in big["env"] and big["ray"] is True


def test_head_and_worker_start_args():
    plan = _cluster(object_store_memory=10 ** 9, extra_args=["--num-cpus=16"])
    head, worker = plan["nodes"][0], plan["nodes"][1]
    assert head["role"] == "head" and head["unit"] == "vllm-ray-head.service"
    assert head["args"][:3] == ["--block", "--node-ip-address=10.0.0.1", "--temp-dir=/var/lib/vllm-ray"]
    for arg in ("--head", "--port=6379", "--include-dashboard=false", "--dashboard-host=127.0.0.1",
                "--node-manager-port=6381", "--object-manager-port=6382", "--min-worker-port=10002",
                "--max-worker-port=10201", "--num-gpus=8", "--object-store-memory=1000000000",
                "--disable-usage-stats", "--num-cpus=16"):
        assert arg in head["args"]
    assert worker["role"] == "worker" and worker["unit"] == "vllm-ray-worker.service"
    assert "--address=10.0.0.1:6379" in worker["args"] and "--head" not in worker["args"]
    assert "--node-ip-address=10.0.0.2" in worker["args"]
    assert worker["env"] == {"VLLM_HOST_IP": "10.0.0.2", "GLOO_SOCKET_IFNAME": "ens1f0",
                             "NCCL_SOCKET_IFNAME": "ens1f0", "RAY_USAGE_STATS_ENABLED": "0"}


def test_explicit_head_goes_first():
    plan = _cluster(head="n2")
    assert plan["problems"] == []
    assert [n["name"] for n in plan["nodes"]] == ["n2", "n1", "n3"]
    assert plan["head_address"] == "10.0.0.2:6379" and plan["workers"] == ["n1", "n3"]


def test_cpu_cluster_is_tp1_pp_nodes():
    plan = _cluster(gpus=(0, 0, 0), variant="cpu", instances=[{"name": "big", "port": 8100, "model_path": "/m"}])
    assert plan["problems"] == []
    assert (plan["tensor_parallel_size"], plan["pipeline_parallel_size"]) == (1, 3)
    assert "--num-gpus=0" in plan["nodes"][0]["args"]
    assert plan["instances"][0]["config"]["pipeline-parallel-size"] == 3


def test_unequal_gpu_counts_are_a_problem_naming_the_fix():
    plan = _cluster(gpus=(8, 4, 8))
    assert len(plan["problems"]) == 1
    assert "unequal GPU counts (n1 8, n2 4, n3 8)" in plan["problems"][0]
    assert "set vllm_ray_gpus_per_node to 4" in plan["problems"][0]


def test_gpus_per_node_override_uses_fewer_gpus():
    plan = _cluster(gpus=(8, 4, 8), gpus_per_node=4)
    assert plan["problems"] == [] and plan["tensor_parallel_size"] == 4
    assert "--num-gpus=4" in plan["nodes"][0]["args"]
    short = _cluster(gpus=(8, 4, 8), gpus_per_node=8)
    assert short["problems"] == ["vllm_ray_gpus_per_node is 8 but n2 has fewer GPUs (n2 4)"]


def test_gpu_build_without_gpus_is_a_problem():
    assert _cluster(gpus=(0, 0, 0))["problems"] == [
        "the cu129 build needs GPUs but the nodes of vllm_ray_group 'vllm_ray_nodes' have none"]


def test_missing_interface_on_a_host_names_host_and_interfaces():
    facts = {"n1": _facts("10.0.0.1", 1), "n2": _facts("10.0.0.2", 1, iface="eno2")}
    plan = ray.cluster_plan(facts, hosts=["n1", "n2"], interface="ens1f0", variant="cu129")
    assert plan["problems"] == [
        "host n2 has no interface ens1f0 (its interfaces: eno2, eth0, lo); set vllm_ray_interface (per host if "
        "the names differ) to the private interface"]


def test_per_host_interface_names():
    facts = {"n1": _facts("10.0.0.1", 1), "n2": _facts("10.0.0.2", 1, iface="eno-2")}
    plan = ray.cluster_plan(facts, hosts=["n1", "n2"], interface="ens1f0", variant="cu129",
                            interfaces={"n2": "eno-2"})
    assert plan["problems"] == []
    assert plan["nodes"][1]["env"]["NCCL_SOCKET_IFNAME"] == "eno-2"
    assert plan["addresses"] == ["10.0.0.1", "10.0.0.2"]


@pytest.mark.parametrize(
    "facts_n2, expected",
    [
        ({}, "host n2 of vllm_ray_group 'g' has no facts: run the role on every host of the group in one play"),
        (dict(_facts("127.0.0.1")), "interface ens1f0 has the address 127.0.0.1, which other nodes cannot reach"),
        (dict(_facts("10.0.0.1")), "hosts n1 and n2 both have the address 10.0.0.1"),
        (dict(_facts("10.0.0.2", active=False)), "host n2 interface ens1f0 is down"),
        ({"interfaces": ["ens1f0"], "ens1f0": {"ipv4": {}}, "onprem_gpu": {"count": 0}},
         "host n2 interface ens1f0 has no IPv4 address"),
        ({"interfaces": ["ens1f0"], "ens1f0": {"ipv4": {"address": "10.0.0.9"}}},
         "host n2 has no GPU facts (ansible_facts.onprem_gpu)"),
    ],
)
def test_host_problems(facts_n2, expected):
    facts = {"n1": _facts("10.0.0.1"), "n2": facts_n2}
    plan = ray.cluster_plan(facts, hosts=["n1", "n2"], interface="ens1f0", variant="cpu", group="g")
    assert any(expected in p for p in plan["problems"]), plan["problems"]


@pytest.mark.parametrize(
    "kw, expected",
    [
        (dict(hosts=[]), "vllm_ray_group 'g' has no hosts"),
        (dict(interface=""), "vllm_ray_interface is empty"),
        (dict(head="n9"), "vllm_ray_head n9 is not a host of vllm_ray_group 'g' (hosts: n1, n2)"),
        (dict(port=80), "vllm_ray_port must be an integer from 1024 to 65535 (got 80)"),
        (dict(ports={"node_manager": 6379}), "Ray ports gcs and node_manager are both 6379"),
        (dict(ports={"object_manager": 10050}), "Ray port object_manager 10050 lies in the worker port range"),
        (dict(ports={"min_worker": 11000, "max_worker": 10000}), "min_worker 11000 is above max_worker 10000"),
        (dict(ports={"dashboard": 8265}), "vllm_ray_ports: unknown key dashboard"),
        (dict(gpus_per_node=2), "vllm_ray_gpus_per_node is 2 but the build is the CPU build"),
    ],
)
def test_group_and_port_problems(kw, expected):
    facts = {"n1": _facts("10.0.0.1"), "n2": _facts("10.0.0.2")}
    args = dict(hosts=["n1", "n2"], interface="ens1f0", variant="cpu", group="g")
    args.update(kw)
    plan = ray.cluster_plan(facts, **args)
    assert any(expected in p for p in plan["problems"]), plan["problems"]


@pytest.mark.parametrize(
    "inst, expected",
    [
        ({"name": "big", "port": 8000, "model_path": "/m"}, "port 8000 is already used by vllm_instances[0]"),
        ({"name": "one", "port": 8100, "model_path": "/m"}, "name is already used by vllm_instances[0]"),
        ({"name": "big", "port": 6379, "model_path": "/m"}, "port 6379 is Ray's gcs port"),
        ({"name": "big", "port": 10100, "model_path": "/m"}, "port 10100 is the Ray worker port range"),
        ({"name": "big", "port": 8100, "model_path": "/m", "gpus": [0]}, "gpus is a single-node setting"),
        ({"name": "big", "port": 8100, "model_path": "/m", "tensor_parallel_size": 16},
         "tensor_parallel_size 16 x pipeline_parallel_size 3 needs 48 GPUs, the cluster has 24 (3 nodes x 8)"),
        ({"name": "big", "port": 8100, "model_path": "/m", "pipeline_parallel_size": 4},
         "pipeline_parallel_size 4 is more than the 3 node(s)"),
        ({"name": "big", "port": 8100}, "vllm_ray_instances[0] (big): set exactly one of model"),
        ({"name": "big", "port": 8100, "model_path": "/m", "host": "0.0.0.0"}, "so api_key is required"),
    ],
)
def test_instance_problems(inst, expected):
    plan = _cluster(instances=[inst], other_instances=[{"name": "one", "port": 8000}])
    assert any(expected in p for p in plan["problems"]), plan["problems"]
    assert plan["instances"] == []


def test_instance_overrides_and_model_key():
    models = {"llama": {"path": "/srv/models/llama", "fit": {"max_model_len": 4096}}}
    plan = _cluster(models=models, instances=[{"name": "big", "port": 8100, "model": "llama",
                                               "tensor_parallel_size": 4, "pipeline_parallel_size": 2,
                                               "env": {"NCCL_DEBUG": "INFO"}}])
    assert plan["problems"] == []
    config = plan["instances"][0]["config"]
    assert config["model"] == "/srv/models/llama" and config["max-model-len"] == 4096
    assert (config["tensor-parallel-size"], config["pipeline-parallel-size"]) == (4, 2)
    assert plan["instances"][0]["env"]["NCCL_DEBUG"] == "INFO"
    assert plan["instances"][0]["served_model_name"] == "llama"


def test_filter_is_registered_and_validates_input():
    filters = FilterModule().filters()
    plan = filters["vllm_ray_plan"]({"n1": _facts("10.0.0.1")}, hosts=["n1"], interface="ens1f0", port="6379")
    assert plan["problems"] == [] and plan["head_address"] == "10.0.0.1:6379"
    with pytest.raises(Exception, match="expects a dict"):
        filters["vllm_ray_plan"](["n1"])
