# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""onprem.llm.bundle_manifest through main(): a manifest sha256sum itself accepts, verification that
names what differs, the model manifest, and check mode writing nothing."""

from __future__ import annotations

import hashlib
import json
import subprocess

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.onprem.llm.plugins.modules import bundle_manifest


def run(args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            bundle_manifest.main()
    return exit_info.value.code, json.loads(capsys.readouterr().out)


@pytest.fixture
def bundle(tmp_path):
    root = tmp_path / "bundle"
    (root / "apt" / "bookworm").mkdir(parents=True)
    (root / "apt" / "bookworm" / "zstd_1.5.4_amd64.deb").write_bytes(b"deb bytes")
    (root / "wheels").mkdir()
    (root / "wheels" / "a-1.0-py3-none-any.whl").write_bytes(b"wheel bytes" * 100)
    (root / ".partial").write_text("left out")
    return root


def test_present_writes_a_manifest_sha256sum_checks(bundle, capsys):
    code, out = run({"path": str(bundle)}, capsys)
    assert code == 0 and out["changed"] is True and out["files"] == 2
    check = subprocess.run(["sha256sum", "-c", "--strict", "MANIFEST.sha256"], cwd=str(bundle),
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert ".partial" not in (bundle / "MANIFEST.sha256").read_text()
    code, again = run({"path": str(bundle)}, capsys)
    assert code == 0 and again["changed"] is False


def test_check_mode_reports_the_change_and_writes_nothing(bundle, capsys):
    code, out = run({"path": str(bundle), "_ansible_check_mode": True}, capsys)
    assert code == 0 and out["changed"] is True
    assert not (bundle / "MANIFEST.sha256").exists()


def test_verify_names_the_changed_missing_and_unlisted_files(bundle, capsys):
    run({"path": str(bundle)}, capsys)
    code, out = run({"path": str(bundle), "state": "verify"}, capsys)
    assert code == 0 and out["changed"] is False
    (bundle / "wheels" / "a-1.0-py3-none-any.whl").write_bytes(b"tampered")
    (bundle / "apt" / "bookworm" / "zstd_1.5.4_amd64.deb").unlink()
    (bundle / "wheels" / "b-2.0-py3-none-any.whl").write_bytes(b"new")
    code, out = run({"path": str(bundle), "state": "verify"}, capsys)
    assert code == 1
    assert out["changed_files"] == ["wheels/a-1.0-py3-none-any.whl"]
    assert out["missing"] == ["apt/bookworm/zstd_1.5.4_amd64.deb"]
    assert out["unlisted"] == ["wheels/b-2.0-py3-none-any.whl"]
    assert "does not match MANIFEST.sha256" in out["msg"]


def test_verify_without_a_manifest_fails(bundle, capsys):
    code, out = run({"path": str(bundle), "state": "verify"}, capsys)
    assert code == 1 and out["msg"] == "%s: no MANIFEST.sha256" % bundle


def test_the_model_manifest_lists_size_and_sha256_of_every_file(bundle, capsys):
    code, out = run({"path": str(bundle), "state": "model", "revision": "r2"}, capsys)
    assert code == 0 and out["changed"] is True
    doc = json.loads((bundle / "manifest.json").read_text())
    wheel = bundle / "wheels" / "a-1.0-py3-none-any.whl"
    entries = {e["path"]: e for e in doc["files"]}
    assert entries["wheels/a-1.0-py3-none-any.whl"]["size"] == wheel.stat().st_size
    assert entries["wheels/a-1.0-py3-none-any.whl"]["sha256"] == hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert doc["revision"] == "r2"


def test_a_path_that_is_not_a_directory_fails(tmp_path, capsys):
    code, out = run({"path": str(tmp_path / "none")}, capsys)
    assert code == 1 and out["msg"].endswith("is not a directory")
