"""Benchmark plots (plotext): throughput per second as a run streams, and latency against
throughput per batch size once cells finish (generation: time to first token against output
tokens per second, one line per input/output length).

A plotext figure costs 10–30 ms to build, so a plot rebuilds at most every `MIN_INTERVAL_S`
and only when its inputs changed; in between, a change only arms the next rebuild. The drawn
figure is kept: repainting the screen (a key, a modal closing) does not build it again.

plotext draws a legend inside the plot's top-left corner, over the data (#14: on the compare
screen it hid the first points of both runs); the latency plot draws its legend itself, on the
title's line or the lines below it, and plotext gets the rows under them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.color import Color as RichColour
from rich.style import Style
from rich.text import Text
from textual.color import Color
from textual_plotext import PlotextPlot

from spark_tui.models.bench import CellSummary, SecondPoint

RGB = tuple[int, int, int]


class BenchPlot(PlotextPlot):
    MIN_INTERVAL_S = 1.0

    DEFAULT_CSS = """
    BenchPlot {
        height: 1fr;
        min-height: 6;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None, live: bool = True) -> None:
        super().__init__(id=id, classes=classes)
        self.min_interval = self.MIN_INTERVAL_S if live else 0.0  # a saved run draws at once
        self._inputs: object = None
        self._drawn: object = None
        self._built_at = 0.0
        self._timer = None
        self._version = 0
        self._rendered: tuple[object, Text] | None = None

    def on_mount(self) -> None:
        super().on_mount()
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._rebuild(force=True))

    def colour(self, variable: str, fallback: RGB = (0, 170, 170)) -> RGB:
        value = self.app.theme_variables.get(variable)
        try:
            return Color.parse(value).rgb if value else fallback
        except Exception:  # noqa: BLE001 - an odd theme value: a fixed colour is fine
            return fallback

    @property
    def drawn_inputs(self) -> object:
        """The inputs of the figure as built (None before the first): the newest ones once a
        throttled rebuild has run."""
        return self._drawn

    def set_inputs(self, inputs: object) -> None:
        """New data; the figure is rebuilt now or at the next allowed moment."""
        if inputs == self._inputs:
            return
        self._inputs = inputs
        wait = self.min_interval - (time.monotonic() - self._built_at)
        if wait <= 0:
            self._rebuild()
        elif self._timer is None:
            self._timer = self.set_timer(wait, self._rebuild)

    def _rebuild(self, force: bool = False) -> None:
        self._timer = None
        if self._inputs == self._drawn and not force:
            return
        self._built_at = time.monotonic()
        self._drawn = self._inputs
        plt = self.plt
        plt.clear_figure()
        self.build(plt, self._inputs)
        self._version += 1
        self.refresh()

    def render(self) -> Text:
        key = (self._version, self.size, self.app.theme)
        if self._rendered is None or self._rendered[0] != key:
            self._rendered = (key, self._render_figure())
        return self._rendered[1]

    def _render_figure(self) -> Text:
        """The lines this plot draws itself (`top_lines`), then plotext's figure in the rows left
        (PlotextPlot.render, at the smaller height)."""
        width, height = self.size.width, self.size.height
        top = self.top_lines(width)[: max(0, height - MIN_FIGURE_ROWS)]
        plt = self.plt
        plt.plotsize(width, height - len(top))
        plt._set_size(width, height - len(top))  # as PlotextPlot.render: plotsize alone does not always take
        plt.theme(self._get_plotext_theme_name(self.app.theme))
        figure = Text.from_ansi(plt.build())
        if not top:
            return figure
        background = Style(color=rich_colour(self.colour("foreground", (220, 220, 220))),
                           bgcolor=rich_colour(self.colour("surface", (30, 30, 30))))  # the figure's own colours
        for line in top:
            line.align("center", width)
            line.stylize_before(background)
        return Text("\n").join([*top, figure])

    def top_lines(self, width: int) -> list[Text]:
        """Lines above plotext's figure (a title and legend drawn by the plot itself)."""
        return []

    def build(self, plt, inputs: object) -> None:  # type: ignore[no-untyped-def]
        raise NotImplementedError


MIN_FIGURE_ROWS = 4  # plotext's rows a plot keeps under its own lines: axes, ticks and a little canvas
LEGEND_SWATCH = "━━ "
LEGEND_GAP = "   "


def rich_colour(rgb: RGB) -> RichColour:
    return RichColour.from_rgb(*rgb)


def flow(items: Sequence[tuple[str, Text]], width: int) -> list[Text]:
    """`items` (separator, text) laid in lines of `width` cells: an item that does not fit on the
    line goes to the next one (without its separator); one wider than a line is cut."""
    lines: list[Text] = []
    for separator, item in items:
        if lines and lines[-1].cell_len + len(separator) + item.cell_len <= width:
            lines[-1].append(separator)
            lines[-1].append_text(item)
            continue
        line = item.copy()
        line.truncate(width, overflow="ellipsis")
        lines.append(line)
    return lines


@dataclass(frozen=True)
class ThroughputInputs:
    unit: str
    points: tuple[SecondPoint, ...]
    open_t: float | None  # the second still open: its end time and the items so far
    open_items: int
    cell_starts: tuple[tuple[float, str], ...]  # (t, label) where each cell began


class ThroughputPlot(BenchPlot):
    """Items per second, one point per closed second; the open second grows as requests finish."""

    def show(self, unit: str, points: Sequence[SecondPoint], *, open_t: float | None = None, open_items: int = 0) -> None:
        starts: list[tuple[float, str]] = []
        last_cell: int | None = None
        for point in points:
            if point.cell is not None and point.cell != last_cell:
                starts.append((point.t - 1, f"#{point.cell + 1}"))
            last_cell = point.cell
        self.set_inputs(ThroughputInputs(unit, tuple(points), open_t, open_items, tuple(starts)))

    def build(self, plt, inputs: ThroughputInputs) -> None:  # type: ignore[no-untyped-def,override]
        plt.title(f"{inputs.unit}/s, 1 s buckets")
        plt.xlabel("seconds into the run")
        if not inputs.points and not inputs.open_items:
            plt.xlim(0, 10)
            plt.ylim(0, 1)
            return
        accent = self.colour("accent")
        muted = self.colour("foreground-muted", (128, 128, 128))
        measured = [p for p in inputs.points if p.cell is not None]
        xs = [p.t for p in measured]
        ys = [p.items_per_s for p in measured]
        if xs:
            plt.plot(xs, ys, marker="braille", color=accent)
        errors = [(p.t, p.items_per_s) for p in measured if p.errors]
        if errors:
            plt.scatter([t for t, _ in errors], [v for _, v in errors], marker="x", color=self.colour("error", (220, 60, 60)))
        if inputs.open_t is not None and inputs.open_items:
            # the second still open: it grows as requests finish
            plt.scatter([inputs.open_t], [inputs.open_items], marker="●", color=self.colour("foreground", (220, 220, 220)))
        top = max(ys + [float(inputs.open_items), 1.0])
        for t, label in inputs.cell_starts:
            plt.vline(t, color=muted)
            plt.text(label, t, top * 1.1, color=muted, background=self.colour("surface", (30, 30, 30)), alignment="left")
        plt.ylim(0, top * 1.15)


@dataclass(frozen=True)
class Series:
    label: str
    summaries: tuple[CellSummary, ...]
    colour_variable: str


@dataclass(frozen=True)
class LatencyInputs:
    unit: str
    series: tuple[Series, ...]


def cell_latency(summary: CellSummary):  # type: ignore[no-untyped-def]
    """The latency a cell is plotted by: TTFT for generation (its e2e is mostly the output length), else per request."""
    return summary.ttft if summary.spec.input_tokens is not None else summary.latency


def is_generation(series: Sequence[Series]) -> bool:
    return any(s.spec.input_tokens is not None for one in series for s in one.summaries)


BATCH_COLOURS = ("accent", "primary-lighten-1", "success", "error", "foreground")  # distinct in the built-in themes


class LatencyThroughputPlot(BenchPlot):
    """p50 latency (line) and p99 (points) against items/s: one line per batch size, concurrency
    rising along it; the knee is where more concurrency buys latency, not throughput."""

    def show(self, unit: str, summaries: Sequence[CellSummary], *, prefix: str = "", colour_offset: int = 0) -> None:
        self.set_inputs(LatencyInputs(unit, tuple(batch_series(summaries, prefix, colour_offset))))

    def show_series(self, unit: str, series: Sequence[Series]) -> None:
        self.set_inputs(LatencyInputs(unit, tuple(series)))

    def __init__(self, *, id: str | None = None, classes: str | None = None, live: bool = True) -> None:
        super().__init__(id=id, classes=classes, live=live)
        self.title = ""
        self.legend: list[tuple[RGB, list[str]]] = []  # one entry per colour: its series' labels

    def build(self, plt, inputs: LatencyInputs) -> None:  # type: ignore[no-untyped-def,override]
        # the title and legend are top_lines, outside the plot's area
        self.title = "TTFT vs throughput (p50 line, p99 ×)" if is_generation(inputs.series) else "latency vs throughput (p50 line, p99 ×)"
        plt.xlabel(f"{inputs.unit}/s")
        plt.ylabel("ms")
        legend: dict[RGB, list[str]] = {}
        top_x = top_y = 0.0
        for series in inputs.series:
            points = [(s.items_per_s, lat.p50 * 1000, lat.p99 * 1000) for s in series.summaries
                      if s.items_per_s is not None and (lat := cell_latency(s)) is not None]
            if not points:
                continue
            colour = self.colour(series.colour_variable)
            legend.setdefault(colour, []).append(series.label)
            points.sort()
            xs = [x for x, _, _ in points]
            plt.plot(xs, [p50 for _, p50, _ in points], marker="braille", color=colour)
            plt.scatter(xs, [p99 for _, _, p99 in points], marker="x", color=colour)
            top_x = max(top_x, xs[-1])
            top_y = max(top_y, max(p99 for _, _, p99 in points))
        self.legend = list(legend.items())
        # from zero: a point's distance from the axes is the figure, not an artefact of the range
        plt.xlim(0, top_x * 1.1 or 1)
        plt.ylim(0, top_y * 1.15 or 1)

    def top_lines(self, width: int) -> list[Text]:
        """The title and the legend (a swatch of each colour, then the series drawn in it) on one
        line when they fit. Narrower, the legend alone, on as many lines as it takes: plotext
        left the title out of a narrow plot too (the axes say what is plotted), and a plot beside
        another keeps its frame level with the other's."""
        if width <= 0:
            return []
        items: list[tuple[str, Text]] = []
        for colour, labels in self.legend:
            for n, label in enumerate(labels):
                item = Text(label)
                if n == 0:
                    item = Text.assemble((LEGEND_SWATCH, Style(color=rich_colour(colour), bold=True)), item)
                items.append((", " if n else LEGEND_GAP, item))
        title = [("", Text(self.title))] if self.title and cell_len(self.title) <= width else []
        one_line = flow(title + items, width)
        return one_line if len(one_line) <= 1 else flow(items, width)


def batch_series(summaries: Sequence[CellSummary], prefix: str = "", colour_offset: int = 0) -> list[Series]:
    """One series per (payload, batch size), or per (input, output) length for generation; cells in concurrency order."""
    groups: dict[tuple[str, int, int | None, int | None], list[CellSummary]] = {}
    for summary in summaries:
        spec = summary.spec
        groups.setdefault((spec.payload, spec.batch, spec.input_tokens, spec.output_tokens), []).append(summary)
    payloads = {payload for payload, _, _, _ in groups}
    series = []
    for i, ((payload, batch, input_tokens, output_tokens), cells) in enumerate(groups.items()):
        if input_tokens is not None:
            name = f"in {input_tokens} out {output_tokens}"
        else:
            name = f"{payload} b={batch}" if len(payloads) > 1 else f"batch {batch}"
        cells.sort(key=lambda s: s.spec.concurrency)
        series.append(Series(f"{prefix}{name}", tuple(cells), BATCH_COLOURS[(i + colour_offset) % len(BATCH_COLOURS)]))
    return series


