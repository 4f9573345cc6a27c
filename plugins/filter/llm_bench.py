# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters behind playbooks/smoke.yml, benchmark.yml and evaluate.yml (logic in module_utils/bench, evaluate)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.onprem.llm.plugins.module_utils.bench import endpoints as _ep
from ansible_collections.onprem.llm.plugins.module_utils.bench import vllm_bench as _vb
from ansible_collections.onprem.llm.plugins.module_utils.evaluate import inputs as _ev
from ansible_collections.onprem.llm.plugins.module_utils.plain import plain


def llm_endpoints(nodes, api="chat", gateway_client=""):
    try:
        # A host as its roles published it (ansible_local), or already as derive_endpoints reads it.
        nodes = [_ep.node_from_published(node["host"], plain(node.get("published")), plain(node.get("keys")))
                 if "published" in node else node for node in nodes or []]
        return _ep.derive_endpoints(nodes, api, gateway_client or "")
    except (_ep.EndpointError, KeyError, TypeError) as exc:
        raise AnsibleFilterError("llm_endpoints: %s" % exc)


def llm_normalize_endpoints(endpoints, default_runner="localhost", api="chat"):
    try:
        return _ep.normalize_endpoints(list(endpoints or []), default_runner, api)
    except _ep.EndpointError as exc:
        raise AnsibleFilterError("llm_normalize_endpoints: %s" % exc)


def llm_curl_markdown(endpoints, title="curl examples", source=""):
    return _ep.curl_markdown(list(endpoints or []), title, source)


def llm_vllm_bench_argv(endpoint, concurrency, num_requests, input_len, output_len, result_dir, result_file):
    return _vb.bench_argv(endpoint, concurrency, num_requests, input_len, output_len, result_dir, result_file)


def llm_vllm_bench_result(doc):
    try:
        return _vb.parse_result(doc)
    except ValueError as exc:
        raise AnsibleFilterError("llm_vllm_bench_result: %s" % exc)


def llm_eval_files(entries, kind, base="", node_dir="/var/cache/onprem-llm/eval"):
    try:
        return _ev.file_entries(entries, kind, base, node_dir)
    except (_ev.InputError, TypeError, ValueError) as exc:
        raise AnsibleFilterError("llm_eval_files: %s" % exc)


def llm_instance_memory(memory_current, cgroup_procs="", gpu_xml="", status_texts=""):
    try:
        return _ev.instance_memory(memory_current, cgroup_procs, gpu_xml, status_texts)
    except _ev.InputError as exc:
        raise AnsibleFilterError("llm_instance_memory: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {
            "llm_endpoints": llm_endpoints,
            "llm_normalize_endpoints": llm_normalize_endpoints,
            "llm_curl_markdown": llm_curl_markdown,
            "llm_vllm_bench_argv": llm_vllm_bench_argv,
            "llm_vllm_bench_result": llm_vllm_bench_result,
            "llm_eval_files": llm_eval_files,
            "llm_instance_memory": llm_instance_memory,
        }
