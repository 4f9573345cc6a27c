# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark report: one document from every runner's results, and its Markdown table.

``build_report(runs, reference, settings)``:

- ``runs``: the ``results`` lists of onprem.llm.llm_benchmark, one row per endpoint and
  concurrency level: {endpoint: {name, kind, route, model, url}, concurrency, summary}
- ``reference``: ``vllm bench serve`` results on the same servers, {endpoint, concurrency, summary}
  with summaries from ``vllm_bench.parse_result``
- ``settings``: what was asked (concurrency levels, requests, lengths)

Ratios are ours / vllm bench serve's for output tokens/s (1.0 = our client drives the server as
hard as vLLM's own; well below 1 would mean our client is the bottleneck) and for mean TTFT.
"""

from __future__ import annotations

from ansible_collections.onprem.llm.plugins.module_utils.bench.stats import ratio

SCHEMA = 1


def build_report(runs, reference=None, settings=None, generated_at=""):
    refs = {}
    for item in reference or []:
        refs[(item["endpoint"]["name"], int(item["concurrency"]))] = item["summary"]
    rows = []
    for run in runs or []:
        ep = run["endpoint"]
        summary = run["summary"]
        row = {
            "endpoint": ep["name"], "kind": ep.get("kind", ""), "route": ep.get("route", ""), "model": ep.get("model", ""),
            "url": ep.get("url", ""), "concurrency": int(run["concurrency"]), "summary": summary,
            "vllm_bench": None, "ratio": None,
        }
        ref = refs.get((ep["name"], int(run["concurrency"])))
        if ref is not None:
            row["vllm_bench"] = ref
            row["ratio"] = {
                "output_tokens_per_s": ratio(summary.get("output_tokens_per_s"), ref.get("output_tokens_per_s")),
                "ttft_mean": ratio((summary.get("ttft_ms") or {}).get("mean"), (ref.get("ttft_ms") or {}).get("mean")),
                "ttft_p50": ratio((summary.get("ttft_ms") or {}).get("p50"), (ref.get("ttft_ms") or {}).get("p50")),
            }
        rows.append(row)
    rows.sort(key=lambda r: (r["route"] != "direct", r["kind"], r["endpoint"], r["concurrency"]))
    return {"schema": SCHEMA, "generated_at": generated_at, "settings": settings or {}, "rows": rows}


def _fmt(value, digits=1):
    if value is None:
        return "-"
    if isinstance(value, float):
        return ("%%.%df" % digits) % value
    return str(value)


COLUMNS = ("endpoint", "route", "conc.", "requests", "errors", "TTFT p50 ms", "TTFT p95 ms", "TTFT p99 ms",
           "out tok/s", "TPOT mean ms", "latency p50 ms", "latency p95 ms", "latency p99 ms",
           "vllm bench tok/s", "ratio tok/s", "ratio TTFT")


def markdown(report):
    """A Markdown page: settings, then one table row per endpoint x concurrency."""
    settings = report.get("settings") or {}
    lines = ["# LLM endpoint benchmark", ""]
    if report.get("generated_at"):
        lines += ["Generated %s by playbooks/benchmark.yml." % report["generated_at"], ""]
    if settings:
        lines += ["Settings: " + ", ".join("%s=%s" % (k, settings[k]) for k in sorted(settings)), ""]
    lines += ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join(["---"] * 2 + ["---:"] * (len(COLUMNS) - 2)) + "|"]
    for row in report.get("rows") or []:
        s = row["summary"]
        ref = row.get("vllm_bench") or {}
        rat = row.get("ratio") or {}
        cells = [row["endpoint"], row["route"], str(row["concurrency"]), str(s.get("requests")), str(s.get("errors")),
                 _fmt(s["ttft_ms"].get("p50")), _fmt(s["ttft_ms"].get("p95")), _fmt(s["ttft_ms"].get("p99")),
                 _fmt(s.get("output_tokens_per_s")), _fmt(s["tpot_ms"].get("mean"), 2),
                 _fmt(s["latency_ms"].get("p50")), _fmt(s["latency_ms"].get("p95")), _fmt(s["latency_ms"].get("p99")),
                 _fmt(ref.get("output_tokens_per_s")), _fmt(rat.get("output_tokens_per_s"), 3),
                 _fmt(rat.get("ttft_mean"), 3)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "TTFT: time to first token; TPOT: time per output token after the first; out tok/s: output "
              "tokens of all requests over the level's wall time. ratio tok/s = ours / `vllm bench serve`'s on "
              "the same server with the same lengths and concurrency (about 1.0: our client is not the "
              "bottleneck); ratio TTFT = our mean TTFT / theirs."]
    errors = [(r["endpoint"], r["concurrency"], m) for r in report.get("rows") or []
              for m in r["summary"].get("error_messages") or []]
    if errors:
        lines += ["", "## Errors", ""] + ["- %s, concurrency %d: %s" % e for e in errors]
    return "\n".join(lines) + "\n"
