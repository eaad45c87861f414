"""Percentiles, per-cell summaries and live windows."""

from __future__ import annotations

import statistics

import pytest

from spark_tui.core.bench.stats import RollingLatency, SecondBucket, latency_stats, percentile, summarize_cell
from spark_tui.models.bench import CellSpec, MachineReading, RequestRecord

SPEC = CellSpec(0, "text", 8, 2, 10.0, None)


def ok(latency: float, t: float = 1.0, tokens: int | None = 80, estimated: bool = False, **extra: object) -> RequestRecord:
    return RequestRecord(0, t, latency, True, 8, 200, tokens=tokens, tokens_estimated=estimated, server_s=latency / 2, extra=dict(extra) or None)  # type: ignore[arg-type]


def failed(error: str, message: str = "boom") -> RequestRecord:
    return RequestRecord(0, 1.0, 0.001, False, 8, 429 if error == "429" else None, error, message)  # type: ignore[arg-type]


def test_percentile_matches_the_inclusive_method() -> None:
    values = sorted([0.9, 0.1, 0.5, 0.3, 0.7, 0.2, 1.5, 0.4])
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    for q in (10, 50, 90, 95, 99):
        assert percentile(values, q) == pytest.approx(cuts[q - 1])
    assert percentile([3.0], 99) == 3.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_latency_stats() -> None:
    stats = latency_stats([0.3, 0.1, 0.2])
    assert stats is not None and (stats.count, stats.min, stats.p50, stats.max) == (3, 0.1, 0.2, 0.3)
    assert stats.mean == pytest.approx(0.2)
    assert latency_stats([]) is None


def test_summary_counts_successes_only_and_keeps_errors_by_class() -> None:
    records = [ok(0.1), ok(0.2), ok(0.3), failed("429"), RequestRecord(0, 0.5, 9.0, True, 8, 200, warmup=True)]
    summary = summarize_cell(SPEC, records, elapsed_s=2.0, readings=[MachineReading(0, gpu_power_w=100), MachineReading(1, gpu_power_w=120)])
    assert (summary.requests, summary.ok, summary.errors) == (4, 3, {"429": 1})
    assert summary.requests_per_s == 1.5 and summary.items_per_s == 12.0 and summary.tokens_per_s == 120.0
    assert summary.latency is not None and summary.latency.max == 0.3  # the warm-up's 9 s is not in it
    assert summary.server_time is not None and summary.server_time.p50 == pytest.approx(0.1)
    assert summary.status == "failed" and "25.0% of requests failed, over the 5% limit (1× HTTP 429)" in (summary.reason or "")
    assert summary.machine is not None and summary.machine.gpu_power_mean == 110 and summary.machine.gpu_util_mean is None


def test_estimated_tokens_are_marked_and_unknown_tokens_are_none() -> None:
    assert summarize_cell(SPEC, [ok(0.1, estimated=True)], 1.0).tokens_estimated
    assert summarize_cell(SPEC, [ok(0.1, tokens=None)], 1.0).tokens_per_s is None


def test_status_judgement() -> None:
    assert summarize_cell(SPEC, [ok(0.1)] * 99 + [failed("5xx")], 1.0).status == "ok"
    degraded = summarize_cell(SPEC, [ok(0.1)] * 49 + [failed("429")], 1.0)
    assert degraded.status == "degraded" and "429 (overloaded) 1 times" in (degraded.reason or "")
    over = summarize_cell(SPEC, [ok(0.1)] * 9 + [failed("timeout")], 1.0)
    assert over.status == "failed" and "10.0% of requests failed, over the 5% limit (1× timeouts)" in (over.reason or "")
    wrong = summarize_cell(SPEC, [ok(0.1), failed("bad_response", "dimension mismatch: got 9, earlier answers had 8")] * 4, 1.0)
    assert wrong.status == "failed" and "(4× bad answers): dimension mismatch" in (wrong.reason or "")
    assert wrong.items_per_s == 32.0  # the 4 good answers only
    dead = summarize_cell(SPEC, [failed("413", "batch too large")] * 3, 1.0)
    assert dead.status == "failed" and dead.reason == "every request failed (3× HTTP 413): batch too large"
    assert summarize_cell(SPEC, [], 1.0).status == "failed"


def test_extra_figures_are_averaged_or_counted() -> None:
    summary = summarize_cell(SPEC, [ok(0.1, elements=10, status="success"), ok(0.1, elements=20, status="partial_success")], 1.0)
    assert summary.extra_means == {"elements": 15.0}
    assert summary.extra_counts == {"status": {"partial_success": 1, "success": 1}}


def test_rolling_latency_forgets_old_samples() -> None:
    window = RollingLatency(window_s=5)
    for i in range(10):
        window.add(float(i), float(i))
    p50, p99 = window.percentiles(now=9.5)
    assert p50 == pytest.approx(7.0) and p99 == pytest.approx(8.96)
    assert window.percentiles(now=100) == (None, None)


def test_second_bucket() -> None:
    bucket = SecondBucket(3)
    for record in (ok(0.1), ok(0.2, tokens=None), failed("5xx")):
        bucket.add(record)
    assert (bucket.requests, bucket.items, bucket.errors, bucket.tokens_known) == (2, 16, 1, False)
