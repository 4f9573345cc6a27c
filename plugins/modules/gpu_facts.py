#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: gpu_facts
short_description: Detect NVIDIA GPUs, before and after a driver exists
version_added: 0.1.0
description:
  - Sets C(ansible_facts.onprem_gpu) describing the NVIDIA GPUs of the host.
  - Without a driver, scans C(<sysfs_path>/bus/pci/devices) for NVIDIA display and 3D
    controllers and names them from C(pci.ids) or the collection's own table.
  - With a driver, asks NVML (the C(pynvml) module of C(nvidia-ml-py)) when it is importable and
    O(use_nvml) is true, otherwise runs C(nvidia-smi -q -x) once with C(LANGUAGE=C LC_ALL=C).
  - A failing C(nvidia-smi) (driver not loaded, driver/library version mismatch, no devices) is
    reported as RV(ansible_facts.onprem_gpu.state) with a message, and the PCI view is kept.
  - The module never changes the host.
options:
  sysfs_path:
    description:
      - Root of sysfs. Containers and the lab GPU double point it at another tree
        (the double uses C(/usr/share/onprem-llm-double/sys)).
    type: path
    default: /sys
  procfs_path:
    description:
      - Root of procfs, read for C(driver/nvidia/version) and C(driver/nvidia-nvswitch/devices).
        Changed for the same reasons as O(sysfs_path).
    type: path
    default: /proc
  nvidia_smi_path:
    description:
      - Path to C(nvidia-smi). By default it is looked up on C(PATH) (and C(/usr/bin), C(/usr/sbin)).
      - A given path that does not exist is an error; a missing C(nvidia-smi) found by lookup is not.
    type: path
  use_nvml:
    description:
      - Use NVML through C(pynvml) when that module is importable on the host; otherwise, or when
        NVML fails, use C(nvidia-smi). Set to V(false) to always use C(nvidia-smi).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same read-only commands in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to diff.
  facts:
    support: full
    description: Sets C(ansible_facts.onprem_gpu).
notes:
  - The container markers C(/run/.containerenv), C(/.dockerenv) and C(/run/systemd/container) are
    always read at their absolute paths, whatever O(sysfs_path) says.
  - GPU compute capability and architecture come from the driver when it says, else from a table in
    the collection keyed by PCI device id, then by product name.
seealso:
  - name: nvidia-smi documentation
    description: The tool whose C(-q -x) output the module reads.
    link: https://docs.nvidia.com/deploy/nvidia-smi/index.html
author:
  - onprem.llm contributors (@onprem-llm)
"""

EXAMPLES = r"""
- name: Detect NVIDIA GPUs
  onprem.llm.gpu_facts:

- name: Stop unless at least two GPUs with a working driver
  ansible.builtin.assert:
    that:
      - ansible_facts.onprem_gpu.state == 'ok'
      - ansible_facts.onprem_gpu.count >= 2

- name: Read the lab GPU double's trees instead of the container's /sys and /proc
  onprem.llm.gpu_facts:
    sysfs_path: /usr/share/onprem-llm-double/sys
    procfs_path: /usr/share/onprem-llm-double/proc

- name: Ignore nvidia-ml-py even when installed
  onprem.llm.gpu_facts:
    use_nvml: false
    nvidia_smi_path: /usr/bin/nvidia-smi
"""

RETURN = r"""
ansible_facts:
  description: Facts added to C(ansible_facts).
  returned: always
  type: dict
  contains:
    onprem_gpu:
      description: NVIDIA GPUs of the host.
      returned: always
      type: dict
      contains:
        present:
          description: Whether at least one NVIDIA GPU was found (driver or PCI).
          type: bool
          sample: true
        count:
          description: Number of GPUs in RV(ansible_facts.onprem_gpu.gpus).
          type: int
          sample: 8
        pci_count:
          description: NVIDIA display/3D controllers on the PCI bus, whatever the driver says.
          type: int
          sample: 8
        driver_loaded:
          description: The C(nvidia) kernel module is loaded (or NVML/nvidia-smi answered).
          type: bool
        driver_version:
          description: Driver version from NVML/nvidia-smi, else from the kernel module; null without one.
          type: str
          sample: 535.54.03
        cuda_version:
          description: Highest CUDA version the driver supports; null without a working driver or on
            drivers older than 410, which do not print it.
          type: str
          sample: "12.2"
        kernel_module:
          description: Flavour of the loaded kernel module read from C(<procfs>/driver/nvidia/version),
            V(open) or V(proprietary); null when not loaded or not readable.
          type: str
        source:
          description: Where RV(ansible_facts.onprem_gpu.gpus) came from.
          type: str
          choices: [nvml, nvidia-smi, pci]
        state:
          description:
            - V(ok) the driver answered with at least one GPU; V(no_gpu) no NVIDIA GPU at all;
              V(no_driver) GPUs on the PCI bus, no kernel module and no C(nvidia-smi);
              V(driver_not_loaded) C(nvidia-smi) cannot talk to the driver;
              V(driver_mismatch) kernel module and libraries differ (reboot after an upgrade);
              V(no_devices) the driver runs but lists no GPU while the PCI bus has some;
              V(nvidia_smi_missing) the module is loaded but neither C(nvidia-smi) nor NVML is there;
              V(nvidia_smi_failed) any other C(nvidia-smi) failure or unreadable output.
          type: str
          sample: ok
        message:
          description: One sentence explaining RV(ansible_facts.onprem_gpu.state).
          type: str
        nvswitch:
          description: NVSwitch present (non-empty C(<procfs>/driver/nvidia-nvswitch/devices) or an
            NVIDIA PCI bridge of class 0x0680); such hosts need nvidia-fabricmanager.
          type: bool
        recommended_kernel_module:
          description: V(open) when every GPU is Turing or newer (compute capability 7.5+),
            V(proprietary) when any is Maxwell, Pascal or Volta; null when there is no GPU or none
            could be placed.
          type: str
          sample: open
        in_container:
          description: A container marker file exists on the host running the module.
          type: bool
        gpus:
          description: One entry per GPU, in nvidia-smi/NVML index order (PCI address order without a driver).
          type: list
          elements: dict
          contains:
            index:
              description: Index as C(nvidia-smi -i) counts.
              type: int
            name:
              description: Product name from the driver, else from pci.ids or the collection's table.
              type: str
              sample: NVIDIA A100-SXM4-80GB
            uuid:
              description: GPU UUID; null without a driver.
              type: str
              sample: GPU-513536b6-7d19-9063-b049-1e69664bb298
            pci_bus_id:
              description: PCI address in sysfs form (4-digit domain, lower case).
              type: str
              sample: "0000:01:00.0"
            pci_device_id:
              description: PCI device id, lower-case hex with C(0x); null when nobody says.
              type: str
              sample: "0x20b2"
            memory_mib:
              description: Framebuffer memory in MiB; null without a driver.
              type: int
              sample: 81920
            compute_capability:
              description: CUDA compute capability such as V(8.0); null when unknown.
              type: str
            architecture:
              description: kepler, maxwell, pascal, volta, turing, ampere, ada, hopper or blackwell; null when unknown.
              type: str
            mig:
              description: Multi-Instance GPU state.
              type: dict
              contains:
                mode:
                  description: V(enabled), V(disabled), V(unsupported), or V(unknown) without a driver.
                  type: str
                pending_mode:
                  description: The mode after the next GPU reset, same values.
                  type: str
                devices:
                  description: MIG devices with index, gpu_instance_id, compute_instance_id,
                    memory_mib and multiprocessor_count.
                  type: list
                  elements: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.onprem.llm.plugins.module_utils.gpu.facts import collect
from ansible_collections.onprem.llm.plugins.module_utils.gpu.nvml import import_pynvml
from ansible_collections.onprem.llm.plugins.module_utils.gpu.smi import ARGV, ENVIRONMENT


def main():
    module = AnsibleModule(
        argument_spec=dict(
            sysfs_path=dict(type="path", default="/sys"),
            procfs_path=dict(type="path", default="/proc"),
            nvidia_smi_path=dict(type="path"),
            use_nvml=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    smi_path = module.params["nvidia_smi_path"]
    if smi_path is None:
        smi_path = module.get_bin_path("nvidia-smi", required=False)
    elif not (os.path.isfile(smi_path) and os.access(smi_path, os.X_OK)):
        module.fail_json(msg="nvidia_smi_path %s does not exist or is not executable" % smi_path)

    run_smi = None
    if smi_path:
        def run_smi():
            return module.run_command([smi_path] + list(ARGV), environ_update=dict(ENVIRONMENT))

    facts = collect(
        sysfs_path=module.params["sysfs_path"],
        procfs_path=module.params["procfs_path"],
        run_smi=run_smi,
        nvml=import_pynvml() if module.params["use_nvml"] else None,
    )
    module.exit_json(changed=False, ansible_facts=dict(onprem_gpu=facts))


if __name__ == "__main__":
    main()
