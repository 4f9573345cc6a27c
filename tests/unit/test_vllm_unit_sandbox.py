"""Both vLLM units take their systemd sandbox from one template (roles/vllm/templates/sandbox.conf.j2).

The rendered units are checked in the scenarios (molecule/vllm_cpu: `systemd-analyze security`, the
unit's properties; molecule/vllm_ray); this test keeps the sandbox in one place: each unit includes
it where its [Service] section ends, and neither sets a sandbox directive of its own.
"""

from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "roles" / "vllm" / "templates"
SANDBOX = TEMPLATES / "sandbox.conf.j2"
INCLUDE = "{% include 'sandbox.conf.j2' %}"


def _directives(text):
    return {line.split("=", 1)[0] for line in text.splitlines() if "=" in line and not line.startswith(("#", "{"))}


@pytest.mark.parametrize("unit", ["vllm@.service.j2", "vllm-ray.service.j2"])
def test_each_unit_includes_the_one_sandbox(unit):
    text = (TEMPLATES / unit).read_text()
    assert text.count(INCLUDE) == 1
    service, install = text.split("\n[Install]\n")
    assert service.rstrip().endswith(INCLUDE), "the sandbox must close the [Service] section"
    sandbox_only = _directives(SANDBOX.read_text()) - {"DeviceAllow"}
    assert not sandbox_only & _directives(text), sandbox_only & _directives(text)


def test_the_sandbox_holds_the_hardening():
    directives = _directives(SANDBOX.read_text())
    assert {"NoNewPrivileges", "ProtectSystem", "CapabilityBoundingSet", "SystemCallFilter", "PrivateDevices",
            "DevicePolicy"} <= directives
