#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: cuda_plan
short_description: Plan a toolkit-only CUDA install of one or more versions for a host, or refuse clearly
version_added: "0.1.0"
description:
  - Decides, from the host's distribution and GPU facts (M(onprem.llm.gpu_facts)), the package source
    (the distribution's archive or NVIDIA's repository), the packages, homes and default of one or more
    CUDA versions installed side by side, and forward-compatibility packages where asked for and the
    GPUs allow them.
  - Refuses, with a message naming the variable to change, a version the chosen source does not ship,
    a malformed or repeated version, a default that is not among the versions, extra packages that
    would pull a driver, and a version the driver is too old for (unless forward compatibility applies,
    on data-center GPUs only).
  - Reads nothing from the host and changes nothing; the role M(onprem.llm.cuda) executes the plan.
author:
  - onprem.llm contributors (@onprem-llm)
extends_documentation_fragment:
  - onprem.llm.attributes.decision_only
options:
  host:
    description:
      - The host, with keys C(distribution), C(distribution_major_version), C(distribution_version) and
        C(architecture) (as in C(ansible_facts)).
    type: dict
    required: true
  gpu:
    description: GPU facts of the host, as returned by M(onprem.llm.gpu_facts).
    type: dict
    default: {}
  versions:
    description: CUDA versions, major.minor (C(12.8), C(13.0)); empty takes the archive's own with O(source=distro).
    type: list
    elements: str
    default: []
  default:
    description: The version C(/usr/local/cuda) points at; empty takes the last of O(versions).
    type: str
    default: ""
  source:
    description: C(auto), C(nvidia), C(distro) or C(local) (the role's C(cuda_source) explains C(auto)).
    type: str
    choices: [auto, nvidia, distro, local]
    default: auto
  profile:
    description: C(toolkit) (compiler and libraries) or C(runtime) (libraries only).
    type: str
    choices: [toolkit, runtime]
    default: toolkit
  compat:
    description: Add NVIDIA's forward-compatibility package of each version (data-center GPUs only).
    type: bool
    default: false
  driver_version:
    description: The installed or planned driver version (empty - the one in O(gpu)), checked against each version's floor.
    type: str
    default: ""
  extra_packages:
    description: More packages installed with the toolkit.
    type: list
    elements: str
    default: []
notes:
  - docs/nvidia-driver.md in the collection explains each decision and its source.
seealso:
  - module: onprem.llm.nvidia_driver_plan
  - module: onprem.llm.gpu_facts
"""

EXAMPLES = r"""
- name: Plan CUDA 12.8 and 13.0 side by side, 13.0 the default
  onprem.llm.cuda_plan:
    host:
      distribution: Ubuntu
      distribution_major_version: "24"
      distribution_version: "24.04"
      architecture: x86_64
    gpu: "{{ ansible_facts.onprem_gpu }}"
    versions: ["12.8", "13.0"]
    default: "13.0"
  register: __cuda_planned
"""

RETURN = r"""
plan:
  description:
    - The plan - C(source), C(profile), C(versions) (one entry per version with C(packages), C(home),
      C(lib_dir), C(nvcc), C(compat_package)), C(default), C(default_home), C(symlink), C(packages),
      C(compat_packages).
  returned: success
  type: dict
  sample:
    source: distro
    profile: runtime
    packages: [libcudart12]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.onprem.llm.plugins.module_utils.nvidia.cuda_plan import plan_cuda
from ansible_collections.onprem.llm.plugins.module_utils.nvidia.driver_plan import PlanError

OPTIONS = ("versions", "default", "source", "profile", "compat", "driver_version", "extra_packages")


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type="dict", required=True),
            gpu=dict(type="dict", default={}),
            versions=dict(type="list", elements="str", default=[]),
            default=dict(type="str", default=""),
            source=dict(type="str", choices=["auto", "nvidia", "distro", "local"], default="auto"),
            profile=dict(type="str", choices=["toolkit", "runtime"], default="toolkit"),
            compat=dict(type="bool", default=False),
            driver_version=dict(type="str", default=""),
            extra_packages=dict(type="list", elements="str", default=[]),
        ),
        supports_check_mode=True,
    )
    options = dict((key, module.params[key]) for key in OPTIONS)
    try:
        plan = plan_cuda(module.params["host"], module.params["gpu"] or {}, options)
    except PlanError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, plan=plan)


if __name__ == "__main__":
    main()
