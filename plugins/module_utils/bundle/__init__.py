# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline bundle for closed networks: a local apt repository, wheels of hash-pinned locks, sha256
manifests (apt.py, wheels.py, manifest.py)."""
