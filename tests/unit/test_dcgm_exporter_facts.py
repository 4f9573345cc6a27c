# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The monitoring role's dcgm-exporter path and the double of NVIDIA's packages, against NVIDIA/dcgm-exporter's
own files (tests/fixtures/dcgm-exporter, byte for byte at d5e5f51): the unit the packages install, the listen
variable, the DCGM packages paired with the exporter and their versions."""

import importlib.util
import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "dcgm-exporter"
ROLE = ROOT / "roles" / "monitoring"


def _module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BUILD = _module(ROOT / "tests" / "doubles" / "dcgm_exporter_double" / "build_repo.py", "dcgm_build_repo")
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
VARS = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
REAL_UNIT = (FIXTURES / "nvidia-dcgm-exporter.service").read_text()


def _unit_lines(text, keys):
    return [line for line in text.splitlines() if line.split("=", 1)[0] in keys]


def test_the_role_drops_in_on_the_unit_nvidias_packaging_installs():
    assert VARS["__monitoring_dcgm_unit"] + ".service" == "nvidia-dcgm-exporter.service"
    double_unit = BUILD.PACKAGES[2]["files"]["lib/systemd/system/nvidia-dcgm-exporter.service"][0]
    keys = ("User", "ExecStart", "Wants", "After", "WantedBy")
    assert _unit_lines(double_unit, keys) == _unit_lines(REAL_UNIT, keys)


def test_the_listen_variable_and_port_are_the_exporters():
    (daemonset,) = [doc for doc in yaml.safe_load_all((FIXTURES / "dcgm-exporter.yaml.txt").read_text())
                    if doc and doc.get("kind") == "DaemonSet"]
    env = {item["name"]: item.get("value") for item in daemonset["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["DCGM_EXPORTER_LISTEN"] == ":%d" % DEFAULTS["monitoring_dcgm_exporter_port"]
    drop_in = (ROLE / "tasks" / "dcgm_exporter.yml").read_text()
    assert "DCGM_EXPORTER_LISTEN:" in drop_in


def test_the_dcgm_packages_are_those_nvidias_exporter_image_installs():
    dockerfile = (FIXTURES / "Dockerfile.txt").read_text()
    installed = set(re.findall(r"\bdatacenter-gpu-manager-[\w-]+", dockerfile))
    assert set(DEFAULTS["monitoring_dcgm_packages"]) == installed
    assert [p["Package"] for p in BUILD.PACKAGES[:2]] == sorted(installed)


def test_the_doubles_versions_are_a_pair_nvidia_ships():
    daemonset = (FIXTURES / "dcgm-exporter.yaml.txt").read_text()
    dcgm, exporter = re.search(r"dcgm-exporter:(\d+\.\d+\.\d+)-(\d+\.\d+\.\d+)-", daemonset).groups()
    assert BUILD.DCGM_VERSION == "1:%s-1" % dcgm
    assert BUILD.EXPORTER_VERSION == "%s-1" % exporter
