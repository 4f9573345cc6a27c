#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: llm_evaluate_report
short_description: Write an LLM evaluation as JSON, a Markdown table and a quality-speed-memory chart
version_added: 0.1.0
description:
  - Combines the C(results) of M(onprem.llm.llm_evaluate) from every runner with each endpoint's
    speed (M(onprem.llm.llm_benchmark) results at one concurrency) and memory, and writes
    C(<name>.json), C(<name>.md) and C(<name>.png) into O(dest).
  - The chart has one point per endpoint (a model, or one quantization of it) - output tokens/s
    across, quality (mean accuracy over the task files, or perplexity when no task file was given)
    up, and the memory the instance holds as the point's size.
  - Meant for the controller (C(delegate_to=localhost) with
    C(ansible_python_interpreter={{ ansible_playbook_python }})), where C(matplotlib) is installed.
author:
  - onprem.llm contributors (@onprem-llm)
requirements:
  - matplotlib (for O(chart=true))
options:
  results:
    description: The C(results) lists of M(onprem.llm.llm_evaluate), concatenated.
    type: list
    elements: dict
    required: true
  speed:
    description: The C(results) lists of M(onprem.llm.llm_benchmark) (one concurrency level), concatenated.
    type: list
    elements: dict
    default: []
  memory:
    description: Memory per endpoint name, C({bytes, source}).
    type: dict
    default: {}
  settings:
    description: What was asked (files, concurrency), kept in the report.
    type: dict
    default: {}
  dest:
    description: Directory to write into (created when missing).
    type: path
    required: true
  name:
    description: File name stem.
    type: str
    default: evaluation
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
seealso:
  - module: onprem.llm.llm_evaluate
  - module: onprem.llm.llm_benchmark_report
"""

EXAMPLES = r"""
- name: Write the evaluation report on the controller
  onprem.llm.llm_evaluate_report:
    results: "{{ eval_runs.results | map(attribute='results') | flatten }}"
    speed: "{{ speed_runs.results | map(attribute='results') | flatten }}"
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
  description: Path of the chart ("" when O(chart=false) or nothing has both quality and speed).
  returned: always
  type: str
report:
  description: The JSON document (schema, generated_at, settings, rows with tasks, texts, quality, perplexity, speed, memory).
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
from ansible_collections.onprem.llm.plugins.module_utils.evaluate import report as eval_report
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


def chart_png(points, axis_name):
    """Quality (or perplexity) against output tokens/s; the area of a point is its memory."""
    fig, axis = plt.subplots(figsize=(8, 5.5))
    sizes = [p[3] for p in points if p[3]]
    largest = float(max(sizes)) if sizes else 1.0
    for label, x, y, mem in points:
        area = 60.0 + 1200.0 * (float(mem) / largest if mem else 0.0)
        axis.scatter([x], [y], s=area, alpha=0.55)
        text = label if not mem else "%s\n%.0f MiB" % (label, mem / 1048576.0)
        axis.annotate(text, (x, y), fontsize="small", xytext=(6, 6), textcoords="offset points")
    axis.set_xlim(left=0)
    if axis_name.startswith("quality"):
        axis.set_ylim(0, 1.05)
    axis.set_xlabel("output tokens/s")
    axis.set_ylabel(axis_name)
    axis.grid(True, alpha=0.3)
    axis.set_title("Quality against speed (point size: memory held)")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            results=dict(type="list", elements="dict", required=True),
            speed=dict(type="list", elements="dict", default=[]),
            memory=dict(type="dict", default={}),
            settings=dict(type="dict", default={}),
            dest=dict(type="path", required=True),
            name=dict(type="str", default="evaluation"),
            chart=dict(type="bool", default=True),
            generated_at=dict(type="str", default=""),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if p["chart"] and not HAS_MPL:
        module.fail_json(msg=missing_required_lib("matplotlib"), exception=MPL_ERROR)
    try:
        report = eval_report.build_report(p["results"], p["speed"], p["memory"], p["settings"], p["generated_at"])
    except (KeyError, TypeError, ValueError) as exc:
        module.fail_json(msg="cannot build the report: %s" % exc)
    table = eval_report.markdown(report)
    points, axis_name = eval_report.chart_points(report)
    stem = os.path.join(p["dest"], p["name"])
    paths = {"json": stem + ".json", "markdown": stem + ".md", "png": stem + ".png" if p["chart"] and points else ""}
    changed = False
    if not module.check_mode:
        os.makedirs(p["dest"], exist_ok=True)
        changed |= write_if_changed(paths["json"], (json.dumps(report, indent=1, sort_keys=True) + "\n").encode("utf-8"))
        changed |= write_if_changed(paths["markdown"], table.encode("utf-8"))
        if paths["png"]:
            changed |= write_if_changed(paths["png"], chart_png(points, axis_name))
    module.exit_json(changed=changed, report=report, table=table, **paths)


if __name__ == "__main__":
    main()
