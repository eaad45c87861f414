"""A container's logs: the last N lines, then new ones as they come; `/` filters to matching lines.

The follower runs in a daemon thread that posts LogLinesArrived to this screen; closing the
screen stops it (the engine connection is closed, the thread ends).

What a container logs arrives sanitised (core.docker.logs: secrets masked, then
core.untrusted.log_line): plain text with no control character, and its SGR colour as spans.
The view paints those spans with its own styles (ui.widgets.ansi); no byte of the log is
written to the terminal as it came, and nothing of it is read as markup.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from datetime import datetime
from itertools import islice
from typing import Any

from rich.cells import cell_len
from rich.highlighter import Highlighter
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.geometry import Size
from textual.widgets import Input, Log

from spark_tui.ui.messages import LogLinesArrived, LogsEnded
from spark_tui.models.containers import Container, LogLine
from spark_tui.ui.screens.detail import DetailScreen
from spark_tui.ui.session import Session
from spark_tui.core.docker.backend import ContainerBackend, LogStream
from spark_tui.core.docker.errors import ContainerActionError, DockerUnavailable
from spark_tui.core.docker.log_buffer import LogBuffer, compile_query
from spark_tui.core.untrusted import clean
from spark_tui.ui.markup import escape
from spark_tui.ui.widgets.ansi import stylize
from spark_tui.ui.widgets.key_bar import KeyBar
from spark_tui.ui.widgets.status_bar import StatusBar
from spark_tui.ui.widgets.text import set_titles

KEEP_LINES = 10_000
STAMP_WIDTH = 9  # "HH:MM:SS "
TITLES_EVERY_S = 0.25
FLOOD_LINES = 500  # a batch this big (~5,000 lines a second or more) is a flood …
FLOOD_EVERY_S = 0.25  # … drawn at most this often


class LogHighlighter(Highlighter):
    """Paints the line's own colour, dims the time stamp and marks what the search matched."""

    def __init__(self) -> None:
        self.pattern: re.Pattern[str] | None = None
        self.spans: tuple[tuple[int, int, Any], ...] = ()  # the colour of the line being drawn

    def highlight(self, text: Text) -> None:
        if self.spans:
            stylize(text, self.spans, STAMP_WIDTH)
        if text.plain[:2].isdigit():
            text.stylize("dim", 0, STAMP_WIDTH - 1)
        if self.pattern is not None:
            for match in self.pattern.finditer(text.plain, STAMP_WIDTH):
                if match.end() > match.start():
                    text.stylize("reverse", match.start(), match.end())


class ColourLog(Log):
    """Textual's Log (fast: plain strings, only visible lines drawn) with each line's colour
    spans kept alongside and handed to the highlighter as the line is drawn."""

    def __init__(self, highlighter: LogHighlighter, **kwargs: Any) -> None:
        super().__init__(highlight=True, **kwargs)
        self.highlighter = highlighter
        self._colour_of = highlighter
        self._spans: list[tuple[tuple[int, int, Any], ...]] = []

    def write_texts(self, texts: list[str], spans: list[tuple[tuple[int, int, Any], ...]]) -> None:
        """Append lines (one string each, as line_text makes them) and their colour.

        Log.write_lines, minus what these lines do not need: clean text holds no character
        str.splitlines() breaks on, so no split per line, and _lines and _spans stay aligned.
        """
        follow = self.auto_scroll and not self.is_vertical_scrollbar_grabbed and self.is_vertical_scroll_end
        self._lines.extend(texts)
        self._spans.extend(spans)
        if self.max_lines is not None and len(self._lines) > self.max_lines:
            self._prune_max_lines()
            del self._spans[: len(self._spans) - len(self._lines)]
        self.virtual_size = Size(self._width, len(self._lines))
        self._update_size(self._updates, texts)
        if follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()

    def show_texts(self, texts: list[str], spans: list[tuple[tuple[int, int, Any], ...]]) -> None:
        """Replace every line at once (a search typed or cleared) and follow the end: one list
        handed over, no line written one by one."""
        if self.max_lines is not None and len(texts) > self.max_lines:
            texts, spans = texts[-self.max_lines :], spans[-self.max_lines :]
        self._lines = texts
        self._spans = spans
        self._render_line_cache.clear()
        self._updates += 1  # a width measured for the old lines is not applied to these
        self._clear_y = 0
        self._width = widest(texts)
        self.virtual_size = Size(self._width, len(texts))
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()

    def _update_size(self, updates: int, lines: list[str]) -> None:  # type: ignore[override]
        # Log measures each batch's widest line in a new worker thread: at 10,000 lines a second
        # that is 20 threads a second fighting the UI for the GIL. Measured here instead.
        if lines:
            self._update_maximum_width(updates, widest(lines))

    def clear(self) -> ColourLog:
        self._spans.clear()
        super().clear()
        return self

    def _render_line_strip(self, y: int, rich_style: Any) -> Any:
        self._colour_of.spans = self._spans[y] if y < len(self._spans) else ()
        try:
            return super()._render_line_strip(y, rich_style)
        finally:
            self._colour_of.spans = ()


def widest(lines: list[str]) -> int:
    """Cells of the widest line. Clean text holds no control character, so an ASCII line is as
    wide as it is long: 10,000 lines measured in well under a millisecond."""
    if not lines:
        return 0
    if all(map(str.isascii, lines)):
        return max(map(len, lines))
    return max(len(line) if line.isascii() else cell_len(line) for line in lines)


_STAMPS: dict[int, str] = {}  # whole second -> "HH:MM:SS" local: a busy log shares a few


def line_text(line: LogLine) -> str:
    moment = line.timestamp
    if not isinstance(moment, datetime):
        return f"         {line.text}"
    second = int(moment.timestamp() // 1)
    stamp = _STAMPS.get(second)
    if stamp is None:
        stamp = moment.astimezone().strftime("%H:%M:%S")
        if len(_STAMPS) >= 4096:
            _STAMPS.clear()
        _STAMPS[second] = stamp
    return f"{stamp} {line.text}"


class LogsScreen(DetailScreen):
    BINDINGS = [
        Binding("escape,q", "close", "Close", id="logs.close"),
        Binding("slash", "search", "Search", key_display="/", id="logs.search"),
        Binding("end,G", "bottom", "Follow end", id="logs.end"),
        Binding("home,g", "top", "Top", show=False, id="logs.top"),
    ]

    DEFAULT_CSS = """
    LogsScreen > #log-view {
        height: 1fr;
        border: round $primary 60%;
        border-title-color: $text-accent;
        border-title-style: bold;
        border-subtitle-color: $foreground-muted;
        scrollbar-size-vertical: 1;
    }
    LogsScreen > #log-search {
        dock: bottom;
        display: none;
        margin-bottom: 1;
    }
    LogsScreen.-searching > #log-search {
        display: block;
    }
    """

    def __init__(self, session: Session, container: Container, backend: ContainerBackend, tail: int) -> None:
        super().__init__(session)
        self.container = container
        self.backend = backend
        self.tail = tail
        self.buffer = LogBuffer(KEEP_LINES)
        # Each kept line as drawn ("HH:MM:SS text"), in step with buffer.lines: a search typed
        # or cleared hands these to the view again instead of formatting 10,000 lines.
        self._texts: deque[str] = deque(maxlen=KEEP_LINES)
        self.highlighter = LogHighlighter()
        self.query_text = ""
        self._matches = 0  # kept lines the search matches, counted as lines come and go
        self.ended: str | None = None
        self._stream: LogStream | None = None
        self._stopped = threading.Event()
        # Set when a batch is on screen: the follower posts the next only then, so a log
        # faster than the screen waits in the follower (bounded, newest kept), not in the
        # message queue, and a key press never queues behind a backlog of batches.
        self._drawn = threading.Event()
        self._titles_due = False
        self._titles_at = 0.0

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield ColourLog(self.highlighter, id="log-view", max_lines=KEEP_LINES)
        yield Input(placeholder="search the logs (case-insensitive); enter keeps it, esc clears", id="log-search")
        yield KeyBar()

    def on_mount(self) -> None:
        self._titles()
        # The line count in the subtitle changes with every batch: redrawn at most 4 times a
        # second (a border title repaints the whole panel), not 10 times under a fast log.
        self.set_interval(TITLES_EVERY_S, self._titles_if_due)
        threading.Thread(target=self._follow, name=f"logs-{self.container.short_id}", daemon=True).start()

    def on_unmount(self) -> None:
        self._stop()

    def _stop(self) -> None:
        self._stopped.set()
        if self._stream is not None:
            self._stream.stop()

    # -- the follower thread --------------------------------------------------------------------

    def _follow(self) -> None:
        reason: str | None = None
        try:
            stream = self.backend.follow_logs(self.container.id, self.tail)
            self._stream = stream
            if self._stopped.is_set():
                stream.stop()
                return
            for batch in stream.batches():
                if self._stopped.is_set():
                    return
                self._drawn.clear()
                posted = time.monotonic()
                self.post_message(LogLinesArrived(batch))
                while not self._drawn.wait(0.5):
                    if self._stopped.is_set():
                        return
                # A flood: each frame costs the UI ~20 ms of CPU whatever the lines, so it is drawn
                # 4 times a second, not 10; what comes meanwhile waits in the stream (bounded).
                if len(batch) >= FLOOD_LINES and self._stopped.wait(max(0.0, posted + FLOOD_EVERY_S - time.monotonic())):
                    return
            reason = stream.error or "the container stopped"
        except (ContainerActionError, DockerUnavailable) as exc:
            reason = clean(str(exc))
        except Exception as exc:  # never a traceback: say what happened
            reason = clean(f"the log stream failed: {exc}")
        if not self._stopped.is_set():
            self.post_message(LogsEnded(reason))

    # -- lines arrive -----------------------------------------------------------------------------

    @on(LogLinesArrived)
    def _lines_arrived(self, message: LogLinesArrived) -> None:
        try:
            self._add(message.lines)
        finally:
            # The next batch once this one is on screen: one frame of lines in flight at most,
            # and a key pressed meanwhile is handled before the next batch, not after it.
            self.call_after_refresh(self._drawn.set)

    def _add(self, lines: list[LogLine]) -> None:
        if len(lines) > KEEP_LINES:
            lines = lines[-KEEP_LINES:]
        texts = [line_text(line) for line in lines]
        pattern = self.highlighter.pattern
        if pattern is not None:
            # The lines about to leave the ring leave the match count too.
            leaving = len(self.buffer.lines) + len(lines) - KEEP_LINES
            if leaving > 0:
                self._matches -= sum(1 for line in islice(self.buffer.lines, leaving) if pattern.search(line.text))
        self.buffer.extend(lines)
        self._texts.extend(texts)
        if pattern is not None:
            keep = [index for index, line in enumerate(lines) if pattern.search(line.text)]
            self._matches += len(keep)
            texts = [texts[index] for index in keep]
            spans = [lines[index].spans for index in keep]
        else:
            spans = [line.spans for line in lines]
        if texts:
            self.query_one(ColourLog).write_texts(texts, spans)
        self._titles_due = True
        if time.monotonic() - self._titles_at >= TITLES_EVERY_S:
            self._titles()  # drawn in the same frame as the lines, not a frame of its own

    def _titles_if_due(self) -> None:
        if self._titles_due and time.monotonic() - self._titles_at >= TITLES_EVERY_S:
            self._titles()

    @on(LogsEnded)
    def _ended(self, message: LogsEnded) -> None:
        self.ended = message.reason or "the log stream ended"
        self._titles()

    def _titles(self) -> None:
        self._titles_due = False
        self._titles_at = time.monotonic()
        how = f"ended: {self.ended}" if self.ended else "following"
        # Border titles are markup: the name, the engine's reason and the query are escaped.
        title = f"Logs · {escape(self.container.name)} · {escape(how)}"
        count = len(self.buffer.lines)
        if self.highlighter.pattern is not None:
            subtitle = f"{self._matches} of {count} lines match “{escape(clean(self.query_text))}”"
        elif count == 0:
            subtitle = "no output yet · secrets masked"
        else:
            subtitle = f"{count} lines (last {self.tail} at open) · secrets masked"
        set_titles(self.query_one(Log), title, subtitle)

    # -- search --------------------------------------------------------------------------------

    def action_search(self) -> None:
        self.add_class("-searching")
        self.query_one(Input).focus()

    @on(Input.Changed, "#log-search")
    def _query_changed(self, event: Input.Changed) -> None:
        self._filter(event.value)

    @on(Input.Submitted, "#log-search")
    def _query_kept(self, event: Input.Submitted) -> None:
        self.query_one(Log).focus()

    def _filter(self, query: str) -> None:
        self.query_text = query
        pattern = compile_query(query) if query else None
        self.highlighter.pattern = pattern
        if pattern is None:
            texts, spans = list(self._texts), [line.spans for line in self.buffer.lines]
        else:
            texts, spans = [], []
            for text, line in zip(self._texts, self.buffer.lines):
                if pattern.search(line.text):
                    texts.append(text)
                    spans.append(line.spans)
            self._matches = len(texts)
        self.query_one(ColourLog).show_texts(texts, spans)
        self._titles()

    def action_close(self) -> None:
        if self.has_class("-searching"):
            self.remove_class("-searching")
            input_ = self.query_one(Input)
            with input_.prevent(Input.Changed):
                input_.value = ""  # cleared below, once, not again by the Changed handler
            self._filter("")
            self.query_one(Log).focus()
            return
        self._stop()
        self.dismiss()

    def action_bottom(self) -> None:
        self.query_one(Log).scroll_end(animate=False)

    def action_top(self) -> None:
        self.query_one(Log).scroll_home(animate=False)
