# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which vLLM build each supported OS gets on each NVIDIA driver branch, and from which shipped lock.

The table in ``docs/vllm-compatibility.md`` ("By OS, driver branch and Python") is what
:func:`onprem.llm.vllm_resolve` answers for these inputs with the locks in
``data/vllm-locks/``; a unit test regenerates it and fails when the two drift, and another
fails when any row has no lock. The OS Pythons and glibc versions are checked against the real
sources: Ubuntu's archive index (unit test) and the Debian lab nodes (``molecule/gpu_preflight``).

Regenerate the whole document (with ``collections/`` on ``PYTHONPATH``)::

    python -m ansible_collections.onprem.llm.plugins.module_utils.vllm.support_matrix \
        data/vllm-locks > docs/vllm-compatibility.md
"""

from __future__ import annotations

from ansible_collections.onprem.llm.plugins.module_utils.vllm import compat_table as table
from ansible_collections.onprem.llm.plugins.module_utils.vllm.instances import fitting_locks, select_lock
from ansible_collections.onprem.llm.plugins.module_utils.vllm.resolve import VllmResolveError, resolve

# The distribution's python3 and libc6 (major.minor): what the vllm role's venv interpreter reports.
OS_TARGETS = (
    {"os": "Debian 12", "python": "3.11", "glibc": "2.36"},
    {"os": "Debian 13", "python": "3.13", "glibc": "2.41"},
    {"os": "Ubuntu 22.04", "python": "3.10", "glibc": "2.35"},
    {"os": "Ubuntu 24.04", "python": "3.12", "glibc": "2.39"},
)
# NVIDIA driver branches the distributions and NVIDIA's repositories ship (data-center, x86_64).
DRIVER_BRANCHES = ("535", "550", "570", "580", "590", "595")
# A data-center GPU every build in the table supports (compute capability 8.0).
REFERENCE_GPU = {"name": "NVIDIA A100-SXM4-80GB", "compute_capability": "8.0"}
MACHINE = "x86_64"


def _gpu_facts(branch):
    return {"present": True, "count": 1, "driver_loaded": True, "driver_version": branch,
            "gpus": [dict(REFERENCE_GPU)]}


def answer(target, branch, lock_names):
    """What the vllm role plans for ``target`` on driver ``branch`` with only shipped locks:
    a dict with vllm_version, variant, cuda_version, torch_version and lock, or with error."""
    locks = fitting_locks(lock_names, target["python"], MACHINE, target["glibc"])
    try:
        got = resolve(_gpu_facts(branch), locks=locks, require_lock=True)
    except VllmResolveError as exc:
        return {"error": str(exc)}
    out = dict((key, got[key]) for key in ("vllm_version", "variant", "cuda_version", "torch_version"))
    out["lock"] = select_lock(locks, "vllm", got["vllm_version"], got["variant"], target["python"], MACHINE,
                              target["glibc"])
    return out


def rows(lock_names):
    """One row per OS and run of consecutive branches with the same answer."""
    out = []
    for target in OS_TARGETS:
        for branch in DRIVER_BRANCHES:
            got = answer(target, branch, lock_names)
            if out and out[-1]["os"] == target["os"] and out[-1]["answer"] == got:
                out[-1]["branches"].append(branch)
            else:
                out.append({"os": target["os"], "python": target["python"], "branches": [branch], "answer": got})
    return out


def render_markdown(lock_names):
    """The "By OS, driver branch and Python" section."""
    lines = [
        "## By OS, driver branch and Python",
        "",
        "What the vllm role installs with `vllm_version: auto` and the locks it ships (no",
        "`vllm_allow_unhashed`, no `vllm_lock_file`), for a GPU of compute capability 7.5 or newer.",
        "For CUDA 12 drivers (535 to 570) the newest vLLM builds are cu129, whose torch comes from",
        "PyTorch's own index only; no lock made from PyPI can pin them, so the role takes the newest",
        "release whose vLLM and torch are both PyPI's CUDA 12.8 builds. Tested for real: the CPU lock",
        "on Debian 12, and one CUDA row installed without a GPU - Ubuntu 24.04, Python 3.12, branch 580:",
        "`molecule/vllm_cuda` installs `vllm-0.29.0-cu130-cp312-...` and checks that torch reports CUDA 13.0",
        "and that vLLM imports (serving needs a GPU, which these machines lack). The other CUDA rows are",
        "planned and their locks hash-checked, not installed.",
        "",
        "| OS | Python | driver branches | vLLM | build (CUDA) | torch | lock |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows(lock_names):
        got = row["answer"]
        if "error" in got:
            lines.append("| %s | %s | %s | refused: %s | | | |" % (
                row["os"], row["python"], ", ".join(row["branches"]), got["error"]))
            continue
        lines.append("| %s | %s | %s | %s | %s (%s) | %s | `%s` |" % (
            row["os"], row["python"], ", ".join(row["branches"]), got["vllm_version"], got["variant"],
            got["cuda_version"], got["torch_version"], got["lock"]))
    lines.append("")
    return "\n".join(lines)


def render_document(lock_names):
    """docs/vllm-compatibility.md: the release table, then the OS matrix."""
    return table.render_markdown() + "\n" + render_markdown(lock_names)


if __name__ == "__main__":  # pragma: no cover - documentation generator
    import os
    import sys

    sys.stdout.write(render_document(sorted(os.listdir(sys.argv[1]))))
