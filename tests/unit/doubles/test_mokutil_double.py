# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The mokutil double (tests/doubles/mokutil_double.py) answers as mokutil 0.6.0 prints: Secure Boot's
state, a key not enrolled, queued by --import (two matching passwords) and enrolled once the console
confirmed it."""

import hashlib
import io
import os
import pathlib
import subprocess
import sys
import tarfile
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
DOUBLE = ROOT / "tests" / "doubles" / "mokutil_double.py"


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


# Debian 12's mokutil, fetched once per machine from the archive's pool (ONPREM_DEBIAN_MIRROR points
# elsewhere) and checked against the archive index's SHA-256: the double's messages, and the one the
# nvidia_driver role reads ("is already enrolled"), must be the program's own.
MOKUTIL_DEB = "mokutil_0.6.0-2_amd64.deb"
MOKUTIL_SHA256 = "54629460afdedd99d7fdafe2cb6ad4d419268edbca10959511d2b1903621963e"
CACHE = ROOT / ".cache" / "debian-debs"


def _real_mokutil():
    deb = CACHE / MOKUTIL_DEB
    if not deb.exists():
        mirror = os.environ.get("ONPREM_DEBIAN_MIRROR", "http://deb.debian.org/debian").rstrip("/")
        with urllib.request.urlopen("%s/pool/main/m/mokutil/%s" % (mirror, MOKUTIL_DEB),  # noqa: S310
                                    timeout=120) as response:
            data = response.read()
        CACHE.mkdir(parents=True, exist_ok=True)
        part = deb.with_suffix(".part")
        part.write_bytes(data)
        part.replace(deb)
    data = deb.read_bytes()
    assert hashlib.sha256(data).hexdigest() == MOKUTIL_SHA256
    tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        return archive.extractfile("./usr/bin/mokutil").read()


def test_the_doubles_messages_are_mokutils_own():
    binary = _real_mokutil()
    for message in (b"SecureBoot enabled", b"SecureBoot disabled", b"%s is not enrolled",
                    b"%s is already enrolled", b"%s is already in the enrollment request",
                    b"input password: ", b"input password again: "):
        assert message in binary, message
    tasks = ROOT / "roles" / "nvidia_driver" / "tasks"
    assert "'is already enrolled' in" in (tasks / "secure_boot_mok.yml").read_text()
    assert "'SecureBoot enabled' in" in (tasks / "main.yml").read_text()
