"""A fixed-scale area chart of recent history, drawn with block characters.

Cheaper than a plotext figure by two orders of magnitude (the dashboard redraws several each
second within a 1.5% CPU budget) and readable in any terminal font over SSH. An optional
`lower` series is drawn stacked inside the main one in a second colour (GPU process memory
inside used memory). A new sample that changes nothing visible costs no redraw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.content import Content
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from spark_tui.core.machine.history import Point, columns, grid_end
from spark_tui.ui.widgets.text import parse_markup

BARS = " ▁▂▃▄▅▆▇█"
GAP = "·"

Levels = tuple[int | None, ...]  # per column: fill in eighths of a cell, None for n/a


@dataclass(frozen=True)
class Picture:
    """Everything that decides what the chart looks like; equal pictures draw the same."""

    width: int
    height: int
    totals: Levels
    lowers: Levels | None
    first_column: int  # columns before it have no history yet (blank, not n/a)


class TrendChart(Widget):
    """Area chart over a fixed [lo, hi] scale; the newest value is at the right edge."""

    COMPONENT_CLASSES = {"trend-chart--lower", "trend-chart--gap", "trend-chart--title"}

    DEFAULT_CSS = """
    TrendChart {
        height: 1fr;
        min-height: 1;
        color: $accent;
    }
    TrendChart > .trend-chart--lower {
        color: $warning;
    }
    TrendChart > .trend-chart--gap {
        color: $foreground-muted;
    }
    TrendChart > .trend-chart--title {
        color: $foreground;
    }
    """

    TITLE_ROWS = 0

    def __init__(self, *, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._inputs: tuple | None = None
        self._picture: Picture | None = None
        self._strips: list[Strip] = []
        self._strips_for: Picture | None = None
        self._unpainted = Region(0, 0, 0, 0)  # where the pictures since _strips_for changed
        self._styles: CellStyles | None = None

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._forget_strips())

    def _forget_strips(self) -> None:
        self._strips_for = None
        self._styles = None
        self.refresh()

    @property
    def cell_styles(self) -> CellStyles:
        """The chart's colours, worked out once per theme (Textual works them out afresh from the
        ancestors on each call after a refresh, and the chart refreshes every second)."""
        if self._styles is None:
            main = self.rich_style
            lower = self.get_component_rich_style("trend-chart--lower")
            self._styles = CellStyles(
                main,
                lower,
                Style(bgcolor=main.bgcolor),
                Style(color=lower.color, bgcolor=main.color),
                Style(color=lower.color, bgcolor=main.bgcolor),
                self.get_component_rich_style("trend-chart--gap"),
            )
        return self._styles

    def plot(
        self,
        points: Sequence[Point],
        *,
        now: float,
        span: float,
        lo: float = 0.0,
        hi: float = 100.0,
        max_gap: float = 2.5,
        lower: Sequence[Point] | None = None,
    ) -> None:
        self._inputs = (points, lower, now, span, lo, max(hi, lo + 1e-9), max_gap)
        self._update_picture()

    def on_resize(self) -> None:
        self._update_picture()

    def _update_picture(self) -> None:
        width, height = self.size.width, self.size.height - self.TITLE_ROWS
        if self._inputs is None or width <= 0 or height <= 0:
            return
        points, lower, now, span, lo, hi, max_gap = self._inputs
        picture = Picture(
            width,
            height,
            levels(points, now, span, width, height, lo, hi, max_gap),
            levels(lower, now, span, width, height, lo, hi, max_gap) if lower is not None else None,
            first_column(points, now, span, width),
        )
        if picture != self._picture:
            changed = changed_region(self._picture, picture)
            if changed:
                self._unpainted = self._unpainted.union(changed) if self._unpainted else changed
                self.refresh(changed.translate((0, self.TITLE_ROWS)))
            self._picture = picture

    def render_line(self, y: int) -> Strip:
        y -= self.TITLE_ROWS
        if self._strips_for != self._picture or not self._strips:
            self._strips = self._redraw(self._strips_for, self._picture) if self._picture else []
            self._strips_for, self._unpainted = self._picture, Region(0, 0, 0, 0)
        return self._strips[y] if y < len(self._strips) else Strip.blank(self.size.width)

    def _redraw(self, old: Picture | None, new: Picture) -> list[Strip]:
        """The new picture's strips: only the rows that changed are drawn again, each from its
        first changed column on (between two grid steps, the newest column's top cells)."""
        if old is None or len(self._strips) != new.height:
            return self._draw(new)
        region = self._unpainted  # found by plot() already, as it asked for the repaint
        strips = list(self._strips)
        for y, tail in zip(region.line_range, self._draw(new, first=region.x, rows=region.line_range)):
            strips[y] = Strip.join([strips[y].crop(0, region.x), tail]) if region.x else tail
        return strips

    def _draw(self, picture: Picture, first: int = 0, rows: range | None = None) -> list[Strip]:
        """One strip per row (of `rows`, by default all) of the columns from `first` on; neighbouring
        cells of one style become one segment (built as runs here: far cheaper than a segment per
        cell simplified)."""
        styles = self.cell_styles
        background, gap = styles.background, styles.gap
        lowers = picture.lowers or (None,) * picture.width
        columns = list(zip(picture.totals, lowers))[first:]
        strips = []
        for row in range(picture.height) if rows is None else rows:
            floor = (picture.height - 1 - row) * 8  # eighths below this row
            bottom = row == picture.height - 1
            segments: list[Segment] = []
            run: list[str] = []
            run_style: Style | None = None
            for column, (total, low) in enumerate(columns, start=first):
                if total is None:
                    char, style = (GAP, gap) if bottom and column >= picture.first_column else (" ", background)
                else:
                    char, style = cell(total - floor, min(low or 0, total) - floor, styles)
                if style is not run_style:
                    if run:
                        segments.append(Segment("".join(run), run_style))
                    run, run_style = [], style
                run.append(char)
            if run:
                segments.append(Segment("".join(run), run_style))
            strips.append(Strip(segments, picture.width - first))
        return strips


def changed_region(old: Picture | None, new: Picture) -> Region:
    """Where `new` draws differently from `old` (empty if nowhere). Between two grid steps only
    the newest column changes, and in a column only the rows between its old and its new top, so
    a second's sample repaints a cell or two of a tall chart; at a grid step, the rows that the
    scrolling values pass through (an idle chart's bottom rows), not the whole chart."""
    if old is None or (old.width, old.height) != (new.width, new.height):
        return Region(0, 0, new.width, new.height)
    moved: list[tuple[int, range]] = []  # (column, rows counted from the bottom) drawn differently
    for x, (was, now) in enumerate(zip(drawn_columns(old), drawn_columns(new))):
        (total, lower, gap), (new_total, new_lower, new_gap) = was, now
        for rows in (changed_rows(total, new_total), changed_rows(lower, new_lower), range(int(gap != new_gap))):
            if rows:
                moved.append((x, rows))
    if not moved:
        return Region(0, 0, 0, 0)
    top = new.height - max(rows.stop for _, rows in moved)
    bottom = new.height - min(rows.start for _, rows in moved)
    return Region(moved[0][0], top, moved[-1][0] - moved[0][0] + 1, bottom - top)


def drawn_columns(picture: Picture) -> list[tuple[int | None, int | None, bool]]:
    """What decides each column's cells: its fill, its lower fill, and whether n/a there is a gap
    (after the history starts) or blank (before)."""
    lowers = picture.lowers or (None,) * picture.width
    return [
        (total, lower, total is None and x >= picture.first_column)
        for x, (total, lower) in enumerate(zip(picture.totals, lowers))
    ]


def changed_rows(old: int | None, new: int | None) -> range:
    """The rows, counted from the bottom, whose cell differs between a fill of `old` eighths and
    one of `new` (n/a draws nothing, or a gap mark on the bottom row)."""
    if old == new:
        return range(0)
    low, high = sorted((old or 0, new or 0))
    return range(low // 8, max(low, high - 1) // 8 + 1)


def levels(points: Sequence[Point], now: float, span: float, width: int, height: int, lo: float, hi: float, max_gap: float) -> Levels:
    """Each column's fill in eighths of a cell; a value above `lo` always shows at least 1/8."""
    scale = height * 8 / (hi - lo)
    out: list[int | None] = []
    for value in columns(points, now, span, width, max_gap):
        if value is None:
            out.append(None)
        else:
            eighths = round((min(max(value, lo), hi) - lo) * scale)
            out.append(max(eighths, 1) if value > lo else 0)
    return tuple(out)


def first_column(points: Sequence[Point], now: float, span: float, width: int) -> int:
    """The column of the oldest point in view: before it there is no history yet."""
    start = grid_end(now, span, width) - span
    for at, _ in points:
        if at >= start:
            return min(width - 1, int((at - start) / (span / width)))
    return width


@dataclass(frozen=True)
class CellStyles:
    main: Style
    lower: Style
    background: Style
    lower_edge_over_main: Style  # the lower series' top edge in a cell the main one fills
    lower_edge: Style  # ... in a cell where the main series ends too
    gap: Style  # the n/a mark


def cell(total: int, lower: int, styles: CellStyles) -> tuple[str, Style]:
    """One cell given the fills (in eighths above this cell's floor) of both series."""
    if total <= 0:
        return " ", styles.background
    if lower >= 8:
        return BARS[8], styles.lower
    if lower > 0:  # the lower series ends in this cell: its top edge over the main colour
        return BARS[lower], styles.lower_edge_over_main if total >= 8 else styles.lower_edge
    return BARS[min(total, 8)], styles.main


class MetricChart(TrendChart):
    """A TrendChart under a one-line title: "Power  118 W   peak 131 W"."""

    TITLE_ROWS = 1

    DEFAULT_CSS = """
    MetricChart {
        height: 1fr;
        min-height: 2;
    }
    """

    def __init__(self, title: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.title = title
        self._figures: tuple[str, str] | None = None  # value and note markup in the title, once shown
        self._title_strip: tuple[object, Strip] | None = None  # (figures and width, the title's strip)

    def _forget_strips(self) -> None:
        self._title_strip = None
        super()._forget_strips()

    def show(self, value_markup: str, points: Sequence[Point], *, note: str = "", **plot: object) -> None:
        if (value_markup, note) != self._figures:
            self._figures = (value_markup, note)
            self.refresh(Region(0, 0, self.size.width, 1))
        self.plot(points, **plot)  # type: ignore[arg-type]

    def render_line(self, y: int) -> Strip:
        return self._title_line() if y == 0 else super().render_line(y)

    def _title_line(self) -> Strip:
        """The title's strip, drawn only when its figures or the width changed; figures shown
        before (a value seen again) are not parsed again."""
        key = (self._figures, self.size.width)
        if self._title_strip is None or self._title_strip[0] != key:
            parts: list[str | Content | tuple[str, str]] = [(self.title, "bold")]
            if self._figures is not None:
                value, note = self._figures
                parts += ["  ", parse_markup(value)]
                if note:  # the note (a peak) only whole: cut, "peak 37" read as "p"
                    noted = parts + ["   ", parse_markup(note).stylize_before("dim")]
                    if Content.assemble(*noted).cell_length <= self.size.width:
                        parts = noted
            segments = Content.assemble(*parts).render_segments(self.get_visual_style("trend-chart--title"))
            self._title_strip = (key, Strip(segments).adjust_cell_length(self.size.width, self.cell_styles.main))
        return self._title_strip[1]
