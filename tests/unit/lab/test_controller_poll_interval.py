"""The playbook process's result polling (internal_poll_interval) is set where Ansible reads it.

ansible-core has no environment variable for it (only ``[defaults] internal_poll_interval``), so a
value set any other way leaves the 1 ms default; benchmarks/controller_wait_cpu.py measures what
each value costs while a task runs.
"""

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
ANSIBLE_CONFIG_BIN = Path(sys.executable).parent / "ansible-config"


def _effective(config):
    """The value ansible-config reports for DEFAULT_INTERNAL_POLL_INTERVAL under that ansible.cfg."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env["ANSIBLE_CONFIG"] = str(config)
    out = subprocess.run([str(ANSIBLE_CONFIG_BIN), "dump", "--only-changed"], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True).stdout
    lines = [line for line in out.splitlines() if line.startswith("DEFAULT_INTERNAL_POLL_INTERVAL(")]
    assert len(lines) == 1, out
    return float(lines[0].rsplit("=", 1)[1])


def test_the_checkouts_ansible_cfg_sets_it_and_ansible_reads_it():
    assert _effective(ROOT / "ansible.cfg") == 0.01


def test_molecule_writes_the_same_value_into_the_scenarios_ansible_cfg(tmp_path):
    config = yaml.safe_load((ROOT / "molecule" / "default" / "config.yml").read_text())
    defaults = config["ansible"]["cfg"]["defaults"]
    # Molecule writes each key of ansible.cfg.defaults as a line of [defaults], as here.
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text("[defaults]\ninternal_poll_interval = %s\n" % defaults["internal_poll_interval"])
    assert _effective(cfg) == _effective(ROOT / "ansible.cfg")
