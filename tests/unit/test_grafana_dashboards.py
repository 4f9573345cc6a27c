# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Grafana dashboards the monitoring role installs (roles/monitoring/files/grafana): well-formed
for Grafana's file provisioning. That every query runs and the main ones return series is checked
against the real Prometheus of molecule/rollout (tests/test_monitoring.py there)."""

from __future__ import annotations

import json
import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "roles" / "monitoring" / "files" / "grafana").glob("*.json"))
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
# Grafana's own variables; the dashboards' are in their templating list.
GRAFANA_VARIABLES = {"__rate_interval", "__range", "__interval"}


def _load(path):
    return json.loads(path.read_text())


def test_the_role_installs_every_dashboard_file():
    listed = yaml.safe_load((ROOT / "roles" / "monitoring" / "vars" / "main.yml").read_text())["__monitoring_dashboards"]
    assert sorted(listed) == [p.name for p in DASHBOARDS]
    assert len(DASHBOARDS) == 4


def test_dashboard_uids_and_titles_are_unique():
    docs = [_load(p) for p in DASHBOARDS]
    assert len({d["uid"] for d in docs}) == len(docs) and len({d["title"] for d in docs}) == len(docs)
    for doc in docs:
        assert re.fullmatch(r"[a-z0-9-]{1,40}", doc["uid"]), doc["uid"]
        assert "onprem-llm" in doc["tags"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_panels_have_unique_ids_fit_the_grid_and_query_the_chosen_prometheus(path):
    doc = _load(path)
    ids = [panel["id"] for panel in doc["panels"]]
    assert len(ids) == len(set(ids))
    cells = set()
    for panel in doc["panels"]:
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24 and grid["h"] > 0, panel["title"]
        area = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])}
        assert not area & cells, "%s overlaps another panel" % panel["title"]
        cells |= area
        assert panel["datasource"] == DATASOURCE and panel["targets"], panel["title"]
        assert panel["description"], panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs))
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE and target["expr"].strip()


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_variable_a_query_uses_is_defined(path):
    doc = _load(path)
    defined = {v["name"] for v in doc["templating"]["list"]} | GRAFANA_VARIABLES
    assert doc["templating"]["list"][0]["name"] == "datasource"
    for panel in doc["panels"]:
        for target in panel["targets"]:
            used = set(re.findall(r"\$\{?(\w+)", target["expr"]))
            assert used <= defined, (panel["title"], used - defined)
