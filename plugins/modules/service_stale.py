#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: service_stale
short_description: Find running systemd units that started before one of their files changed
version_added: "0.1.0"
description:
  - For each unit in O(units), reads when its running main process started (C(systemctl show),
    on the monotonic clock) and the modification time of each of its O(units[].paths) (not
    following symlinks, so a C(current) link switched to a new version counts), and returns the
    units that started before one of those files last changed.
  - A role restarts a service when the task that wrote its config reports a change. When
    C(ansible-playbook) is killed between that write and the restart, the next run finds the file
    right, reports C(ok) and would leave the service running the old config; the roles restart the
    units this module returns as well.
  - A unit that is not running (stopped, failed, restarting) is never stale, since it reads its files
    when it starts.
author:
  - onprem.llm contributors (@onprem-llm)
options:
  units:
    description: The units and the files each reads when it starts.
    type: list
    elements: dict
    required: true
    suboptions:
      unit:
        description: The unit's name, for example V(vllm@tiny.service).
        type: str
        required: true
      paths:
        description: Files (or symlinks) the unit reads; missing ones are ignored.
        type: list
        elements: path
        default: []
      process:
        description:
          - V(main) compares with the start of the unit's main process (a service applied by a restart).
          - V(children) compares with the start of the newest child of the main process, for a
            service that applies a new config by a reload that starts new workers, as nginx does
            (its master keeps running). A worker that crashed and was started again since counts
            as new too.
        type: str
        choices: [main, children]
        default: main
attributes:
  check_mode:
    support: full
    description: The module only reads.
  diff_mode:
    support: none
    description: Nothing changes.
  platform:
    support: full
    platforms: posix
    description: Needs systemd (C(systemctl)) on the host.
"""

EXAMPLES = r"""
- name: Find the vLLM instances still running an older config
  onprem.llm.service_stale:
    units:
      - unit: vllm@tiny.service
        paths: [/etc/onprem-llm/vllm/tiny.yaml, /etc/onprem-llm/vllm/tiny.env, /opt/onprem-llm/vllm/current]
  register: __stale

- name: Restart them
  ansible.builtin.systemd_service:
    name: "{{ item }}"
    state: restarted
  loop: "{{ __stale.stale }}"

- name: Reload nginx when its workers are older than the gateway's files
  onprem.llm.service_stale:
    units:
      - unit: nginx.service
        process: children
        paths: [/etc/onprem-llm/gateway/upstreams.conf]
  register: __nginx_stale
  changed_when: __nginx_stale.stale | length > 0
  notify: Reload nginx for the gateway
"""

RETURN = r"""
stale:
  description: The units (as given) whose running main process started before one of their files changed.
  returned: always
  type: list
  elements: str
  sample: [vllm@tiny.service]
units:
  description: Per unit, whether it runs, when its main process started (seconds since the epoch) and the files changed after that.
  returned: always
  type: dict
  sample: {vllm@tiny.service: {running: true, started: 1796286838.123, newer: [/etc/onprem-llm/vllm/tiny.yaml]}}
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.onprem.llm.plugins.module_utils import service_stale as stale
from ansible_collections.onprem.llm.plugins.module_utils.service_wait import parse_show


def _mtime(path):
    try:
        return os.lstat(path).st_mtime
    except OSError:
        return None


def _int(text):
    try:
        return int(text or 0)
    except ValueError:
        return 0


def _uptime():
    with open("/proc/uptime") as handle:
        return float(handle.read().split()[0])


def _proc_stat_lines():
    lines = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name) as handle:
                    lines.append(handle.read())
            except (IOError, OSError):
                # The process ended between the listing and the read.
                continue
    return lines


def main():
    module = AnsibleModule(
        argument_spec=dict(
            units=dict(type="list", elements="dict", required=True, options=dict(
                unit=dict(type="str", required=True),
                paths=dict(type="list", elements="path", default=[]),
                process=dict(type="str", choices=["main", "children"], default="main"),
            )),
        ),
        supports_check_mode=True,
    )
    units = module.params["units"]
    systemctl = module.get_bin_path("systemctl", required=True)
    states = {}
    for entry in units:
        argv = [systemctl, "show", "--no-pager"] + ["-p%s" % p for p in stale.PROPERTIES] + [entry["unit"]]
        rc, out, err = module.run_command(argv, environ_update={"LANGUAGE": "C", "LC_ALL": "C"})
        if rc != 0:
            module.fail_json(msg="systemctl show %s failed: %s" % (entry["unit"], err.strip() or out.strip()), rc=rc)
        states[entry["unit"]] = parse_show(out)
    # The clocks read once, after every unit: a start and an mtime are compared on one time line.
    now_wall, now_monotonic = time.time(), time.monotonic()
    children = {}
    if any(entry["process"] == "children" for entry in units):
        uptime, lines = _uptime(), _proc_stat_lines()
        for entry in units:
            if entry["process"] == "children":
                children[entry["unit"]] = stale.child_started_at(
                    lines, _int(states[entry["unit"]].get("ExecMainPID")), os.sysconf("SC_CLK_TCK"), uptime, now_wall)
    mtimes = dict((path, _mtime(path)) for entry in units for path in entry["paths"])
    report, names = stale.verdicts(units, states, mtimes, now_wall, now_monotonic, children)
    module.exit_json(changed=False, stale=names, units=report)


if __name__ == "__main__":
    main()
