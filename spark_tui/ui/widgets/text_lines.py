"""Live text whose unchanged lines cost nothing.

A Static draws all its lines again whenever any of them changes, and a panel of figures
changes one or two of its lines each second. TextLines keeps the rendered strips of each line
and repaints only the rows of the lines that changed; a layout pass happens only when the
number of rows changes. Text styles (wrap, overflow, alignment) apply line by line as in a
Static.
"""

from __future__ import annotations

from textual.content import Content
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.visual import Visual
from textual.widget import Widget

from spark_tui.ui.widgets.text import NEWLINE, markup_lines


class TextLines(Widget):
    DEFAULT_CSS = """
    TextLines {
        height: auto;
    }
    """

    def __init__(self, markup: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.set_reactive(TextLines.auto_links, False)  # no links in our text: skip styling them per line
        self._markup = markup
        self._lines: list[Content] = markup_lines(markup)
        self._drawn: list[list[Strip]] | None = None  # per line, its rows at _drawn_width
        self._drawn_width = -1
        self._rows: list[Strip] = []

    def show(self, markup: str) -> None:
        """Show `markup`; only the rows of lines that differ from the shown ones repaint."""
        if markup == self._markup:
            return
        old_lines = self._lines
        self._markup, self._lines = markup, markup_lines(markup)
        drawn = self._drawn
        width_rule = self.styles.width
        if drawn is None or len(old_lines) != len(self._lines) or (width_rule is not None and width_rule.is_auto):
            self._forget()
            return
        width = self._drawn_width
        row = 0
        dirty: list[Region] = []
        for index, line in enumerate(self._lines):
            rows = len(drawn[index])
            if not line.is_same(old_lines[index]):
                strips = self._draw_line(line, width)
                if len(strips) != rows:
                    self._forget()
                    return
                drawn[index] = strips
                dirty.append(Region(0, row, width, rows))
            row += rows
        if dirty:
            self._rows = [strip for strips in drawn for strip in strips]
            self.refresh(*dirty)

    def _forget(self) -> None:
        self._drawn = None
        self.refresh(layout=True)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._drawn = None  # a theme or class change: colours differ

    def _draw_line(self, line: Content, width: int) -> list[Strip]:
        return Visual.to_strips(self, line, width, None, self.visual_style) or [Strip.blank(width)]

    def _draw_all(self, width: int) -> list[Strip]:
        if self._drawn is None or width != self._drawn_width:
            self._drawn = [self._draw_line(line, width) for line in self._lines]
            self._drawn_width = width
            self._rows = [strip for strips in self._drawn for strip in strips]
        return self._rows

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return max((line.cell_length for line in self._lines), default=0)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._draw_all(width)) if self._lines else 0

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        rows = self._draw_all(width)
        return rows[y] if y < len(rows) else Strip.blank(width, self.visual_style.rich_style)

    def render(self) -> Content:
        """The whole text (what a text selection copies and what tests read)."""
        return NEWLINE.join(self._lines)
