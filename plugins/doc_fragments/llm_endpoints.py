# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The endpoints option of the modules that talk to OpenAI-compatible endpoints (llm_smoke, llm_benchmark)."""

from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r'''
options:
  endpoints:
    description:
      - The endpoints, as the C(onprem.llm.llm_endpoints) filter derives them from the inventory.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Label used in results and reports.
        type: str
        required: true
      url:
        description: Base URL, V(http://127.0.0.1:8000) or V(https://gateway:8443) (a trailing C(/v1) is ignored).
        type: str
        required: true
      model:
        description: The C(model) field of every request (vLLM's served model name, Ollama's C(name:tag)).
        type: str
        required: true
      kind:
        description: Server behind the endpoint; M(onprem.llm.llm_benchmark) sends C(ignore_eos) to V(vllm) endpoints when asked to.
        type: str
        choices: [vllm, ollama, other]
        default: other
      route:
        description: V(direct) to the backend or through the V(gateway) (reported only).
        type: str
        default: direct
      api:
        description: V(chat) uses C(/v1/chat/completions), V(completions) C(/v1/completions).
        type: str
        choices: [chat, completions]
        default: chat
      api_key:
        description: Bearer token sent as C(Authorization), "" for none.
        type: str
        default: ""
      validate_certs:
        description: Verify the HTTPS certificate.
        type: bool
        default: true
      ca_path:
        description: PEM file on this node to trust for HTTPS (the gateway's self-signed certificate), "" for the system CAs.
        type: str
        default: ""
      tls_server_name:
        description: Name the certificate must carry (and SNI) when the URL names an address, "" for the URL's host.
        type: str
        default: ""
      runner:
        description: Inventory host the client runs on (informational here; playbooks delegate to it).
        type: str
        default: ""
      model_path:
        description: Model directory on the vLLM node (tokenizer for vllm bench serve; informational here).
        type: str
        default: ""
      vllm_python:
        description: Interpreter of the vLLM venv (for vllm bench serve; informational here).
        type: str
        default: ""
'''
