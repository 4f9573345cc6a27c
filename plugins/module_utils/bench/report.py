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

The gateway's overhead: a gateway row is paired with the direct row of the same model at the same
concurrency when the model has exactly one direct endpoint (with several, the gateway spreads the
load and the two are not comparable). Each pair reports the TTFT added at p50 and p99 and the
gateway's request rate over the direct one.
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
    overhead = gateway_overhead(rows)
    for row in rows:
        pair = overhead.get((row["endpoint"], row["concurrency"]))
        row["gateway_added_ttft_ms"] = pair["ttft_added_ms"] if pair else None
    return {"schema": SCHEMA, "generated_at": generated_at, "settings": settings or {}, "rows": rows,
            "gateway_overhead": [overhead[key] for key in sorted(overhead)]}


def _minus(a, b):
    return None if a is None or b is None else round(a - b, 3)


def gateway_overhead(rows):
    """{(gateway endpoint, concurrency): pair} for each gateway row with one direct row to compare."""
    direct = {}
    for row in rows:
        if row["route"] == "direct":
            direct.setdefault((row["model"], row["concurrency"]), []).append(row)
    pairs = {}
    for row in rows:
        twins = direct.get((row["model"], row["concurrency"])) or []
        if row["route"] != "gateway" or len(twins) != 1:
            continue
        via, base = row["summary"], twins[0]["summary"]
        pairs[(row["endpoint"], row["concurrency"])] = {
            "model": row["model"], "concurrency": row["concurrency"],
            "gateway": row["endpoint"], "direct": twins[0]["endpoint"],
            "ttft_p50_ms": {"direct": base["ttft_ms"].get("p50"), "gateway": via["ttft_ms"].get("p50")},
            "ttft_p99_ms": {"direct": base["ttft_ms"].get("p99"), "gateway": via["ttft_ms"].get("p99")},
            "ttft_added_ms": {"p50": _minus(via["ttft_ms"].get("p50"), base["ttft_ms"].get("p50")),
                              "p99": _minus(via["ttft_ms"].get("p99"), base["ttft_ms"].get("p99"))},
            "request_rate": {"direct": base.get("request_throughput"), "gateway": via.get("request_throughput")},
            "request_rate_ratio": ratio(via.get("request_throughput"), base.get("request_throughput")),
            "errors": {"direct": base.get("errors"), "gateway": via.get("errors")},
        }
    return pairs


def _fmt(value, digits=1):
    if value is None:
        return "-"
    if isinstance(value, float):
        return ("%%.%df" % digits) % value
    return str(value)


COLUMNS = ("endpoint", "route", "conc.", "requests", "errors", "TTFT p50 ms", "TTFT p95 ms", "TTFT p99 ms",
           "gateway +TTFT p50 ms", "out tok/s", "TPOT mean ms", "latency p50 ms", "latency p95 ms", "latency p99 ms",
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
                 _fmt((row.get("gateway_added_ttft_ms") or {}).get("p50"), 2), _fmt(s.get("output_tokens_per_s")), _fmt(s["tpot_ms"].get("mean"), 2),
                 _fmt(s["latency_ms"].get("p50")), _fmt(s["latency_ms"].get("p95")), _fmt(s["latency_ms"].get("p99")),
                 _fmt(ref.get("output_tokens_per_s")), _fmt(rat.get("output_tokens_per_s"), 3),
                 _fmt(rat.get("ttft_mean"), 3)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "TTFT: time to first token; TPOT: time per output token after the first; out tok/s: output "
              "tokens of all requests over the level's wall time. gateway +TTFT p50 = the gateway row's TTFT p50 "
              "minus the direct row's of the same model and concurrency (shown when the model has one direct "
              "endpoint). ratio tok/s = ours / `vllm bench serve`'s on "
              "the same server with the same lengths and concurrency (about 1.0: our client is not the "
              "bottleneck); ratio TTFT = our mean TTFT / theirs."]
    lines += overhead_markdown(report.get("gateway_overhead") or [])
    errors = [(r["endpoint"], r["concurrency"], m) for r in report.get("rows") or []
              for m in r["summary"].get("error_messages") or []]
    if errors:
        lines += ["", "## Errors", ""] + ["- %s, concurrency %d: %s" % e for e in errors]
    return "\n".join(lines) + "\n"


OVERHEAD_COLUMNS = ("model", "conc.", "TTFT p50 direct / gateway ms", "added p50 ms", "TTFT p99 direct / gateway ms",
                    "added p99 ms", "req/s direct / gateway", "gateway / direct", "errors direct / gateway")


def overhead_markdown(pairs):
    """The "Gateway overhead" section: one line per model and concurrency measured both ways."""
    if not pairs:
        return []
    lines = ["", "## Gateway overhead", "",
             "| " + " | ".join(OVERHEAD_COLUMNS) + " |", "|" + "|".join(["---"] + ["---:"] * (len(OVERHEAD_COLUMNS) - 1)) + "|"]
    for pair in pairs:
        p50, p99, rate, err = pair["ttft_p50_ms"], pair["ttft_p99_ms"], pair["request_rate"], pair["errors"]
        cells = [pair["model"], str(pair["concurrency"]),
                 "%s / %s" % (_fmt(p50["direct"], 2), _fmt(p50["gateway"], 2)), _fmt(pair["ttft_added_ms"]["p50"], 2),
                 "%s / %s" % (_fmt(p99["direct"], 2), _fmt(p99["gateway"], 2)), _fmt(pair["ttft_added_ms"]["p99"], 2),
                 "%s / %s" % (_fmt(rate["direct"]), _fmt(rate["gateway"])), _fmt(pair["request_rate_ratio"], 3),
                 "%s / %s" % (_fmt(err["direct"]), _fmt(err["gateway"]))]
        lines.append("| " + " | ".join(cells) + " |")
    return lines
