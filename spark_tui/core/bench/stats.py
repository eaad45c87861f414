"""Numbers from finished requests: percentiles, per-cell summaries, 1 s buckets, rolling p50/p99."""

from __future__ import annotations

import math
from array import array
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from spark_tui.models.bench import (
    CellSpec,
    CellStatus,
    CellSummary,
    GoodputStats,
    LatencyStats,
    MachineReading,
    MachineStats,
    RequestRecord,
)


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) of already sorted values, linear between closest ranks."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    position = (len(sorted_values) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    fraction = position - low
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction


def latency_stats(values: Iterable[float]) -> LatencyStats | None:
    ordered = sorted(values)
    if not ordered:
        return None
    return LatencyStats(
        count=len(ordered),
        mean=math.fsum(ordered) / len(ordered),
        p50=percentile(ordered, 50),
        p90=percentile(ordered, 90),
        p95=percentile(ordered, 95),
        p99=percentile(ordered, 99),
        max=ordered[-1],
        min=ordered[0],
    )


def machine_stats(readings: Sequence[MachineReading]) -> MachineStats | None:
    if not readings:
        return None

    def known(name: str) -> list[float]:
        return [v for r in readings if (v := getattr(r, name)) is not None]

    def mean(values: list[float]) -> float | None:
        return math.fsum(values) / len(values) if values else None

    util, power, temp = known("gpu_util_pct"), known("gpu_power_w"), known("gpu_temp_c")
    available, used, process = known("mem_available_bytes"), known("mem_used_bytes"), known("gpu_process_mem_bytes")
    return MachineStats(
        samples=len(readings),
        gpu_util_mean=mean(util),
        gpu_util_max=max(util, default=None),
        gpu_power_mean=mean(power),
        gpu_power_max=max(power, default=None),
        gpu_temp_max=max(temp, default=None),
        mem_available_min=int(min(available)) if available else None,
        mem_used_max=int(max(used)) if used else None,
        gpu_process_mem_max=int(max(process)) if process else None,
    )


class CellAccumulator:
    """A cell's measured requests folded as they finish: counters and two arrays of floats.

    Memory stays near 16 bytes per request (a long cell at thousands of requests per second
    must not keep every record), and the summary is exact: percentiles over every latency.
    """

    def __init__(self) -> None:
        self.requests = 0
        self.ok = 0
        self.items = 0
        self.tokens = 0
        self.tokens_known = True
        self.tokens_estimated = False
        self.errors: Counter[str] = Counter()
        self.first_error: str | None = None
        self.latencies = array("d")
        self.server_times = array("d")
        self.extra_sums: dict[str, list[float]] = {}  # key -> [sum, count]
        self.extra_labels: dict[str, Counter[str]] = {}
        self.gen: GenAccumulator | None = None

    def add_gaps(self, gaps: Sequence[float]) -> None:
        """The gaps between one generation request's output events (kept here, not on disk)."""
        if self.gen is None:
            self.gen = GenAccumulator()
        self.gen.gaps.extend(gaps)

    def add(self, record: RequestRecord) -> None:
        if record.warmup:
            return
        self.requests += 1
        if not record.ok:
            self.errors[record.error or "bad_response"] += 1
            if self.first_error is None and record.message:
                self.first_error = record.message
            return
        self.ok += 1
        self.items += record.items
        if record.tokens is None:
            self.tokens_known = False
        else:
            self.tokens += record.tokens
            self.tokens_estimated = self.tokens_estimated or record.tokens_estimated
        self.latencies.append(record.latency_s)
        if record.gen is not None:
            if self.gen is None:
                self.gen = GenAccumulator()
            self.gen.add(record)
        if record.server_s is not None:
            self.server_times.append(record.server_s)
        if record.extra:
            for key, value in record.extra.items():
                if isinstance(value, str):
                    self.extra_labels.setdefault(key, Counter())[value] += 1
                else:
                    total = self.extra_sums.setdefault(key, [0.0, 0])
                    total[0] += value
                    total[1] += 1

    def summary(
        self,
        spec: CellSpec,
        elapsed_s: float,
        *,
        status: CellStatus | None = None,
        reason: str | None = None,
        readings: Sequence[MachineReading] = (),
        max_error_rate: float = 0.05,
        slo: dict[str, float] | None = None,
    ) -> CellSummary:
        """Throughput counts successful requests only; latency percentiles are over successes too
        (an instant 429 is not a fast answer). Without an explicit `status`, it is judged here."""

        def rate(amount: float) -> float | None:
            return amount / elapsed_s if elapsed_s > 0 and self.requests else None

        tokens_per_s = rate(self.tokens) if self.ok and self.tokens_known else None
        summary = CellSummary(
            spec=spec,
            status="ok",
            reason=reason,
            requests=self.requests,
            ok=self.ok,
            errors=dict(sorted(self.errors.items())),
            first_error=self.first_error,
            elapsed_s=elapsed_s,
            requests_per_s=rate(self.ok),
            items_per_s=rate(self.items),
            tokens_per_s=tokens_per_s,
            tokens_estimated=tokens_per_s is not None and self.tokens_estimated,
            latency=latency_stats(self.latencies),
            server_time=latency_stats(self.server_times),
            extra_means={k: total / count for k, (total, count) in sorted(self.extra_sums.items())},
            extra_counts={k: dict(sorted(c.items())) for k, c in sorted(self.extra_labels.items())},
            machine=machine_stats(readings),
        )
        if self.gen is not None and self.gen.count:
            summary = self.gen.apply(summary, elapsed_s, slo)
        if status is None:
            status, judged_reason = judge_cell(summary, max_error_rate)
            reason = reason or judged_reason
        return replace(summary, status=status, reason=reason)


def summarize_cell(
    spec: CellSpec,
    records: Iterable[RequestRecord],
    elapsed_s: float,
    *,
    status: CellStatus | None = None,
    reason: str | None = None,
    readings: Sequence[MachineReading] = (),
    max_error_rate: float = 0.05,
    slo: dict[str, float] | None = None,
) -> CellSummary:
    """Summary of one cell's measured (non-warm-up) requests over `elapsed_s` seconds."""
    accumulator = CellAccumulator()
    for record in records:
        accumulator.add(record)
    return accumulator.summary(spec, elapsed_s, status=status, reason=reason, readings=readings, max_error_rate=max_error_rate, slo=slo)


NAN = float("nan")


class GenAccumulator:
    """A generation cell's per-request figures, in parallel arrays (NaN where a figure does not
    exist, e.g. ITL of a one-token answer), so goodput can test every SLO on the same request."""

    def __init__(self) -> None:
        self.count = 0
        self.ttft = array("d")
        self.itl = array("d")
        self.tpot = array("d")
        self.e2e = array("d")
        self.gaps = array("d")
        self.input_tokens = 0
        self.input_known = 0
        self.output_tokens = 0
        self.short = 0
        self.sources: Counter[str] = Counter()

    def add(self, record: RequestRecord) -> None:
        gen = record.gen
        assert gen is not None
        self.count += 1
        self.ttft.append(NAN if gen.ttft_s is None else gen.ttft_s)
        self.itl.append(NAN if gen.itl_s is None else gen.itl_s)
        self.tpot.append(NAN if gen.tpot_s is None else gen.tpot_s)
        self.e2e.append(record.latency_s)
        if gen.input_tokens is not None:
            self.input_tokens += gen.input_tokens
            self.input_known += 1
        self.output_tokens += gen.output_tokens or 0
        self.short += gen.short
        self.sources[gen.tokens_source] += 1

    def apply(self, summary: CellSummary, elapsed_s: float, slo: dict[str, float] | None) -> CellSummary:
        def known(values: array) -> list[float]:  # type: ignore[type-arg]
            return [v for v in values if v == v]

        def rate(amount: float) -> float | None:
            return amount / elapsed_s if elapsed_s > 0 else None

        itls = known(self.itl)
        per_user = [1.0 / v for v in itls if v > 0]
        output_rate = rate(self.output_tokens)
        machine = summary.machine
        joule = None
        if output_rate is not None and machine is not None and machine.gpu_power_mean:
            joule = output_rate / machine.gpu_power_mean
        source = self.sources.most_common(1)[0][0] if self.sources else None
        if len(self.sources) > 1:
            source = "; ".join(f"{name} ({n})" for name, n in self.sources.most_common())
        goodput = None
        if slo:
            figures = {"ttft": self.ttft, "itl": self.itl, "tpot": self.tpot, "e2e": self.e2e}
            good = 0
            for i in range(self.count):
                # a figure that does not exist (ITL of a 1-token answer) cannot miss its SLO
                if all(not figures[name][i] > limit for name, limit in slo.items() if name in figures):
                    good += 1
            goodput = GoodputStats(dict(slo), good, good / self.count, rate(good))
        return replace(
            summary,
            output_tokens_per_s=output_rate,
            output_tokens_per_s_per_user=math.fsum(per_user) / len(per_user) if per_user else None,
            input_tokens_per_s=rate(self.input_tokens) if self.input_known == self.count else None,
            ttft=latency_stats(known(self.ttft)),
            itl=latency_stats(itls),
            tpot=latency_stats(known(self.tpot)),
            e2e=latency_stats(self.e2e),
            event_gap=latency_stats(self.gaps),
            input_tokens_mean=self.input_tokens / self.input_known if self.input_known else None,
            output_tokens_mean=self.output_tokens / self.count,
            short_requests=self.short,
            tokens_source=source,
            goodput=goodput,
            output_tokens_per_joule=joule,
        )


def judge_cell(summary: CellSummary, max_error_rate: float) -> tuple[CellStatus, str | None]:
    """failed: nothing came back right, or more than `max_error_rate` of the requests failed (a wrong
    answer counts: its figures are not the server's); degraded: some 429s within the limit."""
    if summary.requests == 0:
        return "failed", "no request finished"
    if summary.ok == 0:
        return "failed", f"every request failed ({describe_errors(summary.errors)}): {summary.first_error or 'no detail'}"
    if summary.error_rate > max_error_rate:
        return "failed", (f"{summary.error_rate:.1%} of requests failed, over the {max_error_rate:.0%} limit "
                          f"({describe_errors(summary.errors)}): {summary.first_error or 'no detail'}")
    if summary.errors.get("429"):
        return "degraded", f"the server answered 429 (overloaded) {summary.errors['429']} times"
    return "ok", None


def best_cell(summaries: Iterable[CellSummary]) -> CellSummary | None:
    """The fastest cell whose figures stand, by items/s: measured (ok, degraded, or cut short by a
    cancel), never a failed one; None when there is none."""
    measured = [s for s in summaries if s.status in ("ok", "degraded", "cancelled") and s.items_per_s is not None and s.ok]
    return max(measured, key=lambda s: s.items_per_s or 0.0, default=None)


def describe_errors(errors: dict[str, int]) -> str:
    names = {"timeout": "timeouts", "connection": "connection errors", "bad_response": "bad answers"}
    return ", ".join(f"{count}× {names.get(cls, 'HTTP ' + cls)}" for cls, count in sorted(errors.items(), key=lambda kv: -kv[1]))


@dataclass
class SecondBucket:
    """Requests that finished within one wall-clock second of the run."""

    second: int
    requests: int = 0
    items: int = 0
    tokens: int = 0
    tokens_known: bool = True
    errors: int = 0
    latencies: list[float] = field(default_factory=list)

    def add(self, record: RequestRecord) -> None:
        if not record.ok:
            self.errors += 1
            return
        self.requests += 1
        self.items += record.items
        if record.tokens is None:
            self.tokens_known = False
        else:
            self.tokens += record.tokens
        self.latencies.append(record.latency_s)


class RollingLatency:
    """Latencies of the last `window_s` seconds, for a live p50/p99 that forgets the past."""

    def __init__(self, window_s: float = 5.0, max_samples: int = 50_000) -> None:
        self.window_s = window_s
        self._samples: deque[tuple[float, float]] = deque(maxlen=max_samples)

    def add(self, t: float, latency_s: float) -> None:
        self._samples.append((t, latency_s))

    def clear(self) -> None:
        self._samples.clear()

    def percentiles(self, now: float) -> tuple[float | None, float | None]:
        horizon = now - self.window_s
        while self._samples and self._samples[0][0] < horizon:
            self._samples.popleft()
        if not self._samples:
            return None, None
        ordered = sorted(latency for _, latency in self._samples)
        return percentile(ordered, 50), percentile(ordered, 99)
