"""Verify molecule/vllm_gpu_plan: the plan the vllm role wrote on an 8x A100 node, and that it
installed nothing."""

import pytest
import yaml

testinfra_hosts = ["v-gpu1"]


@pytest.fixture(scope="module")
def plan(host):
    return yaml.safe_load(host.file("/root/vllm-plan.yml").content_string)


@pytest.fixture(scope="module")
def uuids(host):
    out = host.check_output("nvidia-smi --query-gpu=index,uuid --format=csv,noheader")
    return dict(line.split(", ") for line in out.splitlines())


def test_plan_resolves_a_cuda_build_for_driver_535(plan):
    assert plan["package"] == "vllm"
    assert plan["variant"].startswith("cu12")  # driver 535 runs CUDA 12.x, not 13
    assert plan["cuda_version"].startswith("12.")
    assert plan["venv"] == "/opt/onprem-llm/vllm/%s-%s" % (plan["vllm_version"], plan["variant"])
    assert plan["gpu_host"] is True


def test_plan_is_unhashed_from_the_mirror(plan):
    assert plan["require_hashes"] is False and plan["lock"] is None
    assert plan["requirements"][0].startswith("vllm")
    assert plan["requirements"][1] == "torch==" + plan["torch_version"]
    assert plan["index_url"] == "https://pypi.mirror.example.internal/simple"
    assert "https://pypi.mirror.example.internal/pytorch/whl/%s" % plan["variant"] in plan["extra_index_urls"]
    assert plan["pip_args"][:2] == ["--index-url", "https://pypi.mirror.example.internal/simple"]


def test_instances_by_uuid_with_tp_from_fit(plan, uuids):
    big, small = plan["instances"]
    assert big["env"]["CUDA_VISIBLE_DEVICES"] == ",".join(uuids[str(i)] for i in range(4))
    assert big["config"]["tensor-parallel-size"] == 4
    assert big["config"]["max-model-len"] == 32768
    assert big["config"]["model"] == "/srv/models/llama-70b"
    assert big["config"]["gpu-memory-utilization"] == 0.92
    assert big["config"]["enable-prefix-caching"] is True
    assert small["env"]["CUDA_VISIBLE_DEVICES"] == "GPU-6cc98505-fdde-461e-a93c-6935fba45a27"
    assert small["config"]["tensor-parallel-size"] == 1
    assert small["config"]["swap-space"] == 4
    assert small["api_key"] is True


def test_plan_never_holds_the_api_key(host):
    assert "plan-only-not-a-secret" not in host.file("/root/vllm-plan.yml").content_string
    assert host.file("/root/vllm-plan.yml").mode == 0o600


def test_nothing_was_installed(host):
    assert not host.file("/opt/onprem-llm").exists
    assert not host.file("/etc/onprem-llm").exists
    assert not host.file("/etc/systemd/system/vllm@.service").exists
    assert not host.user("vllm").exists
