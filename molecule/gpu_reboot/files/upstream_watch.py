#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Record each version of a file with the time it appeared, until a stop file appears: one JSON line
{"time": epoch, "text": content, or null while the file is missing} per change. molecule/gpu_reboot
watches the gateway's upstreams.conf with it; verify reads the versions with the gateway's own
parsers (plugins/module_utils/gateway/routes.py).

    upstream_watch.py FILE LOG STOP_FILE
"""

import json
import os
import sys
import time


def read(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return None


def main():
    path, log, stop = sys.argv[1:4]
    last = object()
    while not os.path.exists(stop):
        text = read(path)
        if text != last:
            with open(log, "a") as handle:
                handle.write(json.dumps({"time": time.time(), "text": text}) + "\n")
            last = text
        time.sleep(0.2)


if __name__ == "__main__":
    main()
