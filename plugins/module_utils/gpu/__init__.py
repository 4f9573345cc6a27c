# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""NVIDIA GPU detection for onprem.llm.gpu_facts: pure parsing and decisions, no AnsibleModule.

catalog: device ids and names -> compute capability, architecture, kernel module flavour.
pci: the PCI bus as sysfs shows it, and pci.ids names.
host: driver module, NVSwitch and container markers.
smi: ``nvidia-smi -q -x`` output and its failure messages.
nvml: the same facts read through nvidia-ml-py (pynvml).
facts: the ``ansible_facts.onprem_gpu`` mapping built from all of the above.
"""
