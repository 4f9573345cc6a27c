# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load one of the monitoring role's collector scripts (roles/monitoring/files) as a module, the way
it runs on a host: its directory, with the shared onprem_llm_textfile.py, first on sys.path."""

from __future__ import annotations

import importlib.util
import pathlib
import sys

FILES = pathlib.Path(__file__).resolve().parents[2] / "roles" / "monitoring" / "files"


def load_collector(name):
    """(module, path) of roles/monitoring/files/<name>.py."""
    if str(FILES) not in sys.path:
        sys.path.insert(0, str(FILES))
    path = FILES / (name + ".py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, path
