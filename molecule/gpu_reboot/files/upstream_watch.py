#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Watch the gateway's upstreams.conf for one backend host and log when nginx starts and stops
sending it requests: the times the rendered file marks it down, and back up, after nginx reloaded
(the gateway's reload script changes the file only through a reload). One line per change,
"<epoch> down|up", until the stop file appears.

    upstream_watch.py HOST LOG STOP_FILE
"""

import os
import re
import sys
import time

UPSTREAMS = "/etc/onprem-llm/gateway/upstreams.conf"


def state(host):
    try:
        with open(UPSTREAMS) as handle:
            lines = [line for line in handle if re.search(r"#\s*%s/" % re.escape(host), line)]
    except OSError:
        return None
    if not lines:
        return None
    return "down" if all(re.search(r"\sdown;", line) for line in lines) else "up"


def main():
    host, log, stop = sys.argv[1:4]
    last = None
    while not os.path.exists(stop):
        now = state(host)
        if now != last:
            with open(log, "a") as handle:
                handle.write("%.3f %s\n" % (time.time(), now))
            last = now
        time.sleep(0.2)


if __name__ == "__main__":
    main()
