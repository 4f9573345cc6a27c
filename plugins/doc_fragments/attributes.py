# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared attribute documentation for the collection's modules."""

from __future__ import annotations


class ModuleDocFragment(object):

    # Modules that only decide (plan, resolve) and never change the host.
    DECISION_ONLY = r'''
attributes:
  check_mode:
    support: full
    description: The module never changes anything; check mode returns the same result.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to diff.
  platform:
    support: full
    description: Pure decision logic; runs wherever Python 3.9+ runs.
    platforms: posix
'''

    # Clients of OpenAI-compatible endpoints (llm_smoke, llm_benchmark, llm_evaluate): each module
    # says itself what it does in check mode.
    ENDPOINT_CLIENT = r'''
attributes:
  diff_mode:
    support: none
    description: Nothing on the node changes.
  platform:
    support: full
    platforms: posix
    description: Needs only the Python standard library on the node.
'''
