#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: llm_benchmark_report
short_description: Write an LLM benchmark's results as JSON, a Markdown table and a PNG chart
version_added: 0.1.0
description:
  - Combines the C(results) of M(onprem.llm.llm_benchmark) from every runner with the matching
    C(vllm bench serve) results, computes our-versus-vLLM ratios (output tokens/s, TTFT), and
    writes C(<name>.json), C(<name>.md) and C(<name>.png) into O(dest).
  - Meant for the controller (C(delegate_to=localhost) with
    C(ansible_python_interpreter={{ ansible_playbook_python }})), where C(matplotlib) is
    installed; the chart is skipped with O(chart=false).
author:
  - onprem.llm contributors (@onprem-llm)
requirements:
  - matplotlib (for O(chart=true))
options:
  runs:
    description: The C(results) lists of M(onprem.llm.llm_benchmark), concatenated.
    type: list
    elements: dict
    required: true
  reference:
    description:
      - C(vllm bench serve) results, each C({endpoint, concurrency, summary}) with the summary from
        the C(onprem.llm.llm_vllm_bench_result) filter.
    type: list
    elements: dict
    default: []
  settings:
    description: What was asked (concurrency levels, requests, lengths), shown on top of the report.
    type: dict
    default: {}
  dest:
    description: Directory to write into (created when missing).
    type: path
    required: true
  name:
    description: File name stem.
    type: str
    default: benchmark
  chart:
    description: Draw the PNG chart.
    type: bool
    default: true
  generated_at:
    description: Timestamp written into the report ("" for none).
    type: str
    default: ""
attributes:
  check_mode:
    support: full
    description: In check mode nothing is written; the report is still built and returned.
  diff_mode:
    support: none
    description: Reports are generated files; no diff is shown.
  platform:
    support: full
    platforms: posix
    description: Runs on the controller.
"""

EXAMPLES = r"""
- name: Write the report on the controller
  onprem.llm.llm_benchmark_report:
    runs: "{{ bench_results }}"
    reference: "{{ vllm_bench_results }}"
    dest: "{{ playbook_dir }}/../benchmarks/results"
  delegate_to: localhost
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
"""

RETURN = r"""
json:
  description: Path of the JSON document.
  returned: always
  type: str
markdown:
  description: Path of the Markdown table.
  returned: always
  type: str
png:
  description: Path of the chart ("" when O(chart=false)).
  returned: always
  type: str
report:
  description: The JSON document (schema, generated_at, settings, rows with summary, vllm_bench, ratio).
  returned: always
  type: dict
table:
  description: The Markdown text.
  returned: always
  type: str
"""

import io
import json
import os
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.onprem.llm.plugins.module_utils.bench import report as bench_report
from ansible_collections.onprem.llm.plugins.module_utils.report_files import write_if_changed

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    HAS_MPL = True
    MPL_ERROR = None
except ImportError:
    HAS_MPL = False
    MPL_ERROR = traceback.format_exc()


def chart_png(report):
    """Three panels over concurrency: output tokens/s, TTFT p50, latency p95; one line per endpoint."""
    series = {}
    for row in report["rows"]:
        series.setdefault(row["endpoint"], []).append(row)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    panels = (("output tokens/s", lambda s: s.get("output_tokens_per_s")),
              ("TTFT p50 (ms)", lambda s: s["ttft_ms"].get("p50")),
              ("latency p95 (ms)", lambda s: s["latency_ms"].get("p95")))
    for axis, (title, get) in zip(axes, panels):
        for name, rows in sorted(series.items()):
            rows = sorted(rows, key=lambda r: r["concurrency"])
            xs = [r["concurrency"] for r in rows]
            ys = [get(r["summary"]) for r in rows]
            axis.plot(xs, [float("nan") if y is None else y for y in ys], marker="o", label=name)
        axis.set_title(title)
        axis.set_xlabel("concurrent requests")
        axis.set_xscale("log")
        axis.grid(True, alpha=0.3)
    axes[0].legend(fontsize="small")
    fig.suptitle("LLM endpoint benchmark")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            runs=dict(type="list", elements="dict", required=True),
            reference=dict(type="list", elements="dict", default=[]),
            settings=dict(type="dict", default={}),
            dest=dict(type="path", required=True),
            name=dict(type="str", default="benchmark"),
            chart=dict(type="bool", default=True),
            generated_at=dict(type="str", default=""),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if p["chart"] and not HAS_MPL:
        module.fail_json(msg=missing_required_lib("matplotlib"), exception=MPL_ERROR)
    try:
        report = bench_report.build_report(p["runs"], p["reference"], p["settings"], p["generated_at"])
    except (KeyError, TypeError, ValueError) as exc:
        module.fail_json(msg="cannot build the report: %s" % exc)
    table = bench_report.markdown(report)
    stem = os.path.join(p["dest"], p["name"])
    paths = {"json": stem + ".json", "markdown": stem + ".md", "png": stem + ".png" if p["chart"] else ""}
    changed = False
    if not module.check_mode:
        os.makedirs(p["dest"], exist_ok=True)
        changed |= write_if_changed(paths["json"], (json.dumps(report, indent=1, sort_keys=True) + "\n").encode("utf-8"))
        changed |= write_if_changed(paths["markdown"], table.encode("utf-8"))
        if p["chart"]:
            changed |= write_if_changed(paths["png"], chart_png(report))
    module.exit_json(changed=changed, report=report, table=table, **paths)


if __name__ == "__main__":
    main()
