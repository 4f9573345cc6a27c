# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing a report's files on the controller (llm_benchmark_report, llm_evaluate_report)."""

from __future__ import annotations

import os


def write_if_changed(path, data):
    """Write ``data`` (bytes) to ``path`` through a rename unless the file holds it already; True if written."""
    if os.path.exists(path):
        with open(path, "rb") as handle:
            if handle.read() == data:
                return False
    tmp = path + ".tmp"
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
    return True
