"""Start the ollama double (tests/doubles/ollama_double/bin/ollama) with one model, tiny:latest."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOUBLE = ROOT / "tests" / "doubles" / "ollama_double" / "bin" / "ollama"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_double(tmp_path, **env_extra):
    models = tmp_path / "models"
    manifest = models / "manifests" / "registry.ollama.ai" / "library" / "tiny" / "latest"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"schemaVersion": 2, "config": {"digest": "sha256:" + "0" * 64, "size": 2},
                                    "layers": []}))
    port = _free_port()
    env = dict(os.environ, OLLAMA_MODELS=str(models), OLLAMA_HOST="127.0.0.1:%d" % port, HOME=str(tmp_path),
               OLLAMA_DOUBLE_TOKEN_SECONDS="0.002", OLLAMA_DOUBLE_FIRST_TOKEN_SECONDS="0.005")
    env.update(env_extra)
    proc = subprocess.Popen([sys.executable, str(DOUBLE), "serve"], env=env, stderr=subprocess.DEVNULL)
    url = "http://127.0.0.1:%d" % port
    deadline = time.monotonic() + 30  # a loaded 2-core machine starts Python slowly
    while True:
        try:
            with urllib.request.urlopen(url + "/", timeout=1) as resp:
                if resp.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("the ollama double did not start")
            time.sleep(0.05)
    return proc, url
