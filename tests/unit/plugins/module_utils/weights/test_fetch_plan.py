# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/weights/fetch_plan.py: paths and patterns, ranges and responses, what to trust,
fetch or resume, disk space and the summary; pure, no I/O."""

from __future__ import annotations

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.weights import fetch_plan as fp

SPEC = {"path": "m.bin", "size": 100, "sha256": "a" * 64, "git_sha1": None}


@pytest.mark.parametrize("path, norm", [("a.json", "a.json"), ("d/./x.bin", "d/x.bin"), ("d//x", "d/x")])
def test_safe_relpath_normalises(path, norm):
    assert fp.safe_relpath(path) == norm


@pytest.mark.parametrize("path", ["", "/etc/passwd", "../x", "a/../../x", "a\x00b", ".partial/x", ".onprem-verified.json", "a\\b"])
def test_safe_relpath_refuses(path):
    with pytest.raises(ValueError):
        fp.safe_relpath(path)


def test_match_patterns_like_snapshot_download():
    assert fp.match_patterns("model.safetensors", ["*.safetensors"], None)
    assert not fp.match_patterns("model.bin", ["*.safetensors"], None)
    assert fp.match_patterns("onnx/model.onnx", ["onnx/"], None)
    assert not fp.match_patterns("onnx/model.onnx", None, ["onnx/"])
    assert fp.match_patterns("x", None, None)


def test_range_header():
    assert fp.range_header(0) is None
    assert fp.range_header(1234) == "bytes=1234-"


@pytest.mark.parametrize("value, parsed", [
    ("bytes 10-99/100", (10, 99, 100)), ("bytes */100", (None, None, 100)), (None, (None, None, None)),
    ("items 1-2/3", (None, None, None)), ("bytes 5-x/10", (None, None, 10)),
])
def test_parse_content_range(value, parsed):
    assert fp.parse_content_range(value) == parsed


def test_decide_response():
    assert fp.decide_response(206, 10, "bytes 10-99/100", 100) == ("append", 10)
    assert fp.decide_response(206, 10, "bytes 0-99/100", 100) == ("reset", 0)
    assert fp.decide_response(200, 0, None, 100) == ("append", 0)
    assert fp.decide_response(200, 50, None, 100) == ("restart", 0)  # Range ignored
    assert fp.decide_response(416, 50, "bytes */100", 100) == ("reset", 0)
    with pytest.raises(fp.VerificationError):
        fp.decide_response(206, 10, "bytes 10-99/120", 100)
    with pytest.raises(fp.RemoteNotFound):
        fp.decide_response(404, 0, None, 100)
    with pytest.raises(fp.TransientError):
        fp.decide_response(503, 0, None, 100)
    with pytest.raises(fp.TransientError):
        fp.decide_response(429, 0, None, 100)
    with pytest.raises(fp.FetchError):
        fp.decide_response(403, 0, None, 100)


def test_backoff_grows_and_caps():
    assert [fp.backoff_delay(i) for i in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert fp.backoff_delay(20) == 30.0


def test_entry_trusted():
    entry = {"path": "m.bin", "size": 100, "sha256": "a" * 64, "mtime_ns": 5}
    assert fp.entry_trusted(entry, SPEC, 100, 5)
    assert not fp.entry_trusted(entry, SPEC, 100, 6)  # touched since verification
    assert not fp.entry_trusted(entry, dict(SPEC, sha256="b" * 64), 100, 5)  # new revision
    assert not fp.entry_trusted(None, SPEC, 100, 5)
    g = {"path": "c", "size": 3, "sha256": None, "git_sha1": "f" * 40}
    assert fp.entry_trusted({"size": 3, "mtime_ns": 1, "git_sha1": "f" * 40}, g, 3, 1)
    assert not fp.entry_trusted({"size": 3, "mtime_ns": 1, "git_sha1": "e" * 40}, g, 3, 1)


def test_plan_files_and_bytes_needed():
    specs = [dict(SPEC, path="a"), dict(SPEC, path="b"), dict(SPEC, path="c"), dict(SPEC, path="d"), dict(SPEC, path="e")]
    on_disk = {"a": (100, 1), "b": (100, 2), "c": (7, 3)}
    verified = {"a": {"size": 100, "sha256": "a" * 64, "mtime_ns": 1}}
    meta = {"size": 100, "sha256": "a" * 64, "git_sha1": None}
    partials = {"d": (40, meta), "e": (40, dict(meta, sha256="b" * 64))}
    plan = fp.plan_files(specs, on_disk, partials, verified)
    assert [(i["spec"]["path"], i["state"], i["offset"]) for i in plan] == [
        ("a", "present", 0), ("b", "verify", 0), ("c", "fetch", 0), ("d", "fetch", 40), ("e", "fetch", 0)]
    assert fp.bytes_needed(plan) == 100 + 60 + 100


def test_usable_partial_oversize():
    assert fp.usable_partial(SPEC, (150, None)) == 0
    assert fp.usable_partial(SPEC, (100, None)) == 100


def test_check_free_space():
    fp.check_free_space(100, 100, "/d")
    with pytest.raises(fp.DiskSpaceError, match="100 bytes still to fetch.*99 bytes free"):
        fp.check_free_space(100, 99, "/d")
    with pytest.raises(fp.DiskSpaceError, match="reserve"):
        fp.check_free_space(100, 150, "/d", reserve=60)


def test_summarise():
    r = [{"action": "present"}, {"action": "resumed", "bytes_downloaded": 5, "resumed_from": 10}]
    assert fp.summarise(r) == {"bytes_downloaded": 5, "bytes_resumed_from": 10, "changed": True}
    assert fp.summarise([{"action": "present"}])["changed"] is False


def test_out_of_space_message_says_gib_when_that_much_is_missing():
    text = fp.out_of_space_message("/srv/m/.store/x", "a.bin", 10, 3 << 30, 3 << 30, 1 << 29)
    assert "(2.5 GiB short)" in text and "3221225472 bytes still to fetch, 536870912 bytes free" in text
    assert "(0.0 MiB short)" in fp.out_of_space_message("/d", "a", 0, 5, 5, 10)
