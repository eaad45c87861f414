"""Per-cell results as text columns, shared by the CLI table and the UI's tables."""

from __future__ import annotations

from collections.abc import Sequence

from spark_tui.bench.stats import describe_errors
from spark_tui.models.bench import CellSummary

GIB = 1024**3

SUMMARY_HEADERS = ("#", "payload", "batch", "conc", "status", "req/s", "{unit}/s", "tok/s",
                   "p50 ms", "p95 ms", "p99 ms", "max ms", "errors", "GPU %", "GPU W", "min avail GiB")


def summary_headers(unit: str) -> tuple[str, ...]:
    return tuple(h.format(unit=unit) for h in SUMMARY_HEADERS)


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else _num(value * 1000, 1)


def summary_cells(s: CellSummary) -> tuple[str, ...]:
    """One table row: "n/a" where nothing was measured; "~" marks estimated token rates."""
    lat, machine = s.latency, s.machine
    tokens = _num(s.tokens_per_s, 0)
    if s.tokens_per_s is not None and s.tokens_estimated:
        tokens = "~" + tokens
    return (
        str(s.spec.index + 1), s.spec.payload, str(s.spec.batch), str(s.spec.concurrency), s.status,
        _num(s.requests_per_s, 2), _num(s.items_per_s, 1), tokens,
        _ms(lat.p50 if lat else None), _ms(lat.p95 if lat else None), _ms(lat.p99 if lat else None), _ms(lat.max if lat else None),
        f"{s.error_count}/{s.requests}" if s.requests else "0",
        _num(machine.gpu_util_mean if machine else None, 0), _num(machine.gpu_power_mean if machine else None, 0),
        _num(machine.mem_available_min / GIB if machine and machine.mem_available_min is not None else None, 1),
    )


def cell_notes(summaries: Sequence[CellSummary]) -> list[str]:
    """One line per cell that needs explaining: skipped, failed, degraded, cancelled."""
    notes = []
    for s in summaries:
        if s.status == "ok" and not s.errors:
            continue
        why = s.reason or (describe_errors(s.errors) if s.errors else s.status)
        if s.status == "ok" and s.errors:
            why = f"{describe_errors(s.errors)}; first: {s.first_error}"
        notes.append(f"cell {s.spec.index + 1} ({s.spec.label}) {s.status}: {why}")
    return notes
