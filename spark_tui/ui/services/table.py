"""One row per service probe, problems first (down, degraded, unknown, up; then by name), with
a cursor: a Line API widget.

Why not a DataTable: every `update_cell` refreshes the whole table and invalidates all its
cached cells, and each cell is rendered through Rich (Padding, Styled, render_lines) —
about 80 ms of CPU per update at 160×48. Fifty probes change their rows every second, so
that alone would be 8% of a core. Here a row is a few spans turned into one Strip of
Segments; a check that changes a row re-renders that line and nothing else.

Narrow: name, state, latency, recent checks and one column saying what matters (the
problem when there is one, else what the service serves). Wide: serves, problem and source
get their own columns, from where serves and problem each get as much room as the narrow
layout's one column has at 120 columns (so widening the terminal never shows less).
"""

from __future__ import annotations

from bisect import insort
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from spark_tui.core.services import text as text
from spark_tui.models.probes import ProbeState, ProbeStatus
from spark_tui.ui.services.state import ORDER, ProbesState

WIDE_FROM = 220  # content width (cells) from which serves, problem and source get columns (see above)
PAD = 1  # cells either side of a column
MIN_FLEX = 12

Span = tuple[str, str | None]  # text and its role (a component class suffix), None: plain
Cell = tuple[Span, ...]
Row = tuple[Cell, ...]


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


class ProbeTable(ScrollView, can_focus=True):
    """The probes, a header line, and a cursor moved with the arrow keys or the mouse."""

    COMPONENT_CLASSES = {
        "probe-table--header",
        "probe-table--cursor",
        "probe-table--up",
        "probe-table--degraded",
        "probe-table--down",
        "probe-table--dim",
        "probe-table--accent",
    }

    DEFAULT_CSS = """
    ProbeTable {
        height: 1fr;
        overflow-x: hidden;
        scrollbar-size-vertical: 1;
        background: $surface;
    }
    ProbeTable > .probe-table--header {
        color: $foreground;
        background: $panel;
        text-style: bold;
    }
    ProbeTable > .probe-table--cursor {
        background: $block-cursor-blurred-background;
    }
    ProbeTable:focus > .probe-table--cursor {
        color: $block-cursor-foreground;
        background: $block-cursor-background;
        text-style: bold;
    }
    ProbeTable > .probe-table--up { color: $success; }
    ProbeTable > .probe-table--degraded { color: $warning; }
    ProbeTable > .probe-table--down { color: $error; }
    ProbeTable > .probe-table--dim { color: $foreground-muted; }
    ProbeTable > .probe-table--accent { color: $accent; }
    """

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "cursor(-1_000_000)", "First", show=False),
        Binding("end", "cursor(1_000_000)", "Last", show=False),
        Binding("enter", "choose", "Details", show=False),
    ]

    class Highlighted(Message):
        """The cursor moved to another probe (None: the table is empty)."""

        def __init__(self, table: ProbeTable, name: str | None) -> None:
            super().__init__()
            self.table = table
            self.name = name

        @property
        def control(self) -> ProbeTable:
            return self.table

    class Chosen(Message):
        """Enter (or a click on the highlighted row): the user wants this probe's details."""

        def __init__(self, table: ProbeTable, name: str) -> None:
            super().__init__()
            self.table = table
            self.name = name

        @property
        def control(self) -> ProbeTable:
            return self.table

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._state: ProbesState | None = None
        self._order: list[tuple[int, str, str]] = []  # (problems first, name's sort key, name)
        self._keys: dict[str, tuple[int, str, str]] = {}
        self._rows: dict[str, Row] = {}
        self._strips: dict[tuple[str, bool], Strip] = {}  # (name, under the cursor)
        self._cursor: str | None = None
        self._columns: tuple[Column, ...] = NARROW
        self._widths: dict[str, int] = {}
        self._header: Strip | None = None
        self._styles: dict[str, Style] = {}

    # -- data ---------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._order)

    def row_names(self) -> list[str]:
        return [key[-1] for key in self._order]

    def row_text(self, name: str) -> str:
        """A row as plain text, columns separated by two spaces (for tests and logs)."""
        return "  ".join("".join(t for t, _ in cell) for cell in self._rows[name])

    @property
    def selected_name(self) -> str | None:
        return self._cursor

    def select(self, name: str) -> None:
        if name in self._rows and name != self._cursor:
            self._move_cursor_to(name)

    def show(self, state: ProbesState, names: set[str] | None = None) -> None:
        """Bring the rows in line with `state`; `names`: only these changed (None: check all)."""
        self._state = state
        if not self._widths:
            return  # not laid out yet: on_resize draws everything
        now = state.now()
        structure = False
        for name in [n for n in self._rows if n not in state.statuses]:
            del self._rows[name]
            self._order.remove(self._keys.pop(name))
            self._forget(name)
            structure = True
        for name, status in state.statuses.items():
            known = name in self._rows
            if known and names is not None and name not in names:
                continue
            cells = row_cells(status, self._columns, self._widths, now, name in state.checking)
            key = (ORDER[status.state], name.lower(), name)
            if self._keys.get(name) != key:  # new, or its state moved it (problems go to the top)
                if name in self._keys:
                    self._order.remove(self._keys[name])
                insort(self._order, key)
                self._keys[name] = key
                structure = True
            elif self._rows[name] == cells:
                continue
            self._rows[name] = cells
            self._forget(name)
            if not structure:
                self._refresh_row(name)
        if structure:
            self.virtual_size = Size(self.scrollable_content_region.width, len(self._order) + 1)
            if self._cursor not in self._rows:
                self._cursor = self._order[0][-1] if self._order else None
                self.post_message(self.Highlighted(self, self._cursor))
            self.refresh()

    def _forget(self, name: str) -> None:
        self._strips.pop((name, False), None)
        self._strips.pop((name, True), None)

    def _index(self, name: str) -> int:
        return self._order.index(self._keys[name])

    def _refresh_row(self, name: str) -> None:
        self.refresh_line(self._index(name) + 1)  # line 0 is the header

    # -- layout and drawing -----------------------------------------------------------------------

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._restyle())

    def on_focus(self) -> None:
        self._redraw_cursor()

    def on_blur(self) -> None:
        self._redraw_cursor()

    def _redraw_cursor(self) -> None:
        """The cursor's colours differ with focus."""
        if self._cursor in self._rows:
            self._strips.pop((self._cursor, True), None)
            self._refresh_row(self._cursor)

    def _restyle(self) -> None:
        self._styles.clear()
        self._strips.clear()
        self._header = None
        self.refresh()

    def on_resize(self) -> None:
        width = self.scrollable_content_region.width
        columns = WIDE if width >= WIDE_FROM else NARROW
        widths = layout(columns, width)
        if (columns, widths) != (self._columns, self._widths):
            self._columns, self._widths = columns, widths
            self._rows.clear()
            self._order.clear()
            self._keys.clear()
            self._strips.clear()
            self._header = None
            if self._state is not None:
                self.show(self._state)
        self.virtual_size = Size(width, len(self._order) + 1)

    def _style(self, role: str | None) -> Style:
        """The style of a role, cached: `rich_style` walks the DOM on every call."""
        style = self._styles.get(role or "")
        if style is None:
            if role is None:
                style = self._styles[""] = self.rich_style
                return style
            bold = role.endswith("-bold")
            base = role.removesuffix("-bold")
            # only the colour: a partial style would drop the alpha blending of e.g. $foreground-muted
            color = self.get_component_rich_style(f"probe-table--{base}").color
            style = self.rich_style + Style(color=color, bold=True if bold else None)
            self._styles[role] = style
        return style

    def _cursor_style(self) -> Style:
        key = "cursor:focus" if self.has_focus else "cursor"
        style = self._styles.get(key)
        if style is None:
            style = self._styles[key] = self.get_component_rich_style("probe-table--cursor", partial=True)
        return style

    def _strip(self, cells: Row, cursor: bool) -> Strip:
        cursor_style = self._cursor_style() if cursor else None

        def styled(role: str | None) -> Style:
            style = self._style(role)
            return style + cursor_style if cursor_style is not None else style

        segments: list[Segment] = []
        for column, cell in zip(self._columns, cells):
            width = self._widths[column.key]
            used = 0
            segments.append(Segment(" " * PAD, styled(None)))
            for words, role in cell:
                words = words[: width - used]
                segments.append(Segment(words, styled(role)))
                used += len(words)
            segments.append(Segment(" " * (width - used + PAD), styled(None)))
        line_width = self.scrollable_content_region.width
        return Strip(list(Segment.simplify(segments))).extend_cell_length(line_width, styled(None)).crop(0, line_width)

    def _header_strip(self) -> Strip:
        if self._header is None:
            style = self.rich_style + self.get_component_rich_style("probe-table--header", partial=True)
            labels = []
            for column in self._columns:
                width = self._widths[column.key]
                label = clip(column.label, width)
                labels.append(" " * PAD + (label.rjust(width) if column.right else label.ljust(width)) + " " * PAD)
            width = self.scrollable_content_region.width
            self._header = Strip([Segment("".join(labels), style)]).extend_cell_length(width, style).crop(0, width)
        return self._header

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if not self._widths:
            return Strip.blank(width, self.rich_style)  # before the first layout
        if y == 0:
            return self._header_strip()
        index = self.scroll_offset.y + y - 1
        if not 0 <= index < len(self._order):
            return Strip.blank(width, self.rich_style)
        name = self._order[index][-1]
        cursor = name == self._cursor
        strip = self._strips.get((name, cursor))
        if strip is None:
            strip = self._strips[(name, cursor)] = self._strip(self._rows[name], cursor)
        return strip

    # -- the cursor -----------------------------------------------------------------------------

    def _move_cursor_to(self, name: str) -> None:
        previous, self._cursor = self._cursor, name
        if previous in self._rows:
            self._refresh_row(previous)
        self._refresh_row(name)
        index = self._index(name)
        visible = max(1, self.scrollable_content_region.height - 1)  # rows under the header
        top = self.scroll_offset.y
        if index < top:
            self.scroll_to(y=index, animate=False)
        elif index >= top + visible:
            self.scroll_to(y=index - visible + 1, animate=False)
        self.post_message(self.Highlighted(self, name))

    def action_cursor(self, step: int) -> None:
        if not self._order:
            return
        current = self._index(self._cursor) if self._cursor in self._rows else 0
        target = min(max(current + step, 0), len(self._order) - 1)
        self._move_cursor_to(self._order[target][-1])

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(1, self.scrollable_content_region.height - 2))

    def action_choose(self) -> None:
        if self._cursor is not None:
            self.post_message(self.Chosen(self, self._cursor))

    def on_click(self, event: events.Click) -> None:
        if event.y < 1:
            return
        index = self.scroll_offset.y + event.y - 1
        if 0 <= index < len(self._order):
            name = self._order[index][-1]
            if name == self._cursor:
                self.post_message(self.Chosen(self, name))
            else:
                self._move_cursor_to(name)
