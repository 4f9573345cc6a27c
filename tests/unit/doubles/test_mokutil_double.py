# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mokutil double (tests/doubles/mokutil_double.py) answers as mokutil 0.6.0 prints: Secure Boot's
state, a key not enrolled, queued by --import (two matching passwords) and enrolled once the console
confirmed it."""

import pathlib
import subprocess
import sys

import pytest

DOUBLE = pathlib.Path(__file__).resolve().parents[2] / "doubles" / "mokutil_double.py"


@pytest.fixture
def mokutil(tmp_path):
    def run(*args, stdin=""):
        return subprocess.run([sys.executable, str(DOUBLE)] + list(args), input=stdin, capture_output=True,
                              text=True, env={"ONPREM_LLM_DOUBLE_DIR": str(tmp_path)}, check=False)
    (tmp_path / "mok").mkdir()
    return run


def test_secure_boot_state_follows_the_state_file(mokutil, tmp_path):
    assert mokutil("--sb-state").stdout == "SecureBoot disabled\n"
    (tmp_path / "mok" / "sb_state").write_text("enabled\n")
    assert mokutil("--sb-state").stdout == "SecureBoot enabled\n"


def test_a_key_goes_from_not_enrolled_to_requested_to_enrolled(mokutil, tmp_path):
    cert = tmp_path / "mok.pub"
    cert.write_bytes(b"\x30\x82 a DER certificate")
    assert mokutil("--test-key", str(cert)).stdout == "%s is not enrolled\n" % cert
    refused = mokutil("--import", str(cert), stdin="one\ntwo\n")
    assert refused.returncode != 0 and mokutil("--test-key", str(cert)).stdout == "%s is not enrolled\n" % cert
    queued = mokutil("--import", str(cert), stdin="pw\npw\n")
    assert queued.returncode == 0 and queued.stdout == "input password: input password again: "
    assert mokutil("--test-key", str(cert)).stdout == "%s is already in the enrollment request\n" % cert
    assert mokutil("--onprem-double-reboot-and-confirm").returncode == 0
    assert mokutil("--test-key", str(cert)).stdout == "%s is already enrolled\n" % cert
    other = tmp_path / "other.pub"
    other.write_bytes(b"another certificate")
    assert mokutil("--test-key", str(other)).stdout == "%s is not enrolled\n" % other


def test_a_missing_certificate_is_an_error(mokutil, tmp_path):
    result = mokutil("--test-key", str(tmp_path / "nowhere.pub"))
    assert result.returncode == 255 and "Failed to open" in result.stderr and result.stdout == ""
