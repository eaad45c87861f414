"""One row per service probe, problems first (down, degraded, unknown, up; then by name), with
a cursor: the shared RowTable, with cells of spans.

Why not a DataTable: every `update_cell` refreshes the whole table and invalidates all its
cached cells, and each cell is rendered through Rich (Padding, Styled, render_lines) —
about 80 ms of CPU per update at 160×48. Fifty probes change their rows every second, so
that alone would be 8% of a core. RowTable re-renders only the lines whose cells changed; and
here only the probes with news get their cells built again.

Narrow: name, state, latency, recent checks and one column saying what matters (the
problem when there is one, else what the service serves). Wide: serves, problem and source
get their own columns, from where serves and problem each get as much room as the narrow
layout's one column has at 120 columns (so widening the terminal never shows less).
"""

from __future__ import annotations

from bisect import insort
from dataclasses import dataclass

from spark_tui.core.services import text as text
from spark_tui.models.probes import ProbeState, ProbeStatus
from spark_tui.ui.services.state import ORDER, ProbesState
from spark_tui.ui.widgets.row_table import PADDING as PAD
from spark_tui.ui.widgets.row_table import Cell, Row, RowTable, Span, TableColumn

WIDE_FROM = 220  # content width (cells) from which serves, problem and source get columns (see above)
MIN_FLEX = 12



@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int | None  # None: a share of what the fixed columns leave
    right: bool = False
    share: float = 1.0


NARROW = (
    Column("name", "Service", 14),
    Column("state", "State", 10),
    Column("latency", "Latency", 8, right=True),
    Column("trend", "Last checks", 11),
    Column("detail", "Problem or serves", None),
)
WIDE = (
    Column("name", "Service", 16),
    Column("state", "State", 10),
    Column("latency", "Latency", 8, right=True),
    Column("trend", "Last checks", 16),
    Column("serves", "Serves", None),
    Column("problem", "Problem", None),
    Column("source", "Source", 26),
)
ROLE = {ProbeState.UP: "up", ProbeState.DEGRADED: "degraded", ProbeState.DOWN: "down", ProbeState.UNKNOWN: "dim"}


def clip(value: str, width: int | None) -> str:
    if width is None or len(value) <= width:
        return value
    return value[: max(0, width - 1)] + "…"


def layout(columns: tuple[Column, ...], width: int) -> dict[str, int]:
    """Each column's width: the fixed ones as given, the flexible ones share the rest."""
    room = width - sum((c.width or 0) + 2 * PAD for c in columns)  # every column is padded
    flexible = [c for c in columns if c.width is None]
    total = sum(c.share for c in flexible) or 1.0
    return {c.key: c.width if c.width is not None else max(MIN_FLEX, int(room * c.share / total)) for c in columns}


def trend_spans(status: ProbeStatus, width: int) -> Cell:
    """The sparkline in the accent colour; checks without an answer as red dots."""
    line = text.sparkline(status.latencies, width)
    spans: list[Span] = []
    run, gap = "", False
    for char in line:
        is_gap = char == text.GAP
        if run and is_gap != gap:
            spans.append((run, "down" if gap else "accent"))
            run = ""
        run += char
        gap = is_gap
    if run:
        spans.append((run, "down" if gap else "accent"))
    return tuple(spans)


def problem_spans(status: ProbeStatus, now: float, width: int) -> Cell:
    words = text.problem(status, now)
    if not words:
        return ()
    current = status.state in (ProbeState.DOWN, ProbeState.DEGRADED)
    return ((clip(words, width), ROLE[status.state] if current else "dim"),)


def row_cells(status: ProbeStatus, columns: tuple[Column, ...], widths: dict[str, int], now: float, checking: bool) -> Row:
    result = status.result
    state = status.state
    cells: list[Cell] = []
    for column in columns:
        width = widths[column.key]
        key = column.key
        if key == "name":
            cell: Cell = ((clip(status.name, width), None),)
        elif key == "state":
            if checking and state is ProbeState.UNKNOWN:
                cell = (("○ checking", "dim"),)
            else:
                cell = ((f"{text.STATE_MARK[state]} {state.value}", ROLE[state] if state is not ProbeState.DOWN else "down-bold"),)
        elif key == "latency":
            figure = "…" if checking and result is None else text.latency(status.latency_ms)
            cell = ((figure.rjust(width), "dim" if status.latency_ms is None else None),)
        elif key == "trend":
            cell = trend_spans(status, width)
        elif key == "serves":
            cell = ((clip(text.describe_service(result), width), None),) if result else ()
        elif key == "problem":
            cell = problem_spans(status, now, width)
        elif key == "source":
            cell = ((clip(text.source(status.spec), width), "dim"),)
        elif state in (ProbeState.DOWN, ProbeState.DEGRADED):  # "detail": what matters most
            cell = problem_spans(status, now, width)
        else:
            cell = ((clip(text.describe_service(result), width), None),) if result else ()
        cells.append(cell)
    return tuple(cells)


class ProbeTable(RowTable):
    """The probes, a header line, and a cursor moved with the keys or the mouse."""

    PARTIAL_STYLES = True  # the cursor keeps the states' colours when the table has no focus

    # Its look as before the tables were one: without focus the cursor only tints the background
    # (transparent: no colour over the states'), and the header keeps $panel on ANSI themes too.
    DEFAULT_CSS = """
    ProbeTable {
        & > .row-table--cursor {
            background: $block-cursor-blurred-background;
            color: transparent;
            text-style: none;
        }
        &:focus > .row-table--cursor {
            color: $block-cursor-foreground;
            background: $block-cursor-background;
            text-style: bold;
        }
        &:ansi > .row-table--header {
            background: $panel;
            color: $foreground;
        }
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._state: ProbesState | None = None
        self._order: list[tuple[int, str, str]] = []  # (problems first, name's sort key, name)
        self._sort_keys: dict[str, tuple[int, str, str]] = {}
        self._rows: dict[str, Row] = {}
        self._columns: tuple[Column, ...] = NARROW
        self._widths: dict[str, int] = {}

    # -- data ---------------------------------------------------------------------------------

    def row_names(self) -> list[str]:
        return list(self.keys)

    @property
    def selected_name(self) -> str | None:
        return self.cursor_key

    def show(self, state: ProbesState, names: set[str] | None = None) -> None:
        """Bring the rows in line with `state`; `names`: only these changed (None: check all)."""
        self._state = state
        if not self._widths:
            return  # not laid out yet: on_resize draws everything
        now = state.now()
        for name in [n for n in self._rows if n not in state.statuses]:
            del self._rows[name]
            self._order.remove(self._sort_keys.pop(name))
        for name, status in state.statuses.items():
            if name in self._rows and names is not None and name not in names:
                continue
            self._rows[name] = row_cells(status, self._columns, self._widths, now, name in state.checking)
            key = (ORDER[status.state], name.lower(), name)
            if self._sort_keys.get(name) != key:  # new, or its state moved it (problems go to the top)
                if name in self._sort_keys:
                    self._order.remove(self._sort_keys[name])
                insort(self._order, key)
                self._sort_keys[name] = key
        self.set_rows([(key[-1], self._rows[key[-1]]) for key in self._order])

    # -- layout -------------------------------------------------------------------------------

    def on_resize(self) -> None:
        width = self.scrollable_content_region.width
        columns = WIDE if width >= WIDE_FROM else NARROW
        widths = layout(columns, width)
        if (columns, widths) != (self._columns, self._widths):
            self._columns, self._widths = columns, widths
            self.set_columns([TableColumn(c.key, c.label, widths[c.key], c.right) for c in columns])
            self._rows.clear()
            self._order.clear()
            self._sort_keys.clear()
            if self._state is not None:
                self.show(self._state)
