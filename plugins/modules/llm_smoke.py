#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: llm_smoke
short_description: Smoke-test OpenAI-compatible LLM endpoints (vLLM, Ollama, the gateway)
version_added: 0.1.0
description:
  - Checks each endpoint once - C(GET /v1/models) lists the model, a completion answers with text
    and usage, a streamed completion delivers tokens and C([DONE]), and an endpoint with a key
    refuses a request without it (401) - and fails naming every failed check.
  - Runs on a node close to the endpoints (backends listen on loopback, so usually the serving node
    itself, or the gateway node for gateway endpoints) with the Python standard library only.
  - M(onprem.llm.llm_benchmark) measures the same endpoints under load.
author:
  - onprem.llm contributors (@onprem-llm)
extends_documentation_fragment:
  - onprem.llm.attributes.ENDPOINT_CLIENT
  - onprem.llm.llm_endpoints
options:
  max_tokens:
    description: C(max_tokens) of the test completions.
    type: int
    default: 16
  timeout:
    description: Seconds a request may take (connect and between reads).
    type: float
    default: 120
attributes:
  check_mode:
    support: full
    description: It only reads (a completion changes nothing on the server), so check mode runs the checks too.
"""

EXAMPLES = r"""
- name: Smoke-test an endpoint through the gateway
  onprem.llm.llm_smoke:
    endpoints:
      - name: gateway/tiny-llama
        route: gateway
        url: https://127.0.0.1:8443
        tls_server_name: llm.example.internal
        ca_path: /etc/onprem-llm/gateway/tls.crt
        model: tiny-llama
        api_key: "{{ vault_gateway_key_ops }}"
"""

RETURN = r"""
checks:
  description: One entry per endpoint, in order, with its checks.
  returned: always
  type: list
  elements: dict
  contains:
    endpoint:
      description: The endpoint (name, kind, route, url, model, api; never the key).
      type: dict
    checks:
      description: C(name) (models, completion, stream, auth), C(ok) and C(detail) of each check.
      type: list
      elements: dict
  sample:
    - endpoint: {name: vllm/node1/tiny, kind: vllm, route: direct, url: "http://127.0.0.1:8000", model: tiny-llama}
      checks:
        - {name: models, ok: true, detail: "HTTP 200, models: tiny-llama"}
        - {name: completion, ok: true, detail: "HTTP 200, 16 tokens: 'Hello'"}
        - {name: stream, ok: true, detail: "first token after 31.0 ms, 16 tokens"}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.onprem.llm.plugins.module_utils.bench import client, smoke
from ansible_collections.onprem.llm.plugins.module_utils.bench.endpoints import ENDPOINT_ARGSPEC, public_view


def main():
    module = AnsibleModule(
        argument_spec=dict(
            endpoints=dict(type="list", elements="dict", required=True, options=ENDPOINT_ARGSPEC),
            max_tokens=dict(type="int", default=16, no_log=False),
            timeout=dict(type="float", default=120.0),
        ),
        supports_check_mode=True,
    )
    endpoints = module.params["endpoints"]
    if client.bad_url(endpoints):
        module.fail_json(msg=client.bad_url(endpoints))
    results = [{"endpoint": public_view(ep),
                "checks": smoke.check_endpoint(ep, module.params["max_tokens"], module.params["timeout"])}
               for ep in endpoints]
    failed = smoke.failures(results)
    if failed:
        module.fail_json(msg="smoke test failed: " + "; ".join(failed), checks=results)
    module.exit_json(changed=False, checks=results)


if __name__ == "__main__":
    main()
