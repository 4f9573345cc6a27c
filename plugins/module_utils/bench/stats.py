# -*- coding: utf-8 -*-
# Copyright: onprem.llm contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark statistics: percentiles, rates and one summary per endpoint and concurrency level.

Pure functions (standard library only). A *sample* is one request's outcome, as
``client.run_request`` returns it::

    {"ok": bool, "error": str|None, "start": s, "end": s, "ttft": s|None,
     "output_tokens": int, "prompt_tokens": int|None}

Times are seconds (``time.perf_counter``); summaries report milliseconds like ``vllm bench serve``.
"""

from __future__ import annotations

import math

PERCENTILES = (50, 95, 99)


def percentile(values, pct):
    """Linear interpolation between closest ranks (numpy's default, which vllm bench serve uses)."""
    data = sorted(float(v) for v in values)
    if not data:
        return None
    if not 0 <= pct <= 100:
        raise ValueError("percentile must be within 0..100, got %r" % (pct,))
    rank = (len(data) - 1) * pct / 100.0
    low = int(math.floor(rank))
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (rank - low)


def mean(values):
    data = [float(v) for v in values]
    return sum(data) / len(data) if data else None


def _ms(value):
    return None if value is None else round(value * 1000.0, 3)


def distribution(values):
    """{mean, p50, p95, p99} in milliseconds of a list of seconds (None entries when empty)."""
    out = {"mean": _ms(mean(values))}
    for pct in PERCENTILES:
        out["p%d" % pct] = _ms(percentile(values, pct))
    return out


def summarize(samples, duration=None):
    """One level's samples -> the figures the report shows.

    ``duration``: wall seconds of the level (first start to last end when None). Output tokens/s is
    the total of all successful requests' output tokens over that wall time, as vllm bench serve
    computes ``output_throughput``; TPOT is (latency - TTFT) / (output tokens - 1) per request.
    """
    samples = list(samples or [])
    good = [s for s in samples if s.get("ok")]
    errors = [s for s in samples if not s.get("ok")]
    if duration is None and samples:
        duration = max(s["end"] for s in samples) - min(s["start"] for s in samples)
    duration = float(duration or 0.0)
    out_tokens = sum(int(s.get("output_tokens") or 0) for s in good)
    prompt_tokens = [int(s["prompt_tokens"]) for s in good if s.get("prompt_tokens") is not None]
    ttfts = [s["ttft"] for s in good if s.get("ttft") is not None]
    latencies = [s["end"] - s["start"] for s in good]
    tpots = []
    for s in good:
        if s.get("ttft") is not None and int(s.get("output_tokens") or 0) > 1:
            tpots.append((s["end"] - s["start"] - s["ttft"]) / (int(s["output_tokens"]) - 1))
    messages = []
    for s in errors:
        text = str(s.get("error") or "unknown error")
        if text not in messages:
            messages.append(text)
    return {
        "requests": len(samples),
        "completed": len(good),
        "errors": len(errors),
        "error_messages": messages[:5],
        "duration_s": round(duration, 3),
        "request_throughput": round(len(good) / duration, 3) if duration > 0 else None,
        "output_tokens": out_tokens,
        "output_tokens_per_s": round(out_tokens / duration, 3) if duration > 0 else None,
        "mean_prompt_tokens": round(mean(prompt_tokens), 1) if prompt_tokens else None,
        "mean_output_tokens": round(out_tokens / len(good), 1) if good else None,
        "ttft_ms": distribution(ttfts),
        "tpot_ms": distribution(tpots),
        "latency_ms": distribution(latencies),
    }


def ratio(ours, theirs):
    """ours / theirs rounded to 3 places; None when either is missing or theirs is 0."""
    if ours is None or theirs is None:
        return None
    theirs = float(theirs)
    if theirs == 0:
        return None
    return round(float(ours) / theirs, 3)
