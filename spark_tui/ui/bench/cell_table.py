"""The per-cell table of a benchmark: planned cells waiting, the running one with its live
rate, finished ones with their summary. Rows keyed by cell index and updated cell by cell,
never cleared and refilled.

Its columns are its own, not the CLI's (spark_tui.core.bench.report): compact figures, the same
measures. Beside the fixed ones, the server's own time (p50) and the adapter's figures
(OmniParser's elements per frame, TEI's queue and inference times…) get a column once a
finished cell has them; tok/s goes once cells finished without counting any (parse runs).

Every column has a drop rank: on a narrow table the least telling go first, one by one, until
the rest fit (80 columns: rates, errors, p50/p90/p99; 120: mean, the machine and the server's
time too); below the essentials the table scrolls sideways. A payload column that would repeat
one value on every row is left out (the run's header says it); with several payloads it always
stays, it tells the rows apart. A batch column of one value is among the first to go.

A generation run has its own columns (GEN_COLUMNS): lengths, output tokens/s and per user,
TTFT/ITL/TPOT/e2e quantiles, goodput when an SLO was given; 80 columns keep tokens/s, TTFT p50
and ITL p50, 120 add their p99s and the rate per user.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from rich.text import Text
from textual import events
from textual.widgets import DataTable

from spark_tui.core.bench.live import CellLive
from spark_tui.core.bench.report import EXTRA_FIGURES, Extras, has_server_time
from spark_tui.models.bench import CellSpec, CellSummary
from spark_tui.ui.widgets.theme_colors import theme_colors

STATUS_ROLE = {"degraded": "warning", "failed": "error", "cancelled": "warning", "ok": "success"}
GIB = 1024**3
NA = "n/a"
PADDING = 2  # a DataTable cell's padding, both sides
SCROLLBAR = 2


def rate(value: float | None) -> str:
    """Items or requests per second: no decimals from 100 up."""
    if value is None:
        return NA
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def compact(value: float | None) -> str:
    """Large counts per second in k / M: 9,870, 54.8k, 219k, 2.59M."""
    if value is None or value < 10_000:
        return rate(value)
    if value < 1e6:
        thousands = value / 1e3
        return f"{thousands:.1f}k" if thousands < 100 else f"{thousands:.0f}k"
    millions = value / 1e6
    return f"{millions:.2f}M" if millions < 10 else f"{millions:.1f}M" if millions < 100 else f"{millions:,.0f}M"


def ms(seconds: float | None) -> str:
    if seconds is None:
        return NA
    value = seconds * 1000
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def whole(value: float | None) -> str:
    return NA if value is None else f"{value:.0f}"


def gib(value: int | None) -> str:
    if value is None:
        return NA
    size = value / GIB
    return f"{size:.1f}" if size < 10 else f"{size:.0f}"


def tokens(s: CellSummary) -> str:
    text = compact(s.tokens_per_s)
    return "~" + text if s.tokens_per_s is not None and s.tokens_estimated else text


def errors(s: CellSummary) -> str:
    return f"{s.error_count}/{s.requests}" if s.requests else "0"


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # "{unit}" is the run's unit
    width: int  # the usual widest value
    value: Callable[[CellSummary], str]
    drop: int = 0  # on narrow tables: the highest goes first; 0 always stays
    right: bool = True


def latency(name: str) -> Callable[[CellSummary], str]:
    return lambda s: ms(getattr(s.latency, name) if s.latency else None)


# drop ranks, most telling first: p90 1, adapter's main figure 2, mean 3, avail 4, GPU % 5,
# server time 6, GPU W 7, tok/s 8, adapter's timings 9, max 10, label counts 11, req/s 12,
# other adapter figures 13, a batch column of one value 14, p95 15
COLUMNS = (
    Column("index", "#", 2, lambda s: str(s.spec.index + 1)),
    Column("payload", "payload", 5, lambda s: s.spec.payload, right=False),
    Column("batch", "batch", 4, lambda s: str(s.spec.batch)),
    Column("conc", "conc", 4, lambda s: str(s.spec.concurrency)),
    Column("status", "status", 11, lambda s: s.status, right=False),
    Column("rps", "req/s", 5, lambda s: rate(s.requests_per_s), drop=12),
    Column("items", "{unit}/s", 6, lambda s: rate(s.items_per_s)),
    Column("tokens", "tok/s", 6, tokens, drop=8),
    Column("mean", "mean ms", 5, latency("mean"), drop=3),
    Column("p50", "p50 ms", 5, latency("p50")),
    Column("p90", "p90 ms", 5, latency("p90"), drop=1),
    Column("p95", "p95 ms", 5, latency("p95"), drop=15),
    Column("p99", "p99 ms", 5, latency("p99")),
    Column("max", "max ms", 5, latency("max"), drop=10),
    Column("errors", "errors", 7, errors),
    Column("gpu", "GPU %", 3, lambda s: whole(s.machine.gpu_util_mean if s.machine else None), drop=5),
    Column("power", "GPU W", 3, lambda s: whole(s.machine.gpu_power_mean if s.machine else None), drop=7),
    Column("avail", "avail GiB", 4, lambda s: gib(s.machine.mem_available_min if s.machine else None), drop=4),
)


def quantile(figure: str, name: str, scale: float = 1000) -> Callable[[CellSummary], str]:
    def value(s: CellSummary) -> str:
        stats = getattr(s, figure)
        if stats is None:
            return NA
        seconds = getattr(stats, name)
        return ms(seconds) if scale == 1000 else f"{seconds:.2f}"

    return value


def goodput(s: CellSummary) -> str:
    return f"{s.goodput.share:.0%}" if s.goodput is not None else NA


# drop ranks for generation: TTFT p99 1, ITL p99 2, per user 3, goodput 4, e2e p50 5, TPOT p50 6, GPU % 7,
# GPU W 8, tok/J 9, e2e p99 10, TTFT p90 11, ITL p90 12, TPOT p99 13, req/s 14, TPOT p90 15, e2e p90 16
GEN_COLUMNS = (
    Column("index", "#", 2, lambda s: str(s.spec.index + 1)),
    Column("in", "in", 5, lambda s: str(s.spec.input_tokens)),
    Column("out", "out", 3, lambda s: str(s.spec.output_tokens)),
    Column("conc", "conc", 4, lambda s: str(s.spec.concurrency)),
    Column("status", "status", 11, lambda s: s.status, right=False),
    Column("rps", "req/s", 5, lambda s: rate(s.requests_per_s), drop=14),
    Column("items", "tok/s", 6, lambda s: ("~" if s.tokens_estimated and s.output_tokens_per_s is not None else "") + compact(s.output_tokens_per_s)),
    Column("user", "tok/s/user", 5, lambda s: rate(s.output_tokens_per_s_per_user), drop=3),
    Column("ttft50", "TTFT p50 ms", 5, quantile("ttft", "p50")),
    Column("ttft90", "TTFT p90 ms", 5, quantile("ttft", "p90"), drop=11),
    Column("ttft99", "TTFT p99 ms", 5, quantile("ttft", "p99"), drop=1),
    Column("itl50", "ITL p50 ms", 5, quantile("itl", "p50")),
    Column("itl90", "ITL p90 ms", 5, quantile("itl", "p90"), drop=12),
    Column("itl99", "ITL p99 ms", 5, quantile("itl", "p99"), drop=2),
    Column("tpot50", "TPOT p50 ms", 5, quantile("tpot", "p50"), drop=6),
    Column("tpot90", "TPOT p90 ms", 5, quantile("tpot", "p90"), drop=15),
    Column("tpot99", "TPOT p99 ms", 5, quantile("tpot", "p99"), drop=13),
    Column("e2e50", "e2e p50 s", 5, quantile("e2e", "p50", 1), drop=5),
    Column("e2e90", "e2e p90 s", 5, quantile("e2e", "p90", 1), drop=16),
    Column("e2e99", "e2e p99 s", 5, quantile("e2e", "p99", 1), drop=10),
    Column("goodput", "goodput", 4, goodput, drop=4),
    Column("errors", "errors", 7, errors),
    Column("gpu", "GPU %", 3, lambda s: whole(s.machine.gpu_util_mean if s.machine else None), drop=7),
    Column("power", "GPU W", 3, lambda s: whole(s.machine.gpu_power_mean if s.machine else None), drop=8),
    Column("tpj", "tok/J", 4, lambda s: rate(s.output_tokens_per_joule), drop=9),
)
SERVER = Column("server", "server ms", 5, lambda s: ms(s.server_time.p50 if s.server_time else None), drop=6)  # p50 of the server's own time
ONE_BATCH_DROP = 14
EXTRA_DROP = {"elements": 2, "queue_s": 9, "inference_s": 9, "load_s": 11}  # others: 13
COUNTS_DROP = 11


@cache
def extra_column(key: str) -> Column:
    """An adapter's mean figure (extra_means), headed and scaled as in the CLI's table."""
    header, scale, _ = EXTRA_FIGURES.get(key, (key, 1, 0))

    def value(s: CellSummary) -> str:
        figure = s.extra_means.get(key)
        return rate(figure * scale) if figure is not None else NA

    return Column(f"extra.{key}", header.replace("{", "{{").replace("}", "}}"), 4, value, drop=EXTRA_DROP.get(key, 13))


@cache
def counts_column(key: str) -> Column:
    """An adapter's labels counted (extra_counts), e.g. docling's status: "success:40"."""

    def value(s: CellSummary) -> str:
        return " ".join(f"{label}:{count}" for label, count in (s.extra_counts.get(key) or {}).items()) or NA

    return Column(f"counts.{key}", key.replace("{", "{{").replace("}", "}}"), 10, value, drop=COUNTS_DROP, right=False)


def table_columns(summaries: Sequence[CellSummary] = (), generation: bool = False) -> tuple[Column, ...]:
    """COLUMNS, with the server's time (after max) and the adapter's figures (after errors) when a
    finished cell has them; without tok/s once cells finished and none counted tokens (parse runs).
    Generation: GEN_COLUMNS, goodput only when a cell has it (an SLO was given)."""
    if generation or any(s.spec.input_tokens is not None for s in summaries):
        slo = any(s.goodput is not None for s in summaries)
        return tuple(c for c in GEN_COLUMNS if slo or c.key != "goodput")
    extras = Extras.of(summaries)
    server = has_server_time(summaries)
    no_tokens = bool(summaries) and all(s.tokens_per_s is None for s in summaries)
    columns: list[Column] = []
    for column in COLUMNS:
        if column.key == "tokens" and no_tokens:
            continue
        columns.append(column)
        if column.key == "max" and server:
            columns.append(SERVER)
        elif column.key == "errors":
            columns += [extra_column(key) for key in extras.means] + [counts_column(key) for key in extras.counts]
    return tuple(columns)


def column_width(column: Column, unit: str, rows: Sequence[dict[str, str]] | None = None) -> int:
    """Its header or its values, whichever is wider: the values shown when they are final
    (`rows`), else the usual widest (a running cell's figures change as it goes)."""
    values = max((len(row.get(column.key, "")) for row in rows), default=0) if rows is not None else column.width
    return max(len(column.header.format(unit=unit)), values) + PADDING


def fitting_columns(width: int, unit: str, *, columns: Sequence[Column] = COLUMNS, one_payload: bool = False,
                    one_batch: bool = False, rows: Sequence[dict[str, str]] | None = None) -> tuple[Column, ...]:
    """The columns shown in `width` cells: the least telling dropped one by one (the rightmost of
    equal rank first) until the rest fit, or only those that always stay are left; then any
    dropped one that still fits in what is left comes back, the most telling first."""
    kept = [c for c in columns if not (one_payload and c.key == "payload")]

    def rank(column: Column) -> int:
        return ONE_BATCH_DROP if one_batch and column.key == "batch" else column.drop

    widths = {c.key: column_width(c, unit, rows) for c in kept}
    used, budget = sum(widths.values()), width - SCROLLBAR
    dropped: list[Column] = []
    for _, column in sorted(enumerate(kept), key=lambda ic: (rank(ic[1]), ic[0]), reverse=True):
        if used <= budget or not rank(column):
            break
        dropped.append(column)
        used -= widths[column.key]
    for column in reversed(dropped):
        if used + widths[column.key] <= budget:
            dropped.remove(column)
            used += widths[column.key]
    return tuple(c for c in kept if c not in dropped)


def live_values(cell: CellLive) -> dict[str, str]:
    """A row for a cell that has no summary yet."""
    spec = cell.spec
    values = {"index": str(spec.index + 1), "payload": spec.payload, "batch": str(spec.batch), "conc": str(spec.concurrency),
              "in": str(spec.input_tokens), "out": str(spec.output_tokens)}
    if cell.state in ("pending", "not run"):
        values["status"] = "waiting" if cell.state == "pending" else "not run"
        return values
    errors = sum(cell.errors.values())
    values.update(status=f"running {cell.progress:.0%}", items=rate(cell.items_per_s), errors=f"{errors}/{cell.requests}" if cell.requests else "0")
    return values


def summary_values(summary: CellSummary, columns: Sequence[Column] = COLUMNS) -> dict[str, str]:
    return {column.key: column.value(summary) for column in columns}


Row = tuple[dict[str, str], str | None]  # values by column key, the cell's status when finished


class CellTable(DataTable):
    DEFAULT_CSS = """
    CellTable {
        height: auto;
        max-height: 100%;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        self._unit = "items"
        self._columns: tuple[Column, ...] = COLUMNS  # the candidates: COLUMNS and what the cells add
        self._one_payload = False
        self._one_batch = False
        self._final = False  # every row's figures are final (a saved run, a run that ended)
        self._shown: tuple[Column, ...] = ()
        self._shown_unit = ""
        self._rows: dict[str, Row] = {}

    @property
    def shown_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self._shown)

    def show_live(self, unit: str, cells: Sequence[CellLive]) -> None:
        generation = any(cell.spec.input_tokens is not None for cell in cells)
        columns = table_columns([cell.summary for cell in cells if cell.summary is not None], generation)
        rows: dict[str, Row] = {}
        for cell in cells:
            if cell.summary is not None:
                rows[str(cell.spec.index)] = (summary_values(cell.summary, columns), cell.summary.status)
            else:
                rows[str(cell.spec.index)] = (live_values(cell), None)
        final = all(cell.state in ("done", "not run") for cell in cells)
        self._show(unit, columns, [cell.spec for cell in cells], final, rows)

    def show_summaries(self, unit: str, summaries: Sequence[CellSummary]) -> None:
        columns = table_columns(summaries)
        rows: dict[str, Row] = {str(s.spec.index): (summary_values(s, columns), s.status) for s in summaries}
        self._show(unit, columns, [s.spec for s in summaries], True, rows)

    def _show(self, unit: str, columns: tuple[Column, ...], specs: Sequence[CellSpec], final: bool, rows: dict[str, Row]) -> None:
        self._unit, self._columns, self._final = unit, columns, final
        self._one_payload = len({spec.payload for spec in specs}) <= 1
        self._one_batch = len({spec.batch for spec in specs}) <= 1
        self._arrange(rows)
        self._sync(rows)

    def on_resize(self, event: events.Resize) -> None:
        self._arrange(self._rows)

    def _arrange(self, rows: dict[str, Row]) -> None:
        """Columns for the current width; when they change, rows are added again under them."""
        width = self.size.width or self.app.size.width
        values = [values for values, _ in rows.values()] if self._final else None
        shown = fitting_columns(width, self._unit, columns=self._columns, one_payload=self._one_payload, one_batch=self._one_batch,
                                rows=values)
        if shown == self._shown and self._unit == self._shown_unit and self.columns:
            return
        self.clear(columns=True)
        for column in shown:
            self.add_column(Text(column.header.format(unit=self._unit), justify="right" if column.right else "left"), key=column.key)
        self._shown, self._shown_unit = shown, self._unit
        rows, self._rows = self._rows, {}
        self._sync(rows)

    def _sync(self, rows: dict[str, Row]) -> None:
        for key in [k.value for k in self.rows if k.value not in rows]:
            self.remove_row(key)
        for key, (values, status) in rows.items():
            if self._rows.get(key) == (values, status) and key in self.rows:
                continue
            cells = [self._styled(column, values.get(column.key, ""), status) for column in self._shown]
            if key in self.rows:
                for column, cell in zip(self._shown, cells):
                    if self.get_cell(key, column.key) != cell:
                        self.update_cell(key, column.key, cell, update_width=True)
            else:
                self.add_row(*cells, key=key)
        self._rows = dict(rows)

    def _styled(self, column: Column, value: str, status: str | None) -> Text:
        style = ""
        if status == "skipped":
            style = "dim"
        elif column.key == "status" and status in STATUS_ROLE:
            style = getattr(theme_colors(self.app), STATUS_ROLE[status])
        return Text(value, style=style, justify="right" if column.right else "left")
