#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: nvidia_driver_plan
short_description: Plan an NVIDIA driver install for a host, or refuse clearly
version_added: "0.1.0"
description:
  - Decides, from the host's distribution, running kernel, GPU facts (M(onprem.llm.gpu_facts)) and
    installed packages, which repository, packages, kernel-module flavour, holds, fabric manager and
    Secure Boot route an NVIDIA driver install needs (O(plan=driver)), and what to do with the
    running module after an install (O(plan=activate)). CUDA has its own planner, M(onprem.llm.cuda_plan).
  - Refuses, with a message naming the variable to change, a branch that cannot drive the GPUs
    (Pascal on a branch newer than 580), a flavour that cannot drive them, a mixed pre-Turing and
    Blackwell host, a branch the chosen source does not ship, Secure Boot without a signed or MOK
    route, and an unrequested branch change.
  - Reads nothing from the host and changes nothing; the role M(onprem.llm.nvidia_driver) executes the plan.
author:
  - onprem.llm contributors (@onprem-llm)
extends_documentation_fragment:
  - onprem.llm.attributes.decision_only
options:
  plan:
    description: What to plan.
    type: str
    choices: [driver, activate]
    default: driver
  host:
    description:
      - The host (ignored by O(plan=activate)), with keys C(distribution), C(distribution_major_version), C(distribution_version),
        C(architecture) (as in C(ansible_facts)) and C(kernel) (the running kernel release, or with
        C(kernel_side) the installed kernel to build for).
    type: dict
    required: true
  gpu:
    description: GPU facts of the host, as returned by M(onprem.llm.gpu_facts).
    type: dict
    default: {}
  options:
    description:
      - Planner options. For O(plan=driver) C(branch), C(version), C(flavour), C(source),
        C(repo_url), C(local_repo_package), C(compute_only), C(container_mode), C(kernel_side) (headers,
        DKMS build and initramfs for the host's C(kernel) even in container mode), C(secure_boot)
        (C(enabled), C(disabled) or C(unknown)), C(secure_boot_policy), C(fabricmanager),
        C(container_toolkit), C(container_toolkit_repo_url), C(dcgm), C(dcgm_exporter), C(installed)
        (C(ansible_facts.packages)) and C(allow_branch_change).
      - For O(plan=activate) (what to do with the running module after an install) C(changed),
        C(loaded_version), C(installed_version), C(nouveau_loaded), C(container_mode), C(control_node)
        and C(reboot_ok); the answer's C(action) is C(none), C(modprobe), C(reboot) or
        C(reboot_needed) (a reboot is needed but not allowed, or the host is the control node).
    type: dict
    default: {}
notes:
  - docs/nvidia-driver.md in the collection explains each decision and its source.
seealso:
  - module: onprem.llm.gpu_facts
  - module: onprem.llm.cuda_plan
  - name: NVIDIA driver installation guide
    description: Repositories, package names, module streams and Secure Boot.
    link: https://docs.nvidia.com/datacenter/tesla/driver-installation-guide/
"""

EXAMPLES = r"""
- name: Plan the driver for this host
  onprem.llm.nvidia_driver_plan:
    host:
      distribution: "{{ ansible_facts.distribution }}"
      distribution_major_version: "{{ ansible_facts.distribution_major_version }}"
      distribution_version: "{{ ansible_facts.distribution_version }}"
      architecture: "{{ ansible_facts.architecture }}"
      kernel: "{{ ansible_facts.kernel }}"
    gpu: "{{ ansible_facts.onprem_gpu }}"
    options:
      branch: "580"
      flavour: auto
      source: nvidia
  register: __plan
"""

RETURN = r"""
plan:
  description:
    - The plan. For drivers the keys include C(family), C(source), C(branch), C(version), C(flavour),
      C(flavour_reason), C(repo), C(install_packages), C(userspace_packages),
      C(kernel_module_packages), C(skipped_packages), C(kernel_packages), C(hold_packages),
      C(hold_method), C(apt_pins), C(module_stream), C(fabricmanager), C(secure_boot),
      C(branch_change), C(remove_packages), C(initramfs_command), C(persistenced_unit), C(extras),
      C(notes).
    - For O(plan=activate) C(action) and C(reason).
  returned: success
  type: dict
  sample:
    family: apt
    source: distro
    branch: 550
    flavour: open
    fabricmanager: {install: false, needed: false, package: null, available: true, reason: no NVSwitch}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.onprem.llm.plugins.module_utils.nvidia.driver_plan import PlanError, plan_driver, reboot_decision


# Options that arrive as strings when templated ("True", "false") and are booleans to the planner.
BOOL_OPTIONS = ("compute_only", "container_mode", "kernel_side", "container_toolkit", "dcgm", "dcgm_exporter",
                "allow_branch_change", "changed", "nouveau_loaded", "control_node", "reboot_ok")


def normalize_options(options):
    options = dict(options or {})
    for key in BOOL_OPTIONS:
        if key in options and options[key] is not None:
            options[key] = boolean(options[key], strict=False)
    if "fabricmanager" in options and str(options["fabricmanager"]).lower() != "auto":
        options["fabricmanager"] = boolean(options["fabricmanager"], strict=False)
    return options


def _activate(host, gpu, options):
    return reboot_decision(
        bool(options.get("changed")), options.get("loaded_version") or None,
        options.get("installed_version") or None, bool(options.get("nouveau_loaded")),
        bool(options.get("container_mode")), bool(options.get("control_node")), bool(options.get("reboot_ok")))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            plan=dict(type="str", choices=["driver", "activate"], default="driver"),
            host=dict(type="dict", required=True),
            gpu=dict(type="dict", default={}),
            options=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    planner = {"driver": plan_driver, "activate": _activate}[module.params["plan"]]
    try:
        result = planner(module.params["host"], module.params["gpu"] or {}, normalize_options(module.params["options"]))
    except PlanError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, plan=result)


if __name__ == "__main__":
    main()
