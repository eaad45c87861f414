"""A keyed table that redraws only the rows that changed: one line per row, a fixed header.

Textual's DataTable re-renders every visible cell whenever any cell changes (its render
caches are keyed by a table-wide update counter); with 200 containers whose CPU figures move
every couple of seconds that is most of the app's idle CPU, and the cost of every return to
the screen. Here each row is rendered once into a Strip when its cells change, and a change
repaints that row's line only.

Cells are Rich markup strings, already fitted to their column by the caller (see `fit`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

PADDING = 1  # cells each side of a column, like DataTable's default


@dataclass(frozen=True)
class TableColumn:
    key: str
    label: str
    width: int
    right: bool = False


class RowTable(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {"row-table--header", "row-table--cursor"}

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
    }
    """

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
        """The cursor moved to another row (or the row under it changed key)."""

        def __init__(self, table: RowTable, key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> RowTable:
            return self.table

    class Chosen(Message):
        """Enter, or a click on the row under the cursor."""

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
        self._row_cells: dict[str, tuple[str, ...]] = {}
        self._strips: dict[str, Strip] = {}
        self._header_strip: tuple[Style, Strip] | None = None
        self._rows_style: Style | None = None  # the style the cached row strips were drawn in
        self.cursor = 0

    # -- content -------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.keys)

    def get_cell(self, key: str, column: str) -> str:
        index = next(i for i, c in enumerate(self.columns) if c.key == column)
        return self._row_cells[key][index]

    def set_columns(self, columns: Sequence[TableColumn]) -> None:
        self.columns = list(columns)
        self._strips.clear()
        self._header_strip = None
        self._row_cells = {}
        self.keys, self._index = [], {}
        self._resize_virtual()
        self.refresh()

    def set_rows(self, rows: Sequence[tuple[str, tuple[str, ...]]]) -> None:
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
        for gone in set(self._row_cells) - set(cells):
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
        self._refresh_row(self.cursor)

    def on_blur(self) -> None:
        self._refresh_row(self.cursor)

    # -- drawing ---------------------------------------------------------------------------------

    def on_resize(self) -> None:
        self._scroll_to_cursor()

    def _refresh_row(self, index: int) -> None:
        line = index - self.scroll_offset.y + 1
        if 1 <= line < self.size.height:
            self.refresh(Region(0, line, self.scrollable_content_region.width, 1))


    def _render_cells(self, cells: Sequence[str], style: Style) -> Strip:
        line = Text(no_wrap=True, end="")
        pad = " " * PADDING
        for column, markup in zip(self.columns, cells):
            text = Text.from_markup(markup, end="") if "[" in markup else Text(markup, end="")
            text.truncate(column.width, overflow="ellipsis")
            gap = " " * (column.width - text.cell_len)
            line.append(pad)
            if column.right:
                line.append(gap)
                line.append_text(text)
            else:
                line.append_text(text)
                line.append(gap)
            line.append(pad)
        segments = Segment.apply_style(line.render(self.app.console), style=style)  # under the cells' own colours
        return Strip(list(segments), line.cell_len)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            header_style = base + self.get_component_rich_style("row-table--header")
            if self._header_strip is None or self._header_strip[0] != header_style:
                labels = [c.label.rjust(c.width) if c.right else c.label for c in self.columns]
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
            strip = self._strips[key] = self._render_cells(self._row_cells[key], base)
        if index == self.cursor:
            cursor_style = self.get_component_rich_style("row-table--cursor")
            strip = Strip(Segment.apply_style(strip, post_style=cursor_style), strip.cell_length)
            return strip.crop_extend(0, width, base + cursor_style)
        return strip.crop_extend(0, width, base)


def fit(text: str, width: int) -> str:
    """Plain text cut to `width` cells with an ellipsis."""
    if cell_len(text) <= width:
        return text
    return text[: max(0, width - 1)] + "…"
