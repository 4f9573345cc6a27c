#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load loop for molecule/rollout and molecule/gpu_reboot: send chat completions through the
gateway until a stop file appears, and count what failed.

Each request opens a new HTTPS connection (verified against the gateway's certificate); every
fourth one streams (SSE) and counts only when the stream ends with ``data: [DONE]``. Each worker
starts a request every ``--interval`` seconds (at once when the last one took longer): two a second
with the defaults, as steady clients send, not as many as the backends can answer, which kept vLLM
busy (its engine alone used about 0.1 s of CPU a request) on the test machine's two cores and
slowed every step beside it. A request fails on any transport error, a status other than 200, or a
body without a completion. Writes a JSON summary: total, ok, failed, the first errors, and the
timestamps of the first and last request.
"""

import argparse
import json
import os
import ssl
import threading
import time
import urllib.error
import urllib.request


def one_request(url, key, context, stream, model):
    body = {"model": model, "messages": [{"role": "user", "content": "Say hello"}],
            "max_tokens": 8, "stream": stream}
    req = urllib.request.Request(url + "/v1/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json", "Authorization": "Bearer " + key})
    with urllib.request.urlopen(req, timeout=60, context=context) as resp:
        text = resp.read().decode()
        if resp.status != 200:
            raise RuntimeError("HTTP %d: %s" % (resp.status, text[:200]))
    if stream:
        if "data: [DONE]" not in text:
            raise RuntimeError("stream without [DONE]: %s" % text[-200:])
    elif not json.loads(text).get("choices"):
        raise RuntimeError("no choices: %s" % text[:200])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--cafile", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--stop-file", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--model", default="tiny-llama")
    parser.add_argument("--max-seconds", type=int, default=900)
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()

    context = ssl.create_default_context(cafile=args.cafile)
    lock = threading.Lock()
    stats = {"total": 0, "ok": 0, "failed": 0, "streamed_ok": 0, "errors": [], "started": time.time()}
    deadline = time.time() + args.max_seconds

    def worker():
        n = 0
        while not os.path.exists(args.stop_file) and time.time() < deadline:
            stream = n % 4 == 3
            n += 1
            began = time.time()
            try:
                one_request(args.url, args.key, context, stream, args.model)
                ok, error = True, None
            except (urllib.error.URLError, OSError, RuntimeError, ValueError) as exc:
                ok, error = False, "%s %s" % (time.strftime("%H:%M:%S"), exc)
            with lock:
                stats["total"] += 1
                if ok:
                    stats["ok"] += 1
                    stats["streamed_ok"] += 1 if stream else 0
                else:
                    stats["failed"] += 1
                    if len(stats["errors"]) < 20:
                        stats["errors"].append(error)
            time.sleep(max(0.0, began + args.interval - time.time()))

    threads = [threading.Thread(target=worker) for _i in range(args.workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats["finished"] = time.time()
    with open(args.out + ".tmp", "w") as handle:
        json.dump(stats, handle, indent=2)
    os.rename(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
