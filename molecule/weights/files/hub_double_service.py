"""Run tests/doubles/hf_hub_double.py as a service for the weights scenario (lab plumbing only).

    python3 hub_double_service.py CONFIG.json

CONFIG: {"repos": {"owner/name": "/dir", ...}, "counters": "/run/.../counters.json",
         "instances": [{"name": "hub", "port": 18080}, {"name": "throttled", "port": 18081,
                        "rate_limit": 8000000}]}
Every instance publishes every repo (same commits: the double derives them from the contents).
The counters (body bytes per file, per instance) are rewritten every 0.2 s so a test can tell how
many bytes a transfer really cost. Loopback only: the mirror is the host with "upstream access".
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from hf_hub_double import HubDouble  # noqa: E402


def main(path):
    with open(path) as f:
        cfg = json.load(f)
    doubles = {}
    for inst in cfg["instances"]:
        d = HubDouble()
        for repo_id, directory in sorted(cfg["repos"].items()):
            d.add_repo(repo_id, directory)
        d.rate_limit = inst.get("rate_limit")
        d.start(port=inst["port"])
        doubles[inst["name"]] = d
    print(json.dumps({n: d.url for n, d in doubles.items()}), flush=True)
    tmp = cfg["counters"] + ".tmp"
    while True:
        snap = {}
        for name, d in doubles.items():
            with d.lock:
                snap[name] = {"bytes_sent": d.bytes_sent, "body_bytes": dict(d.body_bytes)}
        with open(tmp, "w") as f:
            json.dump(snap, f, sort_keys=True)
        os.replace(tmp, cfg["counters"])
        time.sleep(0.2)


if __name__ == "__main__":
    main(sys.argv[1])
