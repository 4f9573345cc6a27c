"""Verify the vllm plan-only node of molecule/gpu_preflight: the plan the vllm role wrote on an 8x A100 node, and that it
installed nothing."""

import hashlib
from pathlib import Path

import pytest
import yaml

LOCKS = Path(__file__).resolve().parents[3] / "data" / "vllm-locks"

testinfra_hosts = ["bookworm-a100x8"]


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


def test_unhashed_plan_installs_the_requirements(plan):
    venv = plan["venv"]
    assert plan["pip_install"][:4] == [venv + "/bin/python", "-m", "pip", "install"]
    assert "--require-hashes" not in plan["pip_install"]
    assert plan["pip_install"][-len(plan["pip_args"]) - 2:] == plan["requirements"] + plan["pip_args"]


@pytest.fixture(scope="module")
def plan_r580(host):
    return yaml.safe_load(host.file("/root/vllm-plan-r580.yml").content_string)


def test_plan_for_r580_uses_the_shipped_cuda_lock_with_hashes(plan_r580):
    lock = "vllm-0.29.0-cu130-cp311-manylinux_2_34_x86_64.txt"
    assert (plan_r580["vllm_version"], plan_r580["variant"], plan_r580["cuda_version"]) == ("0.29.0", "cu130", "13.0")
    assert plan_r580["require_hashes"] is True and plan_r580["requirements"] == []
    assert plan_r580["lock"] == lock
    # The role hashes the lock as the file lookup reads it (trailing newline stripped).
    text = (LOCKS / lock).read_text(encoding="utf-8").rstrip()
    assert plan_r580["lock_sha256"] == hashlib.sha256(text.encode("utf-8")).hexdigest()
    cmd = plan_r580["pip_install"]
    assert cmd[:4] == ["/opt/onprem-llm/vllm/0.29.0-cu130/bin/python", "-m", "pip", "install"]
    start = cmd.index("--no-deps")
    assert cmd[start:start + 4] == ["--no-deps", "--require-hashes", "-r", "/opt/onprem-llm/vllm/locks/" + lock]
    assert cmd[start + 4:start + 6] == ["--index-url", "https://pypi.mirror.example.internal/simple"]


@pytest.fixture(scope="module")
def plan_r535(host):
    return yaml.safe_load(host.file("/root/vllm-plan-r535.yml").content_string)


def test_plan_for_r535_takes_the_newest_build_with_a_shipped_lock(plan_r535):
    lock = "vllm-0.11.0-cu128-cp311-manylinux_2_28_x86_64.txt"
    assert (plan_r535["vllm_version"], plan_r535["variant"], plan_r535["cuda_version"]) == ("0.11.0", "cu128", "12.8")
    assert plan_r535["torch_version"] == "2.8.0"
    assert plan_r535["require_hashes"] is True and plan_r535["lock"] == lock
    assert "0.26.0 (cu129) is newer but no lock ships for it" in plan_r535["reason"]
    cmd = plan_r535["pip_install"]
    start = cmd.index("--no-deps")
    assert cmd[start:start + 4] == ["--no-deps", "--require-hashes", "-r", "/opt/onprem-llm/vllm/locks/" + lock]


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
