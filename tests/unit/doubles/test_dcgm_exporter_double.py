# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The double of NVIDIA's DCGM packages (tests/doubles/dcgm_exporter_double): the repository it builds
is one apt reads, the exporter's files sit where NVIDIA's packaging puts them, and its exporter answers
as dcgm-exporter does, from the nvidia-smi double."""

import hashlib
import os
import pathlib
import re
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
DOUBLE_DIR = ROOT / "tests" / "doubles" / "dcgm_exporter_double"
SMI_DOUBLE = ROOT / "tests" / "doubles" / "nvidia_smi_double.py"
COUNTERS = ROOT / "tests" / "fixtures" / "dcgm-exporter" / "default-counters.csv"
T4 = ROOT / "tests" / "fixtures" / "nvidia-smi" / "tesla-t4_driver515_1gpu.xml"


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    out = tmp_path_factory.mktemp("repo")
    subprocess.run([sys.executable, str(DOUBLE_DIR / "build_repo.py"), "--out", str(out)], check=True,
                   stdout=subprocess.DEVNULL)
    return out


def _stanzas(repo):
    return [dict(line.split(": ", 1) for line in stanza.splitlines())
            for stanza in (repo / "Packages").read_text().strip().split("\n\n")]


def test_the_index_names_nvidias_packages_with_sizes_and_hashes_apt_checks(repo):
    stanzas = _stanzas(repo)
    assert [s["Package"] for s in stanzas] == [
        "datacenter-gpu-manager-4-core", "datacenter-gpu-manager-4-proprietary", "datacenter-gpu-manager-exporter"]
    exporter = stanzas[2]
    assert exporter["Version"] == "4.8.2-1" and exporter["Depends"].startswith("datacenter-gpu-manager-4-core (>= 1:4)")
    for stanza in stanzas:
        data = (repo / stanza["Filename"]).read_bytes()
        assert int(stanza["Size"]) == len(data) and stanza["SHA256"] == hashlib.sha256(data).hexdigest()


def test_the_exporter_package_lays_out_its_files_as_nvidias_packaging_does(repo, tmp_path):
    subprocess.run(["dpkg-deb", "-x", str(repo / "datacenter-gpu-manager-exporter_4.8.2-1_all.deb"), str(tmp_path)],
                   check=True)
    assert (tmp_path / "etc/dcgm-exporter/default-counters.csv").read_bytes() == COUNTERS.read_bytes()
    unit = (tmp_path / "lib/systemd/system/nvidia-dcgm-exporter.service").read_text()
    assert "ExecStart=/usr/bin/dcgm-exporter -f /etc/dcgm-exporter/default-counters.csv\n" in unit
    binary = tmp_path / "usr/bin/dcgm-exporter"
    assert os.access(binary, os.X_OK) and binary.read_text().startswith("#!/usr/bin/python3\n")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _smi(tmp_path, mode):
    directory = tmp_path / "double"
    directory.mkdir()
    (directory / "nvidia-smi.xml").write_text(T4.read_text())
    (directory / "mode").write_text(mode + "\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "nvidia-smi"
    wrapper.write_text("#!/bin/sh\nONPREM_LLM_DOUBLE_DIR=%s exec %s %s \"$@\"\n" % (directory, sys.executable, SMI_DOUBLE))
    wrapper.chmod(0o755)
    return dict(os.environ, PATH="%s:%s" % (bin_dir, os.environ["PATH"]))


def test_it_serves_the_gpus_under_dcgm_exporters_names_and_labels_where_told(tmp_path):
    port = _free_port()
    env = dict(_smi(tmp_path, "ok"), DCGM_EXPORTER_LISTEN="127.0.0.1:%d" % port)
    proc = subprocess.Popen([sys.executable, str(DOUBLE_DIR / "dcgm_exporter_double.py"), "-f", str(COUNTERS)],
                            env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.time() + 30
        while True:
            try:
                body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=2).read().decode()
                break
            except OSError:
                assert time.time() < deadline and proc.poll() is None
                time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait()
    counters = set(re.findall(r"^(DCGM_FI_\w+)", COUNTERS.read_text(), re.MULTILINE))
    samples = [line for line in body.splitlines() if line and not line.startswith("#")]
    assert samples and {line.split("{")[0] for line in samples} <= counters
    temp = [line for line in samples if line.startswith("DCGM_FI_DEV_GPU_TEMP{")]
    assert len(temp) == 1 and temp[0].endswith("} 40")
    assert re.match(r'DCGM_FI_DEV_GPU_TEMP\{gpu="0",UUID="GPU-[0-9a-f-]+",pci_bus_id="00000000:00:1E.0",'
                    r'device="nvidia0",modelName="Tesla T4",hostname="[^"]+"\}', temp[0])
    assert "# TYPE DCGM_FI_DEV_GPU_TEMP gauge" in body


def test_it_does_not_start_without_a_driver(tmp_path):
    env = dict(_smi(tmp_path, "no_driver"), DCGM_EXPORTER_LISTEN="127.0.0.1:%d" % _free_port())
    run = subprocess.run([sys.executable, str(DOUBLE_DIR / "dcgm_exporter_double.py"), "-f", str(COUNTERS)],
                         env=env, capture_output=True, text=True, timeout=30, check=False)
    assert run.returncode == 1 and "DCGM initialization error" in run.stderr
