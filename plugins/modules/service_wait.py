#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: service_wait
short_description: Wait for a service's HTTP endpoint, and stop at once when its systemd unit crashes
version_added: "0.1.0"
description:
  - Polls O(url) (vLLM's C(/health), Ollama's C(/)) until it answers 200 (with O(content) in the
    body when given), reading the state of O(unit) between polls with C(systemctl show). Fails as soon as the unit has failed, stopped or been restarted
    by systemd since the wait began (C(Restart=) would keep restarting a server that cannot start),
    and after O(timeout) seconds otherwise.
  - The failure returns the unit's state and the reason, so the caller can read the journal and
    name the cause (the vllm role does, with the P(onprem.llm.vllm_start_failure#filter) filter).
author:
  - onprem.llm contributors (@onprem-llm)
options:
  url:
    description: URL that answers 200 once the server is ready.
    type: str
    required: true
  unit:
    description: The systemd unit serving it, for example V(vllm@tiny.service).
    type: str
    required: true
  content:
    description: Text the answer's body must contain as well (V(Ollama is running)); "" for any body.
    type: str
    default: ""
  timeout:
    description: Seconds to wait in all.
    type: int
    default: 900
  interval:
    description: Seconds between two polls.
    type: float
    default: 3
attributes:
  check_mode:
    support: full
    description: The module only reads; in check mode it waits as it does otherwise.
  diff_mode:
    support: none
    description: Nothing changes.
  platform:
    support: full
    platforms: posix
    description: Needs systemd (C(systemctl)) on the host.
notes:
  - Each poll of O(url) has a timeout of at most 5 seconds.
"""

EXAMPLES = r"""
- name: Wait for vLLM instance "tiny" to answer
  onprem.llm.service_wait:
    url: http://127.0.0.1:8000/health
    unit: vllm@tiny.service
    timeout: 900

- name: Wait for Ollama
  onprem.llm.service_wait:
    url: http://127.0.0.1:11434/
    content: Ollama is running
    unit: ollama.service
    timeout: 120
    interval: 2
"""

RETURN = r"""
elapsed:
  description: Seconds waited.
  returned: always
  type: float
  sample: 41.3
status:
  description: V(up), or why the wait ended without an answer - V(crashed) or V(timeout).
  returned: always
  type: str
  sample: up
reason:
  description: Why the server did not come up ("" when it did).
  returned: always
  type: str
  sample: its main process exited with status 1 and systemd will restart it
unit_state:
  description: The unit's ActiveState, SubState, Result, NRestarts, ExecMainCode and ExecMainStatus at the end.
  returned: always
  type: dict
  sample: {ActiveState: activating, SubState: auto-restart, Result: exit-code, NRestarts: "1"}
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url
from ansible_collections.onprem.llm.plugins.module_utils import service_wait as wait


def healthy(url, timeout, expect):
    try:
        # A readiness probe: it sends no credentials and trusts nothing it reads, and a server with a
        # self-signed certificate must not look like one that is down.
        response = open_url(url, timeout=timeout, validate_certs=False)
        return wait.answered(response.getcode(), response.read().decode("utf-8", "replace"), expect)
    except Exception:  # pylint: disable=broad-except
        # Refused, reset, 503 while loading, timeout: all mean "not yet".
        return False


def unit_state(module, systemctl, unit):
    argv = [systemctl, "show", "--no-pager"] + ["-p%s" % p for p in wait.PROPERTIES] + [unit]
    rc, out, err = module.run_command(argv)
    if rc != 0:
        module.fail_json(msg="systemctl show %s failed: %s" % (unit, err.strip() or out.strip()), rc=rc)
    return wait.parse_show(out)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            unit=dict(type="str", required=True),
            content=dict(type="str", default=""),
            timeout=dict(type="int", default=900),
            interval=dict(type="float", default=3.0),
        ),
        supports_check_mode=True,
    )
    p = module.params
    systemctl = module.get_bin_path("systemctl", required=True)
    start = time.monotonic()
    before = unit_state(module, systemctl, p["unit"])
    while True:
        up = healthy(p["url"], min(5.0, max(1.0, p["interval"])), p["content"])
        now = unit_state(module, systemctl, p["unit"])
        elapsed = time.monotonic() - start
        status, reason = wait.verdict(before, now, up, elapsed, p["timeout"])
        result = dict(changed=False, elapsed=round(elapsed, 1), status=status, reason=reason, unit_state=now)
        if status == "up":
            module.exit_json(**result)
        if status != "waiting":
            module.fail_json(msg="%s did not come up on %s: %s" % (p["unit"], p["url"], reason), **result)
        time.sleep(p["interval"])


if __name__ == "__main__":
    main()
