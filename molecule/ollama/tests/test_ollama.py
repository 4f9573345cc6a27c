# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Verify the ollama scenario: service, sandbox, pinned version, models, store permissions."""

import json
import re

testinfra_hosts = ["o-node1"]


def _api(host, path):
    out = host.check_output(
        "python3 -c \"import urllib.request,sys; print(urllib.request.urlopen('http://127.0.0.1:11434%s').read().decode())\"" % path)
    return json.loads(out)


def _main_pid(host):
    return host.check_output("systemctl show -p MainPID --value ollama.service").strip()


def test_service_runs_as_ollama_on_loopback(host):
    svc = host.service("ollama")
    assert svc.is_running and svc.is_enabled
    pid = _main_pid(host)
    assert host.check_output("ps -o user= -p %s" % pid).strip() == "ollama"
    listening = host.check_output("ss -Hltn 'sport = :11434'")
    assert "127.0.0.1:11434" in listening and "0.0.0.0:11434" not in listening


def test_hardening_score(host):
    out = host.check_output("systemd-analyze security --no-pager ollama.service")
    score = float(re.search(r"Overall exposure level for ollama.service:\s*([0-9.]+)", out).group(1))
    assert score <= 2.5, out


def test_pinned_version_and_layout(host, host_vars):
    assert _api(host, "/api/version")["version"] == host_vars["ollama_version"] == "0.20.0"
    assert host.file("/opt/onprem-llm/ollama/current").linked_to == "/opt/onprem-llm/ollama/0.20.0"
    assert host.file("/usr/local/bin/ollama").is_symlink
    assert host.check_output("ls /opt/onprem-llm/ollama/0.20.0/lib/ollama").split() == [
        "cuda_v12", "cuda_v13", "double-0.20.0.txt", "libggml-base.so", "libggml-cpu-x64.so"]
    assert "ollama version is 0.20.0" in host.check_output("ollama --version")


def test_environment_from_gpu_facts(host):
    env = host.check_output("tr '\\0' '\\n' < /proc/%s/environ" % _main_pid(host)).splitlines()
    env = dict(line.split("=", 1) for line in env if "=" in line)
    assert env["OLLAMA_HOST"] == "127.0.0.1:11434"
    assert re.match(r"^GPU-[0-9a-f-]{36}$", env["CUDA_VISIBLE_DEVICES"])
    assert env["OLLAMA_NUM_PARALLEL"] == "4"  # one T4, 15 GiB
    assert env["OLLAMA_FLASH_ATTENTION"] == "1"  # Turing, compute capability 7.5
    assert env["OLLAMA_MODELS"] == "/usr/share/ollama/.ollama/models"


def test_models_listed(host):
    names = sorted(m["name"] for m in _api(host, "/api/tags")["models"])
    assert names == ["acme/tiny-import:f16", "tinyllama-double:latest"]
    assert "acme/tiny-import:f16" in host.check_output("ollama list")


def test_models_dir_permissions(host):
    store = host.file("/usr/share/ollama/.ollama/models")
    assert store.user == "ollama" and store.group == "ollama" and store.mode == 0o750
    owners = host.check_output("find /usr/share/ollama/.ollama/models -printf '%u:%g\\n' | sort -u").split()
    assert owners == ["ollama:ollama"]
    unit = host.file("/etc/systemd/system/ollama.service.d/10-onprem-llm.conf")
    assert unit.mode == 0o600 and unit.user == "root"
