"""sha256 manifests: parsing (JSON, real sha256sum output), hashing, verification."""

import hashlib
import json
import os
import subprocess

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.weights import WeightsError
from ansible_collections.onprem.llm.plugins.module_utils.weights import manifest as mf

A = "a" * 64
B = "B" * 64


@pytest.fixture
def files(tmp_path):
    d = tmp_path / "model"
    (d / "sub").mkdir(parents=True)
    content = {
        "config.json": b'{"model_type": "llama"}',
        "model.safetensors": os.urandom(3 * 1024 * 1024 + 17),
        "sub/empty.bin": b"",
    }
    for name, data in content.items():
        (d / name).write_bytes(data)
    return str(d), dict((k, hashlib.sha256(v).hexdigest()) for k, v in content.items()), content


@pytest.mark.parametrize("bufsize", [None, 4093, 1024 * 1024, 16 * 1024 * 1024])
def test_sha256_file(files, bufsize):
    d, digests, _content = files
    for name, digest in digests.items():
        assert mf.sha256_file(os.path.join(d, name), bufsize) == digest


def test_sha256_file_tiny_buffer(files):
    d, digests, _content = files
    assert mf.sha256_file(os.path.join(d, "config.json"), 1) == digests["config.json"]


def test_sha256_file_loop_without_file_digest(files, monkeypatch):
    """The readinto loop is what Python 3.9/3.10 nodes run."""
    d, digests, _content = files
    monkeypatch.delattr(hashlib, "file_digest", raising=False)
    assert mf.sha256_file(os.path.join(d, "model.safetensors")) == digests["model.safetensors"]


def test_parse_json():
    text = json.dumps({"files": [{"path": "./a/b.safetensors", "size": 10, "sha256": B},
                                 {"path": "config.json"}]})
    assert mf.parse_manifest(text) == [{"path": "a/b.safetensors", "size": 10, "sha256": B.lower()},
                                       {"path": "config.json", "size": None, "sha256": None}]
    assert mf.parse_manifest(json.dumps([{"path": "x", "sha256": A}])) == [{"path": "x", "size": None, "sha256": A}]


def test_parse_real_sha256sum_output(files, tmp_path):
    d, digests, _content = files
    names = sorted(digests)
    for args in (["sha256sum"], ["sha256sum", "--binary"], ["sha256sum", "--tag"]):
        out = subprocess.run(args + names, cwd=d, check=True, capture_output=True, text=True).stdout
        entries = mf.parse_manifest(out)
        assert entries == [{"path": n, "size": None, "sha256": digests[n]} for n in names], args


def test_parse_sha256sum_escaped_name(tmp_path):
    (tmp_path / "we\\ird.bin").write_bytes(b"x")
    out = subprocess.run(["sha256sum", "we\\ird.bin"], cwd=str(tmp_path), check=True, capture_output=True,
                         text=True).stdout
    assert out.startswith("\\")
    assert mf.parse_manifest(out) == [{"path": "we\\ird.bin", "size": None, "sha256": hashlib.sha256(b"x").hexdigest()}]


def test_comments_and_blank_lines():
    assert mf.parse_manifest("# made by hand\n\n%s  a.gguf\r\n" % A) == [{"path": "a.gguf", "size": None, "sha256": A}]


@pytest.mark.parametrize("text,message", [
    ("{oops", "m: not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
    ('{"items": []}', 'm: expected {"files": [{"path", "size", "sha256"}, ...]}'),
    ('{"files": [{"size": 1}]}', "m: files[0] is not an object with a 'path'"),
    ('{"files": [{"path": "/etc/passwd"}]}', "m: absolute path '/etc/passwd' is not allowed (paths are relative to the "
                                             "model directory)"),
    ('{"files": [{"path": "a/../../x"}]}', "m: path 'a/../../x' leaves the model directory ('..' is not allowed)"),
    ('{"files": [{"path": ""}]}', "m: entry with an empty or non-string path: ''"),
    ('{"files": [{"path": "./"}]}', "m: entry with an empty path: './'"),
    ('{"files": [{"path": "a", "size": -1}]}', "m: a: size must be a non-negative integer, got -1"),
    ('{"files": [{"path": "a", "size": "12"}]}', "m: a: size must be a non-negative integer, got '12'"),
    ('{"files": [{"path": "a", "sha256": "abc"}]}', "m: a: sha256 must be 64 hex digits, got 'abc'"),
    ('{"files": [{"path": "a"}, {"path": "./a"}]}', "m: a is listed twice"),
    ("%s  a\nnot a line\n" % A, "m: line 2 is neither '<sha256>  <path>' nor 'SHA256 (<path>) = <sha256>': 'not a line'"),
])
def test_parse_errors(text, message):
    with pytest.raises(WeightsError) as err:
        mf.parse_manifest(text, source="m")
    assert str(err.value) == message


def test_load_manifest(tmp_path):
    p = tmp_path / "m.json"
    p.write_bytes(b"\xef\xbb\xbf" + json.dumps({"files": [{"path": "a", "size": 1}]}).encode())
    assert mf.load_manifest(str(p)) == [{"path": "a", "size": 1, "sha256": None}]
    missing = str(tmp_path / "none.json")
    with pytest.raises(WeightsError) as err:
        mf.load_manifest(missing)
    assert str(err.value) == "manifest %s: cannot be read: No such file or directory" % missing
    p.write_bytes(b"\xff\xfe")
    with pytest.raises(WeightsError, match=r"^manifest .*m\.json: not UTF-8 text"):
        mf.load_manifest(str(p))


def test_dump_round_trip():
    entries = [{"path": "b", "size": 2, "sha256": B}, {"path": "a", "size": None, "sha256": None}]
    text = mf.dump_manifest(entries)
    assert json.loads(text) == {"files": [{"path": "a"}, {"path": "b", "size": 2, "sha256": B.lower()}]}
    assert mf.parse_manifest(text) == [{"path": "a", "size": None, "sha256": None},
                                       {"path": "b", "size": 2, "sha256": B.lower()}]


def test_check_file(files):
    d, digests, content = files
    p = os.path.join(d, "model.safetensors")
    size = len(content["model.safetensors"])
    assert mf.check_file(p, size, digests["model.safetensors"]) == {
        "size": size, "sha256": digests["model.safetensors"], "problem": None}
    # size only: never reads the data
    assert mf.check_file(p, size) == {"size": size, "sha256": None, "problem": None}
    assert mf.check_file(p, size, A, hash_file=False)["problem"] is None
    r = mf.check_file(p, size + 1, A)
    assert r == {"size": size, "sha256": None,
                 "problem": "%s: size %d bytes, expected %d (incomplete download?)" % (p, size, size + 1)}
    assert mf.check_file(p, size - 1)["problem"] == "%s: size %d bytes, expected %d (larger than expected)" % (
        p, size, size - 1)
    assert mf.check_file(p, None, A)["problem"] == "%s: sha256 %s, expected %s" % (p, digests["model.safetensors"], A)
    assert mf.check_file(os.path.join(d, "nope"))["problem"] == "%s: missing" % os.path.join(d, "nope")
    assert mf.check_file(os.path.join(d, "sub"))["problem"] == "%s: not a regular file" % os.path.join(d, "sub")


def test_verify_manifest(files):
    d, digests, content = files
    entries = [{"path": n, "size": len(content[n]), "sha256": digests[n]} for n in sorted(content)]
    results = mf.verify_manifest(d, entries)
    assert [r["problem"] for r in results] == [None, None, None]
    assert [r["sha256"] for r in results] == [digests[n] for n in sorted(content)]
    mf.raise_for_problems(results, d)
    assert [r["sha256"] for r in mf.verify_manifest(d, entries, hash_files=False)] == [None, None, None]

    entries[0]["sha256"] = A
    entries[1]["size"] = 1
    entries.append({"path": "gone.safetensors", "size": 5, "sha256": None})
    results = mf.verify_manifest(d, entries)
    problems = ["config.json: sha256 %s, expected %s" % (digests["config.json"], A),
                "model.safetensors: size %d bytes, expected 1 (larger than expected)" % len(content["model.safetensors"]),
                "gone.safetensors: missing"]
    assert [r["problem"] for r in results] == problems[:2] + [None] + problems[2:]
    assert [r["path"] for r in results] == ["config.json", "model.safetensors", "sub/empty.bin", "gone.safetensors"]
    with pytest.raises(WeightsError) as err:
        mf.raise_for_problems(results, d)
    assert err.value.problems == problems
    assert str(err.value) == "manifest check failed in %s: %s" % (d, "; ".join(problems))
