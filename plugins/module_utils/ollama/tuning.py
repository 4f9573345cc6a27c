# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ollama's tuning from the GPUs the host has (docs/ollama.md, the environment table).

- Parallel slots from the smallest GPU: each slot holds its own context's K/V cache, so small cards get
  few slots and large cards enough for about eight concurrent users (Ollama's own default of one
  slot serialises requests: the "slow past five users" report).
- Flash attention where every GPU is compute capability 7.0 or newer.
- The GPUs by UUID, so a renumbering after a reboot never moves the server to another card.
An explicit setting always wins over the computed one.
"""

from __future__ import annotations

# (smallest GPU's memory below this many MiB, slots); at or above the last bound: LARGE_GPU_SLOTS.
SLOTS_BY_MEMORY = ((12288, 2), (24576, 4), (49152, 6))
LARGE_GPU_SLOTS = 8
NO_GPU_SLOTS = 1
FLASH_ATTENTION_MIN_CC = 7.0


def _number(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def auto_num_parallel(gpus):
    """Slots for the smallest GPU's memory (memory_mib); 1 without a GPU whose memory is known."""
    memories = [_number(gpu.get("memory_mib")) for gpu in gpus or []]
    memories = [memory for memory in memories if memory is not None]
    smallest = min(memories) if memories else 0
    if not smallest:
        return NO_GPU_SLOTS
    for bound, slots in SLOTS_BY_MEMORY:
        if smallest < bound:
            return slots
    return LARGE_GPU_SLOTS


def _capability(gpu):
    try:
        return float(gpu.get("compute_capability") or 0)
    except (TypeError, ValueError):
        return 0.0


def auto_flash_attention(gpus):
    """True when there are GPUs and each has compute capability >= 7.0 (an unknown one counts as 0)."""
    if not gpus:
        return False
    return min(_capability(gpu) for gpu in gpus) >= FLASH_ATTENTION_MIN_CC


def tuning(gpus, num_parallel=0, flash_attention="auto", cuda_visible_devices="auto"):
    """The OLLAMA_NUM_PARALLEL, OLLAMA_FLASH_ATTENTION and CUDA_VISIBLE_DEVICES values, as strings.

    ``flash_attention``: auto (``"1"`` where every GPU allows it, else ``""``, Ollama's default), or
    ``"true"`` / ``"false"``. An empty string means "leave the variable out".
    """
    gpus = gpus or []
    slots = num_parallel if num_parallel and num_parallel > 0 else auto_num_parallel(gpus)
    if flash_attention == "auto":
        flash = "1" if auto_flash_attention(gpus) else ""
    else:
        flash = "1" if str(flash_attention) == "true" else "0"
    if cuda_visible_devices == "auto":
        devices = ",".join(gpu["uuid"] for gpu in gpus if isinstance(gpu.get("uuid"), str))
    else:
        devices = cuda_visible_devices
    return {"num_parallel": str(slots), "flash_attention": flash, "cuda_visible_devices": devices}
