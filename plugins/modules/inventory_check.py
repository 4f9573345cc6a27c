#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: inventory_check
short_description: Reject a bad inventory before anything changes, naming each variable and the fix
version_added: "0.1.0"
description:
  - The inventory preflight of C(playbooks/preflight.yml). An action plugin; it runs on the controller
    and never connects to a host.
  - With O(checks=inventory) it reads every host's variables from the inventory (group_vars,
    host_vars, extra vars) and reports, for every host at once, each variable carrying one of the
    collection's prefixes (C(vllm_), C(ollama_), C(model_weights_), C(nvidia_driver_), C(cuda_),
    C(gpu_preflight_), C(onprem_), and the prefix of every role the collection ships) that no role
    declares (with a "did you mean"), renamed variables, wrong types, string booleans (V("yes")
    where a boolean is expected - argument validation would coerce it silently), values outside
    the choices, unknown or missing sub-options of list items, undefined variables inside
    templates (a vault secret that is not defined), two services of a host on one port, duplicate
    vLLM instance names and served model names, and instances whose model is not staged on the host.
  - The catalogue of variables is read at run time from every role's C(meta/argument_specs.yml) (the
    collection-wide C(onprem_*) ones from the C(main) entry point of the private role C(_common)) and
    C(data/inventory_variables.yml) in the collection, so new roles are covered without a change.
  - With O(checks=gpu_fit), run on each host after M(onprem.llm.gpu_facts), it sizes every vLLM
    instance whose model is in C(data/models.yml) against the GPUs assigned to it (its C(gpus), else
    all of the host's) with the C(onprem.llm.model_fit) rules, and fails when the model does not fit.
  - Every check mode also applies the value rules C(rules) of C(data/inventory_variables.yml) - ports
    from 1 to 65535, names safe for systemd units, file names and URLs, absolute paths, release pins,
    Hugging Face repository ids, host:port, URLs - plus C(null) for a setting that has a default, a
    vLLM instance on a non-loopback address without an API key, tensor parallelism larger than the
    GPUs an instance lists, C(extra_args) that would override what the role sets, and gateway clients
    (none, a key shorter than 16 characters, two clients with one key).
  - With O(checks=values), run by each role as its first task, it applies those rules to the
    variables of O(roles) and to the collection-wide C(onprem_*) ones as the role sees them (play
    variables, role parameters and defaults included), and names any renamed variable still set, so a
    role used outside C(site.yml) refuses the same values.
  - With O(checks=inventory), a play keyword (the batch sizes, C(play_keywords) of
    C(data/inventory_variables.yml)) set anywhere but on the command line is refused, because Ansible
    never reads it from the inventory.
  - Templates that read facts or other hosts (C(ansible_facts), C(hostvars)) are not resolved by
    O(checks=inventory); secrets (C(no_log) options, names with key/token/password/secret) are
    never shown.
  - "Every message starts with the host name and names the variable, for example
    C(gpu1: vllm_instances[1].port must be an integer, got the string '80a')."
author:
  - onprem.llm contributors (@onprem-llm)
extends_documentation_fragment:
  - onprem.llm.attributes.DECISION_ONLY
options:
  checks:
    description:
      - V(inventory) checks the variables of O(hosts) on the controller.
      - V(gpu_fit) checks the current host's vLLM instances against its GPU facts.
      - V(values) checks the value rules for the variables of O(roles) and the collection-wide ones on the
        current host.
    type: str
    choices: [inventory, gpu_fit, values]
    default: inventory
  roles:
    description: Roles whose variables O(checks=values) checks, e.g. V([vllm]).
    type: list
    elements: str
    default: []
  hosts:
    description: Inventory hosts to check with O(checks=inventory); default all of them.
    type: list
    elements: str
  gpu_facts:
    description: GPU facts for O(checks=gpu_fit); default C(ansible_facts.onprem_gpu).
    type: dict
notes:
  - Run it from a play on C(localhost) with C(any_errors_fatal) before any play that changes hosts,
    as C(playbooks/preflight.yml) does. Reference - docs/preflight.md.
"""

EXAMPLES = r"""
- name: Validate every host's variables before any change
  onprem.llm.inventory_check:
  run_once: true

- name: Only two hosts
  onprem.llm.inventory_check:
    hosts: [gpu1, gpu2]

- name: A role's own guard, before its first change
  onprem.llm.inventory_check:
    checks: values
    roles: [vllm]

- name: After onprem.llm.gpu_preflight, check that each model fits its GPUs
  onprem.llm.inventory_check:
    checks: gpu_fit
"""

RETURN = r"""
problems:
  description: One sentence per problem, each starting with the host name and naming the variable and the fix.
  returned: always
  type: list
  elements: str
  sample:
    - "gpu1: vllm_allow_cpu must be a boolean, got the string 'yes' (a string boolean); write true or false without quotes"
    - "gpu1: vllm_instances[1].port (chat2): port 8000 is also used by vllm_instances[0].port (chat) on this host; give each service its own port"
hosts:
  description: The hosts that were checked.
  returned: always
  type: list
  elements: str
  sample: [gpu1, gpu2]
"""
