from __future__ import annotations

import pytest

from ansible_collections.onprem.llm.plugins.module_utils.bench import stats


def sample(start, ttft, end, tokens, ok=True, error=None, prompt=10):
    return {"ok": ok, "error": error, "start": start, "end": end, "ttft": ttft, "output_tokens": tokens,
            "prompt_tokens": prompt}


@pytest.mark.parametrize("values,pct,expected", [
    ([1, 2, 3, 4], 50, 2.5),          # numpy.percentile([1,2,3,4], 50)
    ([1, 2, 3, 4], 95, 3.85),         # numpy: 3 + 0.85 * 1
    ([10], 99, 10.0),
    ([5, 1, 4, 2, 3], 0, 1.0),
    ([5, 1, 4, 2, 3], 100, 5.0),
    (list(range(1, 101)), 99, 99.01),  # numpy.percentile(range(1, 101), 99)
])
def test_percentile_matches_numpy_linear(values, pct, expected):
    assert stats.percentile(values, pct) == pytest.approx(expected)


def test_percentile_empty_and_out_of_range():
    assert stats.percentile([], 50) is None
    with pytest.raises(ValueError):
        stats.percentile([1], 101)


def test_summarize_figures():
    samples = [
        sample(0.0, 0.1, 1.1, 11),   # tpot (1.1-0.1)/10 = 0.1
        sample(0.0, 0.2, 2.2, 21),   # tpot 2.0/20 = 0.1
        sample(1.0, 0.3, 2.0, 5, prompt=14),   # tpot 0.7/4 = 0.175
        sample(1.5, None, 1.6, 0, ok=False, error="HTTP 503: busy"),
        sample(1.6, None, 1.7, 0, ok=False, error="HTTP 503: busy"),
    ]
    out = stats.summarize(samples, duration=2.5)
    assert out["requests"] == 5
    assert out["completed"] == 3
    assert out["errors"] == 2
    assert out["error_messages"] == ["HTTP 503: busy"]
    assert out["output_tokens"] == 37
    assert out["output_tokens_per_s"] == pytest.approx(37 / 2.5, abs=1e-3)
    assert out["request_throughput"] == pytest.approx(3 / 2.5, abs=1e-3)
    assert out["ttft_ms"]["p50"] == pytest.approx(200.0)
    assert out["ttft_ms"]["mean"] == pytest.approx(200.0)
    assert out["latency_ms"]["p50"] == pytest.approx(1100.0)
    assert out["latency_ms"]["p99"] == pytest.approx(1000 * (1.1 + 1.1 * 0.98))
    assert out["tpot_ms"]["mean"] == pytest.approx(1000 * (0.1 + 0.1 + 0.175) / 3, abs=1e-3)
    assert out["mean_prompt_tokens"] == pytest.approx(34 / 3, abs=0.05)
    assert out["mean_output_tokens"] == pytest.approx(12.3, abs=0.05)


def test_summarize_duration_defaults_to_first_start_last_end():
    out = stats.summarize([sample(2.0, 0.1, 3.0, 4), sample(2.5, 0.1, 4.0, 4)])
    assert out["duration_s"] == pytest.approx(2.0)
    assert out["output_tokens_per_s"] == pytest.approx(4.0)


def test_summarize_all_failed_has_no_figures():
    out = stats.summarize([sample(0, None, 1, 0, ok=False, error="refused")], duration=1)
    assert out["completed"] == 0 and out["errors"] == 1
    assert out["ttft_ms"] == {"mean": None, "p50": None, "p95": None, "p99": None}
    assert out["output_tokens_per_s"] == 0


def test_ratio():
    assert stats.ratio(90, 100) == 0.9
    assert stats.ratio(None, 1) is None
    assert stats.ratio(1, 0) is None
