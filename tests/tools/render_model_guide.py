#!/usr/bin/env python
# Copyright: onprem.llm maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Render docs/model-selection.md and its Korean page docs/ko/model-selection.md from data/models.yml.

    .venv/bin/python tests/tools/render_model_guide.py          # rewrite both guides
    .venv/bin/python tests/tools/render_model_guide.py --check  # exit 1 if one is stale

tests/unit/plugins/filter/test_model_fit.py fails when a committed guide differs from this output.
The catalog's notes and sources are quoted as written (English) in both pages.
"""

from __future__ import absolute_import, division, print_function

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "data" / "models.yml"
GUIDES = {"en": ROOT / "docs" / "model-selection.md", "ko": ROOT / "docs" / "ko" / "model-selection.md"}
if str(ROOT / "collections") not in sys.path:
    sys.path.insert(0, str(ROOT / "collections"))

from ansible_collections.onprem.llm.plugins.module_utils.weights.catalog import load_catalog  # noqa: E402
from ansible_collections.onprem.llm.plugins.module_utils.weights.sizing import (  # noqa: E402
    DEFAULT_GPU_MEMORY_UTILIZATION,
    DEFAULT_MIN_CONTEXT,
    GIB,
    PER_GPU_OVERHEAD_BYTES,
    dtype_label,
    plan,
)

GPU_SIZES_GIB = (24, 48, 80)
TASKS = ("chat", "reasoning", "code", "small")

# The page's own words per language; numbers, names and the catalog's quotes are shared.
TEXT = {
    "en": {
        "title": "# Choosing a model for your GPUs",
        "intro": [
            "This guide is generated from the collection's model catalog (`data/models.yml`) with the same",
            "arithmetic as the `onprem.llm.model_fit` filter (Korean: [ko/model-selection.md](ko/model-selection.md)).",
            "Ask the filter about a concrete host:",
        ],
        "assumptions": "## Assumptions",
        "assume": [
            "- vLLM with `gpu_memory_utilization` {util}; {overhead} GiB per GPU kept for CUDA context, CUDA graphs and",
            "  activations; the rest after the weights is KV cache, which must hold at least one",
            "  {context}-token sequence (or the model's whole context if shorter).",
            "- A \"24/48/80 GB\" GPU is taken as 24/48/80 GiB. Real cards report a little less",
            "  (an H100 80GB shows 81559 MiB), so borderline cases may need the next size up.",
            "- Weights: bf16/fp16 16 bits per parameter, FP8 8, AWQ/GPTQ 4-bit 4.5 (4 bits plus group",
            "  scales and unquantized embeddings), GGUF Q4_K_M 4.85. \"4-bit\" columns assume a 4-bit",
            "  AWQ/GPTQ checkpoint exists or is made; published ones are listed below.",
            "- Tensor-parallel sizes are 1, 2, 4, 8 and must divide the attention heads. More than 8 GPUs",
            "  means several nodes (tensor parallel 8 x pipeline parallel), which needs a fast network.",
            "- A cell reads: GPUs needed (longest context that fits there, in k tokens, capped by the model).",
        ],
        "needed": "## GPUs needed",
        "header": "| Model | Parameters | Native | Weights | 24 GB | 48 GB | 80 GB | 4-bit weights | 24 GB 4-bit "
                  "| 48 GB 4-bit | 80 GB 4-bit |",
        "by_task": "## By task",
        "tasks": {"chat": "General chat and assistants", "reasoning": "Harder reasoning, long answers",
                  "code": "Code", "small": "Small and fast (single small GPU, CPU with Ollama)"},
        "where": "## Where to get the weights",
        "where_header": "| Model | Hugging Face | Ollama | Context | Pre-quantized variants |",
        "licenses": "## Licenses",
        "licenses_intro": "Check the license before you deploy; several are not OSI licenses and carry use restrictions.",
        "license_header": "| Model | License |",
        "korean": "## Korean",
        "korean_intro": [
            "Only what a public source states; no scores are made up. Models without a statement are left",
            "out of this list: test them on your own Korean workload.",
        ],
        "source": "source",
        "silent": "No public statement found",
        "notes": "## Notes",
        "sources": "## Sources",
        "unverified": "not cross-checked",
        "nodes": "nodes",
    },
    "ko": {
        "title": "# GPU에 맞는 모델 고르기",
        "intro": [
            "이 안내는 컬렉션의 모델 카탈로그(`data/models.yml`)에서 `onprem.llm.model_fit` 필터와 같은 계산으로",
            "만듭니다(영문: [../model-selection.md](../model-selection.md)). 실제 호스트에 대해서는 필터에 물어보십시오.",
        ],
        "assumptions": "## 가정",
        "assume": [
            "- vLLM, `gpu_memory_utilization` {util}. GPU마다 CUDA 컨텍스트, CUDA 그래프, 활성화 메모리로 {overhead} GiB를",
            "  남기고, 가중치를 뺀 나머지가 KV 캐시입니다. KV 캐시는 {context}토큰 시퀀스 하나(모델 컨텍스트가 더 짧으면",
            "  그 전체)는 담아야 합니다.",
            "- \"24/48/80 GB\" GPU는 24/48/80 GiB로 계산합니다. 실제 카드는 조금 적게 보고하므로(H100 80GB는",
            "  81559 MiB) 경계에 걸린 경우는 한 단계 큰 크기가 필요할 수 있습니다.",
            "- 가중치: bf16/fp16은 파라미터당 16비트, FP8 8, AWQ/GPTQ 4비트는 4.5(4비트에 그룹 스케일과 양자화하지 않은",
            "  임베딩), GGUF Q4_K_M 4.85. \"4비트\" 열은 4비트 AWQ/GPTQ 체크포인트가 있거나 만든다고 가정합니다. 공개된",
            "  것은 아래에 있습니다.",
            "- 텐서 병렬 크기는 1, 2, 4, 8이고 어텐션 헤드 수를 나누어야 합니다. GPU가 8개를 넘으면 노드 여러 대(텐서",
            "  병렬 8 x 파이프라인 병렬)이며 빠른 네트워크가 필요합니다.",
            "- 칸 읽는 법: 필요한 GPU 수(그때 들어가는 가장 긴 컨텍스트, k 토큰 단위, 모델 최대값으로 제한).",
        ],
        "needed": "## 필요한 GPU",
        "header": "| 모델 | 파라미터 | 원본 | 가중치 | 24 GB | 48 GB | 80 GB | 4비트 가중치 | 24 GB 4비트 "
                  "| 48 GB 4비트 | 80 GB 4비트 |",
        "by_task": "## 용도별",
        "tasks": {"chat": "일반 채팅과 어시스턴트", "reasoning": "어려운 추론, 긴 답변", "code": "코드",
                  "small": "작고 빠름(작은 GPU 하나, Ollama로 CPU)"},
        "where": "## 가중치 받는 곳",
        "where_header": "| 모델 | Hugging Face | Ollama | 컨텍스트 | 미리 양자화된 변형 |",
        "licenses": "## 라이선스",
        "licenses_intro": "배포 전에 라이선스를 확인하십시오. 몇몇은 OSI 라이선스가 아니며 사용 제한이 있습니다.",
        "license_header": "| 모델 | 라이선스 |",
        "korean": "## 한국어",
        "korean_intro": [
            "공개된 출처가 밝힌 것만 적습니다(원문 영어). 점수를 지어내지 않습니다. 언급이 없는 모델은 목록에서",
            "뺐으니 내 한국어 업무로 직접 시험하십시오.",
        ],
        "source": "출처",
        "silent": "공개된 언급 없음",
        "notes": "## 참고(원문 영어)",
        "sources": "## 출처",
        "unverified": "교차 확인 안 됨",
        "nodes": "노드",
    },
}


def _params(entry):
    text = "%.1fB" % (entry["parameter_count"] / 1e9)
    if entry["active_parameter_count"]:
        text += " (%.1fB active)" % (entry["active_parameter_count"] / 1e9)
    return text


def _gib(value):
    return "%.0f" % (value / float(GIB)) if value >= 10 * GIB else "%.1f" % (value / float(GIB))


def _cell(entry, dtype, size_gib, nodes="nodes"):
    result = plan(entry, [size_gib * 1024] * 8, dtype=dtype)
    needed = result["gpus_needed"]
    if not needed:
        return "no (> 64)"
    if result["fits"] and result["tensor_parallel_size"] == needed:
        return "%s (%dk ctx)" % (needed, result["max_model_len"] // 1024)
    if needed > 8:
        return "%s (%s %s)" % (needed, needed // 8, nodes)
    return str(needed)


def render(models, lang="en"):
    text = TEXT[lang]
    out = []
    add = out.append
    add("<!-- Generated by tests/tools/render_model_guide.py from data/models.yml: do not edit by hand. -->")
    add(text["title"])
    add("")
    out.extend(text["intro"])
    add("")
    add("```yaml")
    add("- ansible.builtin.debug:")
    add("    msg: \"{{ ('llama-3.1-70b-instruct' | onprem.llm.model_fit(ansible_facts.onprem_gpu)).message }}\"")
    add("```")
    add("")
    add(text["assumptions"])
    add("")
    values = {"util": DEFAULT_GPU_MEMORY_UTILIZATION, "overhead": _gib(PER_GPU_OVERHEAD_BYTES),
              "context": DEFAULT_MIN_CONTEXT}
    out.extend(line.format(**values) for line in text["assume"])
    add("")
    add(text["needed"])
    add("")
    add(text["header"])
    add("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, entry in models.items():
        native = plan(entry, [], dtype=None)
        four = plan(entry, [], dtype="int4")
        row = [
            "`%s`" % name,
            _params(entry),
            dtype_label(native["dtype"]),
            "%s GiB" % _gib(native["weights_bytes"]),
        ]
        row += [_cell(entry, None, size, text["nodes"]) for size in GPU_SIZES_GIB]
        row.append("%s GiB" % _gib(four["weights_bytes"]))
        row += [_cell(entry, "int4", size, text["nodes"]) for size in GPU_SIZES_GIB]
        add("| " + " | ".join(row) + " |")
    add("")
    add(text["by_task"])
    add("")
    for task in TASKS:
        names = [name for name, entry in models.items() if task in entry["tasks"]]
        if not names:
            continue
        add("- **%s**: %s" % (text["tasks"][task], ", ".join("`%s` (%s)" % (n, _params(models[n])) for n in names)))
    add("")
    add(text["where"])
    add("")
    add(text["where_header"])
    add("|---|---|---|---|---|")
    for name, entry in models.items():
        variants = ", ".join("`%s` (%s)" % (v["hf_repo"], v["method"].upper()) for v in entry["quantized"]) or "-"
        add("| `%s` | `%s` | %s | %d | %s |" % (
            name, entry["hf_repo"], ", ".join("`%s`" % t for t in entry["ollama"]) or "-",
            entry["context_length"], variants))
    add("")
    add(text["licenses"])
    add("")
    add(text["licenses_intro"])
    add("")
    add(text["license_header"])
    add("|---|---|")
    for name, entry in models.items():
        add("| `%s` | [%s](%s) |" % (name, entry["license"]["name"], entry["license"]["url"]))
    add("")
    add(text["korean"])
    add("")
    out.extend(text["korean_intro"])
    add("")
    for name, entry in models.items():
        korean = entry["korean"]
        if korean:
            add("- `%s`: %s ([%s](%s))" % (name, " ".join(korean["note"].split()), text["source"], korean["source"]))
    silent = [name for name, entry in models.items() if not entry["korean"]]
    if silent:
        add("- %s: %s." % (text["silent"], ", ".join("`%s`" % n for n in silent)))
    add("")
    add(text["notes"])
    add("")
    for name, entry in models.items():
        if entry.get("notes"):
            add("- `%s`: %s" % (name, " ".join(entry["notes"].split())))
    add("")
    add(text["sources"])
    add("")
    for name, entry in models.items():
        line = "- `%s`: %s" % (name, ", ".join("<%s>" % url for url in entry["sources"]))
        if entry["unverified"]:
            line += " (%s: %s)" % (text["unverified"], ", ".join(entry["unverified"]))
        add(line)
    add("")
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a committed guide is stale")
    args = parser.parse_args(argv)
    models = load_catalog(CATALOG)
    stale = []
    for lang, guide in GUIDES.items():
        text = render(models, lang)
        if args.check:
            if (guide.read_text(encoding="utf-8") if guide.exists() else "") != text:
                stale.append(str(guide.relative_to(ROOT)))
        else:
            guide.write_text(text, encoding="utf-8")
    for path in stale:
        sys.stderr.write("%s is stale: run tests/tools/render_model_guide.py\n" % path)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
