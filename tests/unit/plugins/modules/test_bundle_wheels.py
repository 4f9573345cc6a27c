# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""onprem.llm.bundle_wheels through main(), with the real pip: wheels of a lock downloaded from an
index (a local --find-links directory standing in for PyPI), kept on a rerun, linked from an earlier
wheelhouse instead of downloaded, removed when no lock lists them, refused on a wrong hash; check
mode changes nothing."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.onprem.llm.plugins.modules import bundle_wheels

LOCK_NAME = "demo-1.0-cpu-cp311-manylinux_2_34_x86_64.txt"


def make_wheel(directory, name, version):
    """A real, minimal wheel (dist-info with METADATA, WHEEL and RECORD), as pip reads it."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / ("%s-%s-py3-none-any.whl" % (name, version))
    info = "%s-%s.dist-info" % (name, version)
    files = {
        "%s/__init__.py" % name: "VERSION = %r\n" % version,
        "%s/METADATA" % info: "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version),
        "%s/WHEEL" % info: "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in files.items():
            data = text.encode()
            archive.writestr(member, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append("%s,sha256=%s,%d" % (member, digest, len(data)))
        record.append("%s/RECORD,," % info)
        archive.writestr("%s/RECORD" % info, "\n".join(record) + "\n")
    return path


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_lock(directory, wheels):
    lock = directory / LOCK_NAME
    lock.write_text("# demo lock\n" + "".join(
        "%s==%s \\\n    --hash=sha256:%s\n" % (name, version, sha256(path)) for name, version, path in wheels))
    return lock


@pytest.fixture
def index(tmp_path):
    root = tmp_path / "index"
    return [("alpha", "1.0", make_wheel(root, "alpha", "1.0")), ("beta", "2.0", make_wheel(root, "beta", "2.0"))]


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            bundle_wheels.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)


def _args(tmp_path, lock, **more):
    args = {"dest": str(tmp_path / "wheels"), "locks": [str(lock)],
            "pip_args": ["--no-index", "--find-links", str(tmp_path / "index")]}
    args.update(more)
    return args


def test_downloads_the_wheels_of_a_lock_then_keeps_them(tmp_path, index, capsys):
    lock = write_lock(tmp_path, index)
    code, out = run(_args(tmp_path, lock), capsys)
    assert code == 0, out
    assert out["changed"] is True and out["wheels"] == 2
    assert out["downloaded"] == ["alpha", "beta"] and out["linked"] == [] and out["removed"] == []
    got = {path.name: sha256(path) for path in (tmp_path / "wheels").iterdir()}
    assert got == {path.name: sha256(path) for _name, _version, path in index}
    code, again = run(_args(tmp_path, lock), capsys)
    assert code == 0 and again["changed"] is False and again["downloaded"] == []


def test_check_mode_reports_the_downloads_and_writes_nothing(tmp_path, index, capsys):
    lock = write_lock(tmp_path, index)
    code, out = run(_args(tmp_path, lock, _ansible_check_mode=True), capsys)
    assert code == 0 and out["changed"] is True and out["downloaded"] == ["alpha", "beta"]
    assert not (tmp_path / "wheels").exists()


def test_an_earlier_wheelhouse_is_linked_instead_of_downloaded(tmp_path, index, capsys):
    lock = write_lock(tmp_path, index)
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / index[0][2].name).write_bytes(index[0][2].read_bytes())
    code, out = run(_args(tmp_path, lock, sources=[str(earlier)]), capsys)
    assert code == 0, out
    assert out["linked"] == [index[0][2].name] and out["downloaded"] == ["beta"]
    assert sha256(tmp_path / "wheels" / index[0][2].name) == sha256(index[0][2])


def test_a_wheel_no_lock_lists_is_removed(tmp_path, index, capsys):
    run(_args(tmp_path, write_lock(tmp_path, index)), capsys)
    code, out = run(_args(tmp_path, write_lock(tmp_path, index[:1])), capsys)
    assert code == 0 and out["changed"] is True
    assert out["removed"] == [index[1][2].name]
    assert sorted(path.name for path in (tmp_path / "wheels").iterdir()) == [index[0][2].name]


def test_a_wheel_that_does_not_match_its_hash_fails_and_nothing_is_placed(tmp_path, index, capsys):
    lock = write_lock(tmp_path, index)
    make_wheel(tmp_path / "other", "beta", "2.0")
    index[1][2].write_bytes((tmp_path / "other" / index[1][2].name).read_bytes() + b"changed")
    code, out = run(_args(tmp_path, lock), capsys)
    assert code == 1 and out["failed"] is True
    assert out["msg"].startswith("pip download for %s failed: " % LOCK_NAME)
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in out["msg"]
    assert not any((tmp_path / "wheels").glob("*.whl"))


def test_a_lock_whose_name_names_no_target_is_refused(tmp_path, index, capsys):
    lock = write_lock(tmp_path, index)
    renamed = lock.with_name("demo.txt")
    lock.rename(renamed)
    code, out = run(_args(tmp_path, renamed), capsys)
    assert code == 1
    assert out["msg"] == ("lock %s: lock name 'demo.txt' is not <package>-<version>-<variant>-cp<XY>-<platform>.txt"
                          % renamed)
