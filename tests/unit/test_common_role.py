"""onprem.llm._common's entry points, run by ansible-playbook on this machine as a role includes them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

ROLE_TASKS = """
- name: Load the OS-specific values
  ansible.builtin.include_role:
    name: onprem.llm._common
    tasks_from: os_vars.yml

- name: Install what is there already
  ansible.builtin.include_role:
    name: onprem.llm._common
    tasks_from: packages.yml
  vars:
    _common_packages: "{{ __probe_packages }}"

- name: Keep what the role saw
  ansible.builtin.set_fact:
    seen: "{{ {'a': __probe_a, 'b': __probe_b, 'c': __probe_c,
               'installed': _common_packages_result is changed} }}"
"""

PLAYBOOK = """
- hosts: localhost
  gather_facts: true
  gather_subset: [min]
  vars:
    vars_dir: "{{ role_dir }}/vars"
  tasks:
    - name: Per-OS files named after this host, least specific first
      ansible.builtin.set_fact:
        names: "{{ ansible_facts | onprem.llm.os_vars_files }}"

    - name: The OS family's file overrides b and c, the most specific one c
      ansible.builtin.copy:
        dest: "{{ vars_dir }}/{{ item.0 }}"
        content: "{{ item.1 | to_nice_yaml }}"
        mode: "0644"
      loop: "{{ [names | first, names | last] | zip([{'__probe_b': 'family', '__probe_c': 'family'},
                                                      {'__probe_c': 'specific'}]) | list }}"

    - name: Run the probe role
      ansible.builtin.include_role:
        name: probe

    - name: Report
      ansible.builtin.debug:
        msg: "{{ {'seen': seen, 'names': names} | to_json }}"
"""


def _run(tmp_path, playbook, extra_vars=None, options=(), extra_env=None):
    role = tmp_path / "roles" / "probe"
    (role / "tasks").mkdir(parents=True, exist_ok=True)
    (role / "vars").mkdir(exist_ok=True)
    (role / "tasks" / "main.yml").write_text(ROLE_TASKS)
    (role / "vars" / "main.yml").write_text(
        "__probe_a: main\n__probe_b: main\n__probe_c: main\n__probe_packages: [bash, coreutils]\n")
    (tmp_path / "play.yml").write_text(playbook)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_ROLES_PATH=str(tmp_path / "roles"),
               ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_CALLBACKS_ENABLED="ansible.posix.json",
               **(extra_env or {}))
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), str(tmp_path / "play.yml"),
            "-e", json.dumps(dict({"role_dir": str(role)}, **(extra_vars or {}))), *options]
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    return proc.returncode, json.loads(proc.stdout)


def _task(run, name):
    """Results of the tasks called name (a role's tasks are named '<role> : <name>')."""
    return [t["hosts"]["localhost"] for play in run["plays"] for t in play["tasks"]
            if t["task"]["name"].split(" : ", 1)[-1] == name]


def test_os_vars_loads_the_files_that_exist_the_most_specific_last(tmp_path):
    rc, run = _run(tmp_path, PLAYBOOK)
    assert rc == 0, run["stats"]
    report = json.loads(_task(run, "Report")[0]["msg"])
    assert report["seen"] == {"a": "main", "b": "family", "c": "specific", "installed": False}
    loaded = _task(run, "OS vars | load what differs on this OS")[0]["results"]
    assert [r["item"].rsplit("/", 1)[1] for r in loaded] == [report["names"][0], report["names"][-1]]


def test_packages_that_are_all_there_change_nothing_and_refresh_no_index(tmp_path):
    rc, run = _run(tmp_path, PLAYBOOK)
    assert rc == 0, run["stats"]
    (query,) = _task(run, "Packages | which of them are installed")
    assert query["stdout_lines"] == ["ii bash", "ii coreutils"] and query["changed"] is False
    # Skipped as a whole: no package manager call, so no index refresh either.
    (install,) = _task(run, "Packages | install what is missing")
    assert install.get("skipped") is True and install.get("changed") is False


def test_only_the_packages_that_are_missing_go_to_the_package_manager(tmp_path):
    # In check mode (nothing changes): apt is asked for the missing name only, and refuses it (no such package).
    missing = "onprem-llm-no-such-package"
    rc, run = _run(tmp_path, PLAYBOOK, extra_vars={"__probe_packages": ["bash", missing, "coreutils"]},
                   options=["--check"])
    assert rc == 2 and run["stats"]["localhost"]["failures"] == 1
    (query,) = _task(run, "Packages | which of them are installed")
    assert query["stdout_lines"] == ["ii bash", "ii coreutils"] and query["rc"] == 1
    assert query["stderr"] == "dpkg-query: no packages found matching %s" % missing
    (install,) = _task(run, "Packages | install what is missing")
    assert install["failed"] is True and install["invocation"]["module_args"]["name"] == [missing]
    assert missing in install["msg"]


def test_a_held_package_counts_as_installed(tmp_path):
    # A copy of this machine's dpkg database with bash held the way apt-mark hold does it (dpkg
    # --set-selections), which dpkg-query reads through DPKG_ADMINDIR; the host's own is not touched.
    admin = tmp_path / "dpkg"
    for sub in ("updates", "info"):
        (admin / sub).mkdir(parents=True)
    (admin / "status").write_bytes(Path("/var/lib/dpkg/status").read_bytes())
    (admin / "available").touch()
    subprocess.run(["dpkg", "--admindir=%s" % admin, "--set-selections"], input="bash hold\n", text=True, check=True)
    # In check mode, so that a broken query could not reach the host's apt either.
    rc, run = _run(tmp_path, PLAYBOOK, options=["--check"], extra_env={"DPKG_ADMINDIR": str(admin)})
    assert rc == 0, run["stats"]
    (query,) = _task(run, "Packages | which of them are installed")
    assert query["stdout_lines"] == ["hi bash", "ii coreutils"]
    (install,) = _task(run, "Packages | install what is missing")
    assert install.get("skipped") is True and install.get("changed") is False


RPM_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Packages on an rpm host
      ansible.builtin.include_role:
        name: onprem.llm._common
        tasks_from: packages.yml
      vars:
        _common_packages: [bash, coreutils]
"""


def test_an_rpm_host_is_asked_with_rpm_and_gets_what_its_database_lacks(tmp_path):
    # This machine's rpm (Debian's package, empty database) answers as a RHEL host's would for packages
    # it does not have; the facts say dnf, so the install goes to the dnf module, which is not here.
    rc, run = _run(tmp_path, RPM_PLAYBOOK, extra_vars={"ansible_facts": {"pkg_mgr": "dnf"}}, options=["--check"])
    assert rc == 2 and run["stats"]["localhost"]["failures"] == 1
    (query,) = _task(run, "Packages | which of them are installed")
    assert query["cmd"][:2] == ["rpm", "--query"] and query["rc"] == 2 and not query.get("failed")
    assert query["stdout_lines"] == ["package bash is not installed", "package coreutils is not installed"]
    (install,) = _task(run, "Packages | install what is missing")
    assert install["failed"] is True and "dnf" in install["msg"]


def test_main_checks_the_collection_settings_and_changes_nothing(tmp_path):
    rc, run = _run(tmp_path, "- hosts: localhost\n  gather_facts: false\n  roles: [onprem.llm._common]\n")
    assert rc == 0, run["stats"]
    assert run["stats"]["localhost"]["changed"] == 0 and run["stats"]["localhost"]["failures"] == 0


def test_main_stops_a_wrong_type_naming_the_variable(tmp_path):
    rc, run = _run(tmp_path, "- hosts: localhost\n  gather_facts: false\n  roles: [onprem.llm._common]\n",
                   extra_vars={"onprem_closed_network": "maybe"})
    assert rc == 2
    (check,) = [t["hosts"]["localhost"] for play in run["plays"] for t in play["tasks"]
                if t["hosts"]["localhost"].get("failed")]
    assert "onprem_closed_network" in check["msg"] and "bool" in check["msg"]


DEPENDENT_ROLE = """
- name: Keep the collection settings the role sees
  ansible.builtin.set_fact:
    seen: "{{ {'bundle_dir': onprem_bundle_dir, 'offline': onprem_closed_network, 'sysfs': onprem_gpu_sysfs_path} }}"
"""


def test_a_role_that_depends_on_it_reads_its_defaults(tmp_path):
    role = tmp_path / "roles" / "dependent"
    (role / "tasks").mkdir(parents=True)
    (role / "meta").mkdir()
    (role / "tasks" / "main.yml").write_text(DEPENDENT_ROLE)
    (role / "meta" / "main.yml").write_text("dependencies:\n  - role: onprem.llm._common\n")
    playbook = ("- hosts: localhost\n  gather_facts: false\n  tasks:\n"
                "    - {name: Run it, ansible.builtin.include_role: {name: dependent}}\n"
                "    - {name: Report, ansible.builtin.debug: {var: seen}}\n")
    rc, run = _run(tmp_path, playbook, extra_vars={"onprem_closed_network": True})
    assert rc == 0, run["stats"]
    assert _task(run, "Report")[0]["seen"] == {"bundle_dir": "/srv/onprem-bundle", "offline": True, "sysfs": "/sys"}


BATCH_PLAYBOOK = """
- hosts: all
  gather_facts: false
  serial: "{{ onprem_gpu_serial }}"
  roles: [onprem.llm._common]
"""


def _batches(tmp_path, inventory_vars="", extra_vars=None):
    """How many batches Ansible makes of three hosts, the way playbooks/stages/gpu.yml sets serial."""
    (tmp_path / "hosts.ini").write_text(
        "[gpu_nodes]\nn1\nn2\nn3\n[gpu_nodes:vars]\nansible_connection=local\n"
        "ansible_python_interpreter=%s\n%s" % (sys.executable, inventory_vars))
    (tmp_path / "play.yml").write_text(BATCH_PLAYBOOK)
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_CALLBACKS_ENABLED="ansible.posix.json")
    argv = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(tmp_path / "hosts.ini"),
            str(tmp_path / "play.yml")] + (["-e", json.dumps(extra_vars)] if extra_vars else [])
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return len(json.loads(proc.stdout)["plays"])


def test_batch_sizes_default_from_the_role_and_come_only_from_the_command_line(tmp_path):
    assert _batches(tmp_path) == 3                                             # onprem_gpu_serial: 1
    assert _batches(tmp_path, extra_vars={"onprem_gpu_serial": "100%"}) == 1
    # Why the preflight refuses a batch size in the inventory: Ansible never reads it there.
    assert _batches(tmp_path, inventory_vars="onprem_gpu_serial=100%\n") == 3


GPU_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: First detection
      ansible.builtin.include_role:
        name: onprem.llm._common
        tasks_from: gpu_facts.yml

    - name: Again, facts known
      ansible.builtin.include_role:
        name: onprem.llm._common
        tasks_from: gpu_facts.yml

    - name: Again, asked to refresh
      ansible.builtin.include_role:
        name: onprem.llm._common
        tasks_from: gpu_facts.yml
      vars:
        _common_gpu_refresh: true
"""


def test_gpu_facts_detects_once_unless_asked_to_refresh(tmp_path):
    rc, run = _run(tmp_path, GPU_PLAYBOOK)
    assert rc == 0, run["stats"]
    first, known, refreshed = _task(run, "GPU facts | detect NVIDIA GPUs")
    assert "onprem_gpu" in first["ansible_facts"] and not first.get("skipped")
    assert known.get("skipped") is True
    assert "onprem_gpu" in refreshed["ansible_facts"] and not refreshed.get("skipped")
    # The collection's default paths (roles/_common/defaults/main.yml).
    assert first["invocation"]["module_args"]["sysfs_path"] == "/sys"
    assert first["invocation"]["module_args"]["procfs_path"] == "/proc"
