"""Per-cell results as text columns, shared by the CLI table and the UI's tables.

Every column has a `keep` rank: 1 is always shown, and on a narrow terminal `fit_columns` drops
the highest ranks first, so an 80-column table keeps rates, errors and latency (mean, p50, p90,
p99) and leaves the rest to summary.csv, which has every figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from spark_tui.core.bench.stats import describe_errors
from spark_tui.models.bench import CellSummary

GIB = 1024**3
GAP = 2  # between two columns of the CLI's table (collapsed padding and divider)


@dataclass(frozen=True)
class Column:
    header: str
    keep: int  # 1: always shown; higher ranks are dropped first when the table is too wide
    text: bool = False  # left-aligned words rather than a figure


# extra_means keys the adapters report -> (header, scale, keep); others show under their own name
EXTRA_FIGURES: dict[str, tuple[str, float, int]] = {
    "elements": ("elems/frame", 1, 2),  # OmniParser
    "queue_s": ("queue ms", 1000, 4),  # TEI's x-queue-time
    "inference_s": ("infer ms", 1000, 4),  # TEI's x-inference-time
    "tokenization_s": ("tokenize ms", 1000, 6),
    "load_s": ("load s", 1, 5),  # Ollama loaded the model again during a cell
    "polls": ("polls", 1, 6),  # docling's async API
}
HIDDEN_EXTRAS = frozenset({"documents"})  # always the batch size


@dataclass(frozen=True)
class Extras:
    """The adapter-specific figures a run's cells have: means (elements, queue_s…) and label counts (status)."""

    means: tuple[str, ...] = ()
    counts: tuple[str, ...] = ()

    @classmethod
    def of(cls, summaries: Sequence[CellSummary]) -> Extras:
        means = sorted({k for s in summaries for k in s.extra_means if k not in HIDDEN_EXTRAS})
        counts = sorted({k for s in summaries for k in s.extra_counts})
        return cls(tuple(means), tuple(counts))


def is_generation(summaries: Sequence[CellSummary]) -> bool:
    return any(s.spec.input_tokens is not None for s in summaries)


def generation_columns(summaries: Sequence[CellSummary]) -> list[Column]:
    """A generation run's table: lengths, output token rates, TTFT/ITL/TPOT/e2e, goodput, energy."""
    goodput = [Column("goodput", 2)] if any(s.goodput is not None for s in summaries) else []
    return [
        Column("#", 1), Column("in", 1), Column("out", 1), Column("conc", 1), Column("status", 1, text=True),
        Column("out tok/s", 1), Column("tok/s/user", 2), Column("req/s", 4),
        Column("TTFT p50 ms", 1), Column("TTFT p99 ms", 3), Column("ITL p50 ms", 1), Column("ITL p99 ms", 3),
        Column("TPOT p50 ms", 5), Column("gap p99 ms", 6), Column("e2e p50 s", 4), Column("e2e p99 s", 5), *goodput,
        Column("errors", 1), Column("GPU %", 5), Column("GPU W", 5), Column("tok/J", 4),
    ]


def generation_cells(s: CellSummary, summaries: Sequence[CellSummary] = ()) -> tuple[str, ...]:
    machine = s.machine
    rate = _num(s.output_tokens_per_s, 0)
    if s.output_tokens_per_s is not None and s.tokens_estimated:
        rate = "~" + rate

    def q(stats: object, name: str, scale: float = 1000) -> str:
        value = getattr(stats, name) if stats is not None else None
        return _num(value * scale if value is not None else None, 1 if scale != 1 else 2)

    goodput = [f"{s.goodput.share:.0%}" if s.goodput else "n/a"] if any(x.goodput is not None for x in summaries) else []
    return (
        str(s.spec.index + 1), str(s.spec.input_tokens), str(s.spec.output_tokens), str(s.spec.concurrency), s.status,
        rate, _num(s.output_tokens_per_s_per_user, 1), _num(s.requests_per_s, 2),
        q(s.ttft, "p50"), q(s.ttft, "p99"), q(s.itl, "p50"), q(s.itl, "p99"), q(s.tpot, "p50"), q(s.event_gap, "p99"),
        q(s.e2e, "p50", 1), q(s.e2e, "p99", 1), *goodput,
        f"{s.error_count}/{s.requests}" if s.requests else "0",
        _num(machine.gpu_util_mean if machine else None, 0), _num(machine.gpu_power_mean if machine else None, 0),
        _num(s.output_tokens_per_joule, 2),
    )


def summary_columns(unit: str, summaries: Sequence[CellSummary] = ()) -> list[Column]:
    """The table's columns; a sweep dimension with one value ranks low (it says nothing per row)."""
    if is_generation(summaries):
        return generation_columns(summaries)

    def varies(values: set[object]) -> bool:
        return len(values) > 1

    payloads = varies({s.spec.payload for s in summaries})
    batches = not summaries or varies({s.spec.batch for s in summaries})
    extras = Extras.of(summaries)
    server = [Column("server ms", 5)] if has_server_time(summaries) else []  # p50 of the server's own time
    columns = [
        Column("#", 1), Column("payload", 1 if payloads else 7, text=True), Column("batch", 1 if batches else 6),
        Column("conc", 1), Column("status", 1, text=True), Column("req/s", 4), Column(f"{unit}/s", 1), Column("tok/s", 5),
        Column("mean ms", 3), Column("p50 ms", 2), Column("p90 ms", 3), Column("p95 ms", 6), Column("p99 ms", 2), Column("max ms", 5), *server,
        Column("errors", 1), Column("GPU %", 4), Column("GPU W", 5), Column("min avail GiB", 6),
    ]
    for key in extras.means:
        header, _, keep = EXTRA_FIGURES.get(key, (key, 1, 6))
        columns.append(Column(header, keep))
    columns += [Column(key, 4, text=True) for key in extras.counts]
    return columns


def has_server_time(summaries: Sequence[CellSummary]) -> bool:
    """Whether the server reported its own processing time for a cell (TEI, Infinity…)."""
    return any(s.server_time is not None for s in summaries)


def summary_headers(unit: str, summaries: Sequence[CellSummary] = ()) -> tuple[str, ...]:
    return tuple(c.header for c in summary_columns(unit, summaries))


def _num(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else _num(value * 1000, 1)


def summary_cells(s: CellSummary, summaries: Sequence[CellSummary] = ()) -> tuple[str, ...]:
    """One table row, columns as `summary_headers(unit, summaries)`: "n/a" where nothing was
    measured; "~" marks estimated token rates."""
    if is_generation(summaries) or (not summaries and s.spec.input_tokens is not None):
        return generation_cells(s, summaries or (s,))
    lat, machine = s.latency, s.machine
    tokens = _num(s.tokens_per_s, 0)
    if s.tokens_per_s is not None and s.tokens_estimated:
        tokens = "~" + tokens
    elif s.tokens_per_s is not None and s.tokens_source and s.tokens_source.startswith("the server's own count"):
        tokens = "?" + tokens  # a count the server calls tokens that is not (characters)
    row = [
        str(s.spec.index + 1), s.spec.payload, str(s.spec.batch), str(s.spec.concurrency), s.status,
        _num(s.requests_per_s, 2), _num(s.items_per_s, 1), tokens,
        *(_ms(getattr(lat, name) if lat else None) for name in ("mean", "p50", "p90", "p95", "p99", "max")),
        *([_ms(s.server_time.p50 if s.server_time else None)] if has_server_time(summaries) else []),
        f"{s.error_count}/{s.requests}" if s.requests else "0",
        _num(machine.gpu_util_mean if machine else None, 0), _num(machine.gpu_power_mean if machine else None, 0),
        _num(machine.mem_available_min / GIB if machine and machine.mem_available_min is not None else None, 1),
    ]
    extras = Extras.of(summaries)
    for key in extras.means:
        value = s.extra_means.get(key)
        row.append(_num(value * EXTRA_FIGURES.get(key, (key, 1, 0))[1] if value is not None else None, 1))
    for key in extras.counts:
        counts = s.extra_counts.get(key) or {}
        row.append(" ".join(f"{label}:{count}" for label, count in counts.items()) or "n/a")
    return tuple(row)


def fit_columns(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int, gap: int = GAP) -> list[int]:
    """Indexes of the columns to show, in table order: the best-ranked ones that fit in `width`."""
    widths = [max([len(c.header)] + [len(row[i]) for row in rows]) for i, c in enumerate(columns)]
    chosen: list[int] = []
    used, last_rank = -gap, None  # once a column does not fit, none of a lower rank is tried
    for i in sorted(range(len(columns)), key=lambda i: columns[i].keep):
        keep = columns[i].keep
        if keep > 1 and ((last_rank is not None and keep > last_rank) or used + gap + widths[i] > width):
            last_rank = keep if last_rank is None else last_rank
            continue
        chosen.append(i)
        used += gap + widths[i]
    return sorted(chosen)


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
