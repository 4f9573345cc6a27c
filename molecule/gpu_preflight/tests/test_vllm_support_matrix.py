"""The OS rows of docs/vllm-compatibility.md ("By OS, driver branch and Python") name the Python and glibc that
the vllm role's interpreter probe reports on Debian 12 and 13 and Ubuntu 22.04 and 24.04 nodes built from each
archive."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "collections"))
from ansible_collections.onprem.llm.plugins.module_utils.vllm import support_matrix  # noqa: E402

testinfra_hosts = ["bookworm-gpu1", "trixie-gpu8", "jammy-nodrv", "noble-gpu0"]

# The probe the role runs (roles/vllm/tasks/plan.yml, "Describe the venv interpreter").
PROBE = ("import json, platform, sys; print(json.dumps({'python': '%d.%d' % sys.version_info[:2], "
         "'glibc': platform.libc_ver()[1]}))")


@pytest.fixture(scope="module")
def os_name(host):
    info = host.system_info
    if info.distribution == "ubuntu":
        return "Ubuntu " + info.release
    return "Debian " + info.release.split(".")[0]


def test_os_row_matches_the_node(host, os_name):
    (target,) = [t for t in support_matrix.OS_TARGETS if t["os"] == os_name]
    got = json.loads(host.check_output("python3 -c %s" % json.dumps(PROBE)))
    assert (target["python"], target["glibc"]) == (got["python"], ".".join(got["glibc"].split(".")[:2]))
