"""Pytest plugin for Molecule verify steps: run testinfra against the scenario's containers.

Loaded by the base config (``PYTEST_ADDOPTS=-p onprem_testinfra``). Molecule's podman driver gives
hosts ``ansible_connection: podman``, which testinfra does not map, so it would run every command
as a separate Ansible invocation. Here each test module's hosts become ``podman://<name>``
(``podman exec``), taken from the Molecule inventory unless the module sets ``testinfra_hosts``
(plain names or specs). The ``host_vars`` fixture gives the host's merged inventory variables,
so tests can branch on e.g. ``onprem_lab_gpu_profile``.
"""

import json
import os
import subprocess

import pytest


def _inventory():
    inventory = os.environ.get("MOLECULE_INVENTORY_FILE")
    if not inventory:
        return {}
    out = subprocess.run(
        ["ansible-inventory", "-i", inventory, "--list"],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "ANSIBLE_VERBOSITY": "0"},
    ).stdout
    return json.loads(out).get("_meta", {}).get("hostvars", {})


_HOSTVARS = None


def _hostvars():
    global _HOSTVARS  # computed once per pytest run, only when a test needs it
    if _HOSTVARS is None:
        _HOSTVARS = _inventory()
    return _HOSTVARS


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc):
    """Point testinfra's own parametrisation (which runs after this hook) at podman:// hosts."""
    if "_testinfra_host" not in metafunc.fixturenames or metafunc.config.option.hosts is not None:
        return
    names = getattr(metafunc.module, "testinfra_hosts", None) or sorted(_hostvars())
    metafunc.module.testinfra_hosts = [n if "://" in n else f"podman://{n}" for n in names]


@pytest.fixture(scope="module")
def host_vars(host):
    """Inventory variables of the host under test (group and host vars merged by Ansible)."""
    return _hostvars().get(host.backend.get_hostname(), {})
