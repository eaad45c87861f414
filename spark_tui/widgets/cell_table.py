"""The per-cell table of a benchmark: planned cells waiting, the running one with its live
rate, finished ones with their summary (spark_tui.bench.report columns). Rows keyed by cell
index and updated cell by cell, never cleared and refilled."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from spark_tui.bench.live import CellLive
from spark_tui.bench.report import summary_cells, summary_headers
from spark_tui.models.bench import CellSummary
from spark_tui.widgets.theme_colors import theme_colors

STATUS_ROLE = {"degraded": "warning", "failed": "error", "cancelled": "warning", "ok": "success"}
RIGHT = {0, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}


def _rate(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if value >= 1000 else f"{value:.1f}"


def live_cells(cell: CellLive, width: int) -> tuple[str, ...]:
    """A row for a cell that has no summary yet."""
    spec = cell.spec
    blank = ("",) * (width - 5)
    if cell.state in ("pending", "not run"):
        status = "waiting" if cell.state == "pending" else "not run"
        return (str(spec.index + 1), spec.payload, str(spec.batch), str(spec.concurrency), status, *blank)
    row = [str(spec.index + 1), spec.payload, str(spec.batch), str(spec.concurrency), f"running {cell.progress:.0%}", *blank]
    row[6] = _rate(cell.items_per_s)
    errors = sum(cell.errors.values())
    row[12] = f"{errors}/{cell.requests}" if cell.requests else "0"
    return tuple(row)


class CellTable(DataTable):
    DEFAULT_CSS = """
    CellTable {
        height: auto;
        max-height: 100%;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False)
        self._unit: str | None = None

    def _columns(self, unit: str) -> list[str]:
        headers = summary_headers(unit)
        if self._unit != unit:
            self.clear(columns=True)
            for i, header in enumerate(headers):
                self.add_column(Text(header, justify="right" if i in RIGHT else "left"), key=str(i))
            self._unit = unit
        return list(headers)

    def show_live(self, unit: str, cells: Sequence[CellLive]) -> None:
        headers = self._columns(unit)
        rows = {}
        for cell in cells:
            values = summary_cells(cell.summary) if cell.summary is not None else live_cells(cell, len(headers))
            status = cell.summary.status if cell.summary is not None else None
            rows[str(cell.spec.index)] = (values, status)
        self._sync(rows)

    def show_summaries(self, unit: str, summaries: Sequence[CellSummary]) -> None:
        self._columns(unit)
        self._sync({str(s.spec.index): (summary_cells(s), s.status) for s in summaries})

    def _sync(self, rows: dict[str, tuple[tuple[str, ...], str | None]]) -> None:
        for key in [k.value for k in self.rows if k.value not in rows]:
            self.remove_row(key)
        for key, (values, status) in rows.items():
            cells = [self._styled(i, value, status) for i, value in enumerate(values)]
            if key in self.rows:
                for i, cell in enumerate(cells):
                    if self.get_cell(key, str(i)) != cell:
                        self.update_cell(key, str(i), cell, update_width=True)
            else:
                self.add_row(*cells, key=key)

    def _styled(self, column: int, value: str, status: str | None) -> Text:
        style = ""
        if status == "skipped":
            style = "dim"
        elif column == 4 and status in STATUS_ROLE:
            style = getattr(theme_colors(self.app), STATUS_ROLE[status])
        return Text(value, style=style, justify="right" if column in RIGHT else "left")
