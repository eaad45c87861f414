"""The one line table: rows by key, one line per row, a fixed header, a cursor; it redraws only
the rows that changed. The containers and the services screens both use it (they differ only
in what they put in the cells).

Textual's DataTable re-renders every visible cell whenever any cell changes (its render
caches are keyed by a table-wide update counter), each cell through Rich (Padding, Styled,
render_lines): with 200 containers whose CPU figures move every couple of seconds, or 50
probes that change every second, that is most of the app's idle CPU. Here each row is turned
into one Strip of Segments when its cells change, and a change repaints that row's line only.

A cell is plain text, or spans of (text, role): never markup, so text from outside is shown as
it is. A role names a component class `row-table--<role>` (its colour; "<role>-bold" adds bold);
a subclass may map roles otherwise (`role_style`). Cells come fitted to their column by the
caller (see `fit`); the table still cuts what is wider, with an ellipsis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

PADDING = 1  # cells each side of a column, like DataTable's default

Span = tuple[str, str | None]  # text and its role (None: plain)
Cell = str | tuple[Span, ...]  # plain text, or spans
Row = tuple[Cell, ...]


@dataclass(frozen=True)
class TableColumn:
    key: str
    label: str
    width: int
    right: bool = False


def cell_text(cell: Cell) -> str:
    return cell if isinstance(cell, str) else "".join(text for text, _ in cell)


class RowTable(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {
        "row-table--header",
        "row-table--cursor",
        "row-table--up",
        "row-table--degraded",
        "row-table--down",
        "row-table--dim",
        "row-table--accent",
    }

    DEFAULT_CSS = """
    RowTable {
        background: $surface;
        color: $foreground;
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        & > .row-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .row-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .row-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .row-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .row-table--up { color: $success; }
        & > .row-table--degraded { color: $warning; }
        & > .row-table--down { color: $error; }
        & > .row-table--dim { color: $foreground-muted; }
        & > .row-table--accent { color: $accent; }
    }
    """

    # The header's and the cursor's styles: only what their component class sets (True: a cursor
    # without a colour keeps the cells' colours), or combined with the table's (False).
    PARTIAL_STYLES = False

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "ends(0)", "First", show=False),
        Binding("end", "ends(1)", "Last", show=False),
        Binding("enter", "choose", "Choose", show=False),
    ]

    class Highlighted(Message):
        """The cursor moved to another row (or the row under it changed key; None: no rows)."""

        def __init__(self, table: RowTable, key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> RowTable:
            return self.table

    class Chosen(Message):
        """Enter, or a double click on a row."""

        def __init__(self, table: RowTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> RowTable:
            return self.table

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.columns: list[TableColumn] = []
        self.keys: list[str] = []
        self._index: dict[str, int] = {}
        self._row_cells: dict[str, Row] = {}
        self._strips: dict[str, Strip] = {}
        self._header_strip: tuple[Style, Strip] | None = None
        self._rows_style: Style | None = None  # the style the cached row strips were drawn in
        self._role_styles: dict[str, Style] = {}
        self._base_style: Style | None = None  # the table's style during a render pass
        self.cursor = 0

    # -- content -------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.keys)

    def get_cell(self, key: str, column: str) -> str:
        """A cell's text."""
        index = next(i for i, c in enumerate(self.columns) if c.key == column)
        return cell_text(self._row_cells[key][index])

    def row_text(self, key: str) -> str:
        """A row as plain text, columns separated by two spaces (for tests and logs)."""
        return "  ".join(cell_text(cell) for cell in self._row_cells[key])

    def set_columns(self, columns: Sequence[TableColumn]) -> None:
        """New columns: the rows stay (and the cursor on its row) but show nothing until the next
        `set_rows` hands over cells for these columns."""
        self.columns = list(columns)
        self._strips.clear()
        self._header_strip = None
        self._row_cells = {}
        self._resize_virtual()
        self.refresh()

    def set_rows(self, rows: Sequence[tuple[str, Row]]) -> None:
        """Make the table show exactly `rows` (key, cells), in this order; the cursor stays on
        its row. Unchanged rows are not rendered again; only changed lines are repainted."""
        selected = self.cursor_key
        keys = [key for key, _ in rows]
        reordered = keys != self.keys
        changed: list[str] = []
        cells = {}
        for key, row in rows:
            cells[key] = row
            if self._row_cells.get(key) != row:
                self._strips.pop(key, None)
                changed.append(key)
        for gone in self._row_cells.keys() - cells.keys():
            self._strips.pop(gone, None)
        self._row_cells = cells
        if reordered:
            self.keys = keys
            self._index = {key: i for i, key in enumerate(keys)}
            self._resize_virtual()
            if selected in self._index:
                self.cursor = self._index[selected]
            self.cursor = max(0, min(self.cursor, len(keys) - 1))
            self.refresh()
        else:
            for key in changed:
                self._refresh_row(self._index[key])
        if self.cursor_key != selected:
            self.post_message(self.Highlighted(self, self.cursor_key))

    def _resize_virtual(self) -> None:
        width = sum(c.width + 2 * PADDING for c in self.columns)
        self.virtual_size = Size(width, len(self.keys) + 1)

    # -- the cursor ------------------------------------------------------------------------------

    @property
    def cursor_key(self) -> str | None:
        return self.keys[self.cursor] if 0 <= self.cursor < len(self.keys) else None

    def move_to(self, index: int) -> None:
        if not self.keys:
            return
        index = max(0, min(index, len(self.keys) - 1))
        if index != self.cursor:
            old, self.cursor = self.cursor, index
            self._refresh_row(old)
            self._refresh_row(index)
            self.post_message(self.Highlighted(self, self.cursor_key))
        self._scroll_to_cursor()

    def select(self, key: str) -> bool:
        if key not in self._index:
            return False
        self.move_to(self._index[key])
        return True

    def _scroll_to_cursor(self) -> None:
        visible = max(1, self.size.height - 1)
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False, immediate=True)

    def action_cursor(self, step: int) -> None:
        self.move_to(self.cursor + step)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor + direction * max(1, self.size.height - 2))

    def action_ends(self, last: int) -> None:
        self.move_to(len(self.keys) - 1 if last else 0)

    def action_choose(self) -> None:
        if self.cursor_key is not None:
            self.post_message(self.Chosen(self, self.cursor_key))

    async def _on_click(self, event: events.Click) -> None:
        if event.y < 1:
            return
        index = self.scroll_offset.y + event.y - 1
        if 0 <= index < len(self.keys):
            if index == self.cursor and event.chain > 1:
                self.action_choose()
            self.move_to(index)

    def on_focus(self) -> None:
        self._refresh_row(self.cursor)  # the cursor's colours differ with focus

    def on_blur(self) -> None:
        self._refresh_row(self.cursor)

    # -- drawing ---------------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._restyle())

    def _restyle(self) -> None:
        """Roles may map to other colours in another theme."""
        self._role_styles.clear()
        self._strips.clear()
        self._header_strip = None
        self.refresh()

    def on_resize(self) -> None:
        self._scroll_to_cursor()

    def _refresh_row(self, index: int) -> None:
        line = index - self.scroll_offset.y + 1
        if 1 <= line < self.size.height:
            self.refresh(Region(0, line, self.scrollable_content_region.width, 1))

    def role_style(self, role: str) -> Style:
        """A role's own style: the colour of component class `row-table--<role>` (only the colour:
        a full style would drop the alpha blending of e.g. $foreground-muted)."""
        base = role.removesuffix("-bold")
        color = self.get_component_rich_style(f"row-table--{base}").color
        return Style(color=color, bold=True if base != role else None)

    def _role_style(self, role: str) -> Style:
        style = self._role_styles.get(role)
        if style is None:
            style = self._role_styles[role] = self.role_style(role)
        return style

    def _render_cells(self, cells: Sequence[Cell], style: Style) -> Strip:
        """One line of cells in `style`, each span's role on top; runs of one style are one
        Segment (fewer for the compositor to cut and join)."""
        segments: list[Segment] = []
        run: list[str] = []  # text in `run_style` not yet made a Segment
        run_style = style

        def add(text: str, text_style: Style) -> None:
            nonlocal run_style
            if not text:
                return
            if text_style != run_style:
                if run:
                    segments.append(Segment("".join(run), run_style))
                    run.clear()
                run_style = text_style
            run.append(text)

        pad = " " * PADDING
        for column, cell in zip(self.columns, cells):
            spans = ((cell, None),) if isinstance(cell, str) else cell
            width = column.width
            used = sum(cell_len(text) for text, _ in spans)
            if used > width:  # cut with an ellipsis, in the style of the text it replaces
                spans, used = _cut(spans, width), width
            gap = " " * (width - used)
            add(pad, style)
            if column.right:
                add(gap, style)
            for text, role in spans:
                add(text, style + self._role_style(role) if role else style)
            if not column.right:
                add(gap, style)
            add(pad, style)
        if run:
            segments.append(Segment("".join(run), run_style))
        return Strip(segments, sum(c.width + 2 * PADDING for c in self.columns[: len(cells)]))

    def render_lines(self, crop: Region) -> list[Strip]:
        self._base_style = self.rich_style  # once per pass: it walks the DOM
        try:
            return super().render_lines(crop)
        finally:
            self._base_style = None

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self._base_style or self.rich_style
        if y == 0:
            header_style = base + self.get_component_rich_style("row-table--header", partial=self.PARTIAL_STYLES)
            if self._header_strip is None or self._header_strip[0] != header_style:
                labels = [c.label for c in self.columns]
                self._header_strip = (header_style, self._render_cells(labels, header_style))
            return self._header_strip[1].crop_extend(0, width, header_style)
        index = self.scroll_offset.y + y - 1
        if index >= len(self.keys):
            return Strip.blank(width, base)
        key = self.keys[index]
        if base != self._rows_style:
            self._strips.clear()
            self._rows_style = base
        strip = self._strips.get(key)
        if strip is None:
            cells = self._row_cells.get(key)
            if cells is None:
                return Strip.blank(width, base)  # new columns, cells not handed over yet
            strip = self._strips[key] = self._render_cells(cells, base)
        if index == self.cursor:
            cursor_style = self.get_component_rich_style("row-table--cursor", partial=self.PARTIAL_STYLES)
            strip = Strip(Segment.apply_style(strip, post_style=cursor_style), strip.cell_length)
            return strip.crop_extend(0, width, base + cursor_style)
        return strip.crop_extend(0, width, base)


def _cut(spans: Sequence[Span], width: int) -> tuple[Span, ...]:
    """Spans cut to `width` cells, the last ending in an ellipsis in the role of the text it
    replaces (as Rich's Text.truncate does)."""
    room = max(0, width - 1)
    out: list[Span] = []
    for n, (text, role) in enumerate(spans):
        size = cell_len(text)
        if size > room:
            out.append((set_cell_size(text, room) + "…", role))
            return tuple(out)
        out.append((text, role))
        room -= size
        if room == 0:
            after = next((r for t, r in spans[n + 1 :] if t), role)
            out.append(("…", after))
            return tuple(out)
    return tuple(out)


def fit(text: str, width: int) -> str:
    """Plain text cut to `width` cells with an ellipsis."""
    if cell_len(text) <= width:
        return text
    return text[: max(0, width - 1)] + "…"
