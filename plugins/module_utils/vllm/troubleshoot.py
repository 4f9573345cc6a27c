# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Known reasons a vLLM server does not start, found in its journal.

Each entry is one section of docs/vllm-troubleshooting.md (its ``key`` is the section's anchor) and
matches the message the program prints, as quoted there with its source. The vllm role's wait
step fails with ``failure_message``: the entries that match and their fix first, then the last
journal lines; with no match, only the journal lines, as before.
"""

from __future__ import absolute_import, division, print_function

import re
from collections import namedtuple

DOC = "docs/vllm-troubleshooting.md"

Entry = namedtuple("Entry", "key title patterns fix")

# Most specific first: a journal can hold several messages (a CUDA error and the engine's
# "failed to start" that follows it), and the first entry that matches is the one named first.
ENTRIES = (
    Entry(
        "driver-too-old",
        "the NVIDIA driver is older than the CUDA runtime vLLM was built with",
        (r"The NVIDIA driver on your system is too old \(found version \d+\)",
         r"CUDA driver version is insufficient for CUDA runtime version"),
        "install a driver branch that supports the build's CUDA version (nvidia_driver_branch), or let the "
        "vllm role choose the build for the installed driver (leave vllm_variant on auto)",
    ),
    Entry(
        "error-802-fabric-manager",
        "CUDA error 802 on an NVSwitch system: the fabric manager is not running at the driver's version",
        (r"[Ee]rror 802: system not yet initialized", r"cudaErrorSystemNotReady"),
        "install nvidia-fabricmanager of the same version as the driver and start nvidia-fabricmanager.service "
        "(the nvidia_driver role installs it at the driver's version where gpu_facts sees NVSwitches)",
    ),
    Entry(
        "undefined-symbol",
        "vLLM's compiled extension does not match the torch in its venv (built for another torch or CUDA)",
        (r"_C\.(abi3|cpython-[\w-]+)\.so: undefined symbol", r"undefined symbol: _ZN\w*(c10|at|torch)\w*"),
        "install vLLM and torch together from one lock (the role's per-version venv); never pip install "
        "torch or vllm into that venv by hand",
    ),
    Entry(
        "cublas-mismatch",
        "cuBLAS fails inside vLLM: torch and vLLM (or the cuBLAS wheel) come from different CUDA builds",
        (r"CUBLAS_STATUS_(INVALID_VALUE|NOT_SUPPORTED|EXECUTION_FAILED|ARCH_MISMATCH)",),
        "install the build from its lock, where torch, vLLM and the nvidia-cublas wheel are built for one "
        "CUDA version; never add torch or nvidia-* wheels from another index",
    ),
    Entry(
        "libcuda-not-found",
        "the NVIDIA driver's user-space library libcuda.so is missing",
        (r"libcuda\.so(\.1)?: cannot open shared object file",),
        "install the NVIDIA driver on the host (onprem.llm.nvidia_driver), or use the CPU build on a host "
        "without a GPU",
    ),
    Entry(
        "libcudart-not-found",
        "the CUDA runtime library of the build is missing from the venv",
        (r"libcudart\.so(\.\d+)*: cannot open shared object file",),
        "install the build from its lock, which carries the nvidia-cuda-runtime wheel; an install with "
        "--no-deps or a hand-made venv leaves it out",
    ),
    Entry(
        "no-kernel-image",
        "the build has no kernels for this GPU's architecture (compute capability)",
        (r"no kernel image is available for execution on the device",),
        "serve from a build that lists the GPU's compute capability (docs/vllm-compatibility.md); the "
        "gpu_preflight facts name it",
    ),
    Entry(
        "bfloat16-compute-capability",
        "bfloat16 needs compute capability 8.0 (Ampere) or newer",
        (r"Bfloat16 is only supported on GPUs with compute capability of at least 8\.0",),
        "set dtype: float16 on the instance (vllm_instances[].dtype)",
    ),
    Entry(
        "kv-cache-max-model-len",
        "the KV cache cannot hold one request of the model's max_model_len",
        (r"larger than the available KV cache memory",
         r"is larger than the maximum number of tokens that can be stored in KV cache"),
        "lower max_model_len on the instance, or raise gpu_memory_utilization, or spread the model over "
        "more GPUs (tensor_parallel_size)",
    ),
    Entry(
        "kv-cache-no-memory",
        "no memory is left for the KV cache once the weights are loaded",
        (r"No available memory for the cache blocks",),
        "raise gpu_memory_utilization (other processes on the GPU count against it), or kv_cache_memory_bytes "
        "where the instance sets it (it replaces gpu_memory_utilization's share), pick a smaller or "
        "quantized model (onprem.llm.model_fit says what fits), or add GPUs with tensor_parallel_size",
    ),
    Entry(
        "no-compiler",
        "torch or Triton needs a C/C++ compiler and Python's headers at run time, and the host lacks them",
        (r"InvalidCxxCompiler", r"Python\.h: No such file or directory", r"Failed to find C compiler"),
        "install g++ and python3-dev (gcc-c++ and python3-devel on EL): the vllm role does; a host where "
        "they were removed, or an image built without them, fails at the first compile",
    ),
    Entry(
        "port-in-use",
        "another process listens on the instance's port",
        # Not the bare "Address already in use": vLLM logs it as a warning when it retries an internal
        # port (vllm/config/parallel.py), which is no failure.
        (r"\[Errno 98\]", r"error while attempting to bind on address"),
        "give the instance a free port (vllm_instances[].port) or stop what holds it "
        "(ss -ltnp 'sport = :PORT' names it)",
    ),
    Entry(
        "gated-or-offline-model",
        "the model was to be fetched from the Hub (gated, or no network) instead of read from disk",
        (r"Cannot access gated repo for url", r"GatedRepoError", r"401 Client Error",
         r"We couldn't connect to 'https://huggingface\.co'", r"LocalEntryNotFoundError",
         r"does not appear to have a file named"),
        "stage the weights with onprem.llm.model_weights (model_weights_hf_token for gated models, a mirror in a closed "
        "network) and serve the instance from that model name, which the role turns into a local path",
    ),
    Entry(
        "cuda-build-without-gpu",
        "no GPU visible to vLLM: a CUDA build of vLLM on a host where no NVIDIA GPU or driver is visible",
        (r"Failed to infer device type", r"Found no NVIDIA driver on your system"),
        "on a host without a GPU install the CPU build (vllm_allow_cpu: true); on a GPU host install the "
        "driver first and check that nvidia-smi lists the GPUs",
    ),
    Entry(
        "distributed-hang",
        "the distributed start (NCCL, Gloo or Ray) failed or timed out between GPUs or nodes",
        (r"NCCL (error|WARN)", r"nccl(Internal|System|UnhandledCuda|Remote)Error", r"DistBackendError",
         r"ray\.exceptions\.\w+Error", r"Timed out after \d+ seconds waiting for clients"),
        "check that every node reaches the others on the interface named in vllm_ray_interface "
        "(NCCL_SOCKET_IFNAME / GLOO_SOCKET_IFNAME), that their firewalls pass the Ray ports, and rerun with "
        "NCCL_DEBUG=INFO in the instance's env to see where it stops",
    ),
)

_COMPILED = tuple((entry, tuple(re.compile(pattern) for pattern in entry.patterns)) for entry in ENTRIES)


def diagnose(lines):
    """The entries whose messages appear in ``lines`` (a list of journal lines or one text), in ENTRIES order."""
    text = "\n".join(lines) if isinstance(lines, (list, tuple)) else str(lines or "")
    return [entry for entry, patterns in _COMPILED if any(p.search(text) for p in patterns)]


def failure_message(unit, url, timeout, lines, tail=30, why=""):
    """What the role says when ``unit`` did not answer on ``url``: ``why`` when the wait knows
    (the unit crashed), else that ``timeout`` seconds passed."""
    lines = [str(line) for line in (lines or [])]
    head = "%s did not come up on %s: %s." % (unit, url, why or "no answer within %s s" % timeout)
    found = diagnose(lines)
    parts = [head]
    for entry in found:
        parts.append("Known cause (%s#%s): %s. Fix: %s." % (DOC, entry.key, entry.title, entry.fix))
    if not found:
        parts.append("No known cause matched (%s lists the ones we know)." % DOC)
    parts.append("Last journal lines:\n" + "\n".join(lines[-tail:]))
    return "\n".join(parts)
