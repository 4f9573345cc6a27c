# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The evaluation report: quality, speed and memory per endpoint, its table and its chart's points.

``build_report(results, speed, memory, settings)``:

- ``results``: onprem.llm.llm_evaluate's ``results`` from every runner;
- ``speed``: onprem.llm.llm_benchmark's ``results`` at the user's concurrency (may be empty);
- ``memory``: {endpoint name: {"bytes": int, "source": str}} (may be empty).

One row per endpoint. ``quality`` is the mean accuracy over the task files (``accuracy`` with
log-likelihood scoring too, so generation and log-likelihood rows stay comparable); a row without
task files has none, and the chart then plots perplexity (lower is better) instead.
"""

from __future__ import annotations

SCHEMA = 1


def _mean(values):
    values = [v for v in values if v is not None]
    return round(sum(values) / len(values), 6) if values else None


def build_report(results, speed=None, memory=None, settings=None, generated_at=""):
    speeds = {}
    for run in speed or []:
        speeds[run["endpoint"]["name"]] = dict(run["summary"], concurrency=int(run["concurrency"]))
    memory = memory or {}
    rows = []
    for res in results or []:
        ep = res["endpoint"]
        tasks = {}
        for task in res.get("tasks", []):
            tasks[task["name"]] = dict(task["summary"], scoring=task["scoring"])
            if "items" in task:
                tasks[task["name"]]["items"] = task["items"]
        texts = dict((t["name"], t) for t in res.get("texts", []))
        run = speeds.get(ep["name"]) or {}
        mem = memory.get(ep["name"]) or {}
        rows.append({
            "endpoint": ep["name"], "kind": ep.get("kind", ""), "route": ep.get("route", ""), "model": ep.get("model", ""),
            "tasks": tasks, "texts": texts,
            "quality": _mean([t.get("accuracy") for t in tasks.values()]),
            "perplexity": _mean([t.get("perplexity") for t in texts.values()]),
            "speed": {"concurrency": run.get("concurrency"), "output_tokens_per_s": run.get("output_tokens_per_s"),
                      "ttft_p50_ms": (run.get("ttft_ms") or {}).get("p50"), "errors": run.get("errors")} if run else None,
            "memory_bytes": mem.get("bytes"), "memory_source": mem.get("source", ""),
            "seconds": res.get("seconds"),
        })
    rows.sort(key=lambda r: (r["kind"], r["endpoint"]))
    return {"schema": SCHEMA, "generated_at": generated_at, "settings": settings or {}, "rows": rows}


def _fmt(value, digits=3):
    if value is None:
        return "-"
    if isinstance(value, float):
        return ("%." + str(digits) + "f") % value
    return str(value)


def _mib(value):
    return "-" if value is None else "%.0f MiB" % (value / 1048576.0)


def markdown(report):
    rows = report["rows"]
    task_names = sorted(set(n for r in rows for n in r["tasks"]))
    text_names = sorted(set(n for r in rows for n in r["texts"]))
    head = (["endpoint", "model"] + ["%s acc" % n for n in task_names] + ["%s ppl" % n for n in text_names]
            + ["quality", "output tok/s", "TTFT p50 ms", "memory"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["endpoint"], r["model"]]
        for name in task_names:
            task = r["tasks"].get(name)
            cells.append("-" if task is None else "%s (%s)" % (_fmt(task.get("accuracy")), task["scoring"]))
        for name in text_names:
            text = r["texts"].get(name) or {}
            cells.append(_fmt(text.get("perplexity"), 2) if "perplexity" in text else "skipped" if text else "-")
        speed = r["speed"] or {}
        cells += [_fmt(r["quality"]), _fmt(speed.get("output_tokens_per_s"), 1), _fmt(speed.get("ttft_p50_ms"), 1),
                  _mib(r["memory_bytes"])]
        lines.append("| " + " | ".join(cells) + " |")
    notes = ["", "quality: mean accuracy over the task files; ppl: perplexity (lower is better); speed at "
             "concurrency %s; memory: %s." % (
                 _fmt((report["settings"] or {}).get("concurrency")),
                 ", ".join(sorted(set(r["memory_source"] for r in rows if r["memory_source"]))) or "not measured")]
    skipped = ["%s %s: %s" % (r["endpoint"], n, t["skipped"]) for r in rows for n, t in sorted(r["texts"].items())
               if "skipped" in t]
    if skipped:
        notes.append("Skipped: " + "; ".join(skipped) + ".")
    return "\n".join(lines + notes) + "\n"


def chart_points(report):
    """[(label, x = output tokens/s, y, size bytes)] and the y axis' name; rows without speed are left out."""
    use_quality = any(r["quality"] is not None for r in report["rows"])
    axis = "quality (mean accuracy)" if use_quality else "perplexity (lower is better)"
    points = []
    for r in report["rows"]:
        speed = (r["speed"] or {}).get("output_tokens_per_s")
        y = r["quality"] if use_quality else r["perplexity"]
        if speed is None or y is None:
            continue
        points.append((r["endpoint"], float(speed), float(y), r["memory_bytes"]))
    return points, axis
