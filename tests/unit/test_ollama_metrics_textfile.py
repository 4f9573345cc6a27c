# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ollama's loaded models as the monitoring role's collector writes them for the node exporter
(roles/monitoring/files/onprem_llm_ollama_metrics.py): from the answer Ollama's API reference
prints, and from a local HTTP server answering as Ollama does. molecule/ollama reads the Ollama
double's live answers through the node exporter."""

from __future__ import annotations

import calendar
import http.server
import json
import pathlib
import subprocess
import sys
import threading

import pytest
from collector_helper import load_collector  # tests/unit is on sys.path (rootdir conftest)

ROOT = pathlib.Path(__file__).resolve().parents[2]
om, SCRIPT = load_collector("onprem_llm_ollama_metrics")
API_PS = json.loads((ROOT / "tests" / "fixtures" / "ollama-api" / "api-ps.json").read_text())


def _values(samples):
    return {(name, tuple(sorted(labels.items()))): value for name, labels, value in samples}


def test_the_documented_answer_gives_size_vram_and_expiry_of_the_loaded_model():
    got = _values(om.samples({"version": "0.20.0"}, {"models": [{}, {}]}, API_PS))
    model = (("model", "mistral:latest"),)
    assert got[("onprem_llm_ollama_up", ())] == 1
    assert got[("onprem_llm_ollama_info", (("version", "0.20.0"),))] == 1
    assert got[("onprem_llm_ollama_models_stored", ())] == 2
    assert got[("onprem_llm_ollama_model_loaded_bytes", model)] == 5137025024
    assert got[("onprem_llm_ollama_model_vram_bytes", model)] == 5137025024
    # 14:38:31.83753 at UTC-7 is 21:38:31.83753 UTC.
    assert got[("onprem_llm_ollama_model_expiry_timestamp_seconds", model)] == pytest.approx(
        calendar.timegm((2024, 6, 4, 21, 38, 31, 0, 0, 0)) + 0.83753)
    # The documented answer has no context_length: left out, not 0.
    assert ("onprem_llm_ollama_model_context_length", model) not in got


def test_no_answer_is_only_down():
    assert om.samples(None, None, None) == [("onprem_llm_ollama_up", {}, 0.0)]


@pytest.mark.parametrize("text, seconds", [
    ("2024-06-04T21:38:31Z", calendar.timegm((2024, 6, 4, 21, 38, 31, 0, 0, 0))),
    ("2024-06-05T06:38:31+09:00", calendar.timegm((2024, 6, 4, 21, 38, 31, 0, 0, 0))),
    ("2025-01-01T00:00:00.123456789Z", calendar.timegm((2025, 1, 1, 0, 0, 0, 0, 0, 0)) + 0.123456789),
    ("0001-01-01T00:00:00Z", calendar.timegm((1, 1, 1, 0, 0, 0, 0, 0, 0))),
    ("tomorrow", None), ("", None), (None, None)])
def test_rfc3339_times_as_go_writes_them(text, seconds):
    assert om.timestamp(text) == (pytest.approx(seconds) if seconds is not None else None)


def test_exposition_is_sorted_by_metric_and_escapes_model_names():
    text = om.exposition(om.samples({}, None, {"models": [{"name": 'we"ird', "size": 1, "size_vram": 0}]}))
    assert text.splitlines() == [
        "# HELP onprem_llm_ollama_up 1 when Ollama's API answered on the last run, 0 when it did not.",
        "# TYPE onprem_llm_ollama_up gauge",
        "onprem_llm_ollama_up 1",
        "# HELP onprem_llm_ollama_model_loaded_bytes Memory a loaded model takes (/api/ps size).",
        "# TYPE onprem_llm_ollama_model_loaded_bytes gauge",
        'onprem_llm_ollama_model_loaded_bytes{model="we\\"ird"} 1',
        "# HELP onprem_llm_ollama_model_vram_bytes Part of a loaded model in GPU memory (/api/ps size_vram).",
        "# TYPE onprem_llm_ollama_model_vram_bytes gauge",
        'onprem_llm_ollama_model_vram_bytes{model="we\\"ird"} 0']


class _Ollama(http.server.BaseHTTPRequestHandler):
    answers = {"/api/version": {"version": "0.20.0"}, "/api/tags": {"models": [{"name": "mistral:latest"}]},
               "/api/ps": API_PS}

    def do_GET(self):  # noqa: N802 - the standard library's name
        body = json.dumps(self.answers[self.path]).encode() if self.path in self.answers else b"404 page not found"
        self.send_response(200 if self.path in self.answers else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args):
        pass


@pytest.fixture(name="ollama_url")
def _ollama_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ollama)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()


def test_the_script_reads_the_api_and_writes_the_file(tmp_path, ollama_url):
    output = tmp_path / "onprem_llm_ollama.prom"
    subprocess.run([sys.executable, str(SCRIPT), "--output", str(output), "--url", ollama_url + "/"], check=True)
    text = output.read_text()
    assert "onprem_llm_ollama_up 1\n" in text and 'onprem_llm_ollama_info{version="0.20.0"} 1\n' in text
    assert "onprem_llm_ollama_models_stored 1\n" in text
    assert 'onprem_llm_ollama_model_vram_bytes{model="mistral:latest"} 5137025024\n' in text


def test_an_unreachable_api_writes_down(tmp_path):
    output = tmp_path / "onprem_llm_ollama.prom"
    subprocess.run([sys.executable, str(SCRIPT), "--output", str(output), "--url", "http://127.0.0.1:9"], check=True)
    assert output.read_text().splitlines()[-1] == "onprem_llm_ollama_up 0"
