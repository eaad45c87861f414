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
from datetime import datetime
from typing import Any

from rich.cells import cell_len
from rich.highlighter import Highlighter
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
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

    def write_log_lines(self, lines: list[LogLine], scroll_end: bool | None = None) -> None:
        # One string per LogLine: line_text is never empty and the sanitiser leaves no character
        # str.splitlines() would break on, so _lines and _spans stay aligned.
        self._spans.extend(line.spans for line in lines)
        self.write_lines([line_text(line) for line in lines], scroll_end)
        extra = len(self._spans) - len(self._lines)
        if extra > 0:  # Log dropped its oldest lines (max_lines)
            del self._spans[:extra]

    def _update_size(self, updates: int, lines: list[str]) -> None:  # type: ignore[override]
        # Log measures each batch's widest line in a new worker thread: at 10,000 lines a second
        # that is 20 threads a second fighting the UI for the GIL. Clean text holds no control
        # character, so an ASCII line is as wide as it is long: measured here, in microseconds.
        if lines:
            widest = max(len(line) if line.isascii() else cell_len(line) for line in lines)
            self._update_maximum_width(updates, widest)

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


def line_text(line: LogLine) -> str:
    stamp = line.timestamp.astimezone().strftime("%H:%M:%S") if isinstance(line.timestamp, datetime) else "        "
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
        self.highlighter = LogHighlighter()
        self.query_text = ""
        self.ended: str | None = None
        self._stream: LogStream | None = None
        self._stopped = threading.Event()
        self._titles_due = False

    def compose(self) -> ComposeResult:
        yield StatusBar()
        yield ColourLog(self.highlighter, id="log-view", max_lines=KEEP_LINES)
        yield Input(placeholder="search the logs (case-insensitive); enter keeps it, esc clears", id="log-search")
        yield KeyBar()

    def on_mount(self) -> None:
        self._titles()
        # The line count in the subtitle changes with every batch: redrawn at most 4 times a
        # second (a border title repaints the whole panel), not 20 times under a fast log.
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
                self.post_message(LogLinesArrived(batch))
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
        self.buffer.extend(message.lines)
        lines = message.lines
        if self.highlighter.pattern is not None:
            lines = [line for line in lines if self.highlighter.pattern.search(line.text)]
        if lines:
            self.query_one(ColourLog).write_log_lines(list(lines))
        self._titles_due = True

    def _titles_if_due(self) -> None:
        if self._titles_due:
            self._titles()

    @on(LogsEnded)
    def _ended(self, message: LogsEnded) -> None:
        self.ended = message.reason or "the log stream ended"
        self._titles()

    def _titles(self) -> None:
        self._titles_due = False
        how = f"ended: {self.ended}" if self.ended else "following"
        # Border titles are markup: the name, the engine's reason and the query are escaped.
        title = f"Logs · {escape(self.container.name)} · {escape(how)}"
        count = len(self.buffer.lines)
        if self.highlighter.pattern is not None:
            matches = len(self.buffer.search(self.query_text))
            subtitle = f"{matches} of {count} lines match “{escape(clean(self.query_text))}”"
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
        self.highlighter.pattern = compile_query(query) if query else None
        log = self.query_one(ColourLog)
        log.clear()
        lines = [self.buffer.lines[i] for i in self.buffer.search(query)] if query else list(self.buffer.lines)
        log.write_log_lines(lines, scroll_end=True)
        self._titles()

    def action_close(self) -> None:
        if self.has_class("-searching"):
            self.remove_class("-searching")
            self.query_one(Input).value = ""
            self._filter("")
            self.query_one(Log).focus()
            return
        self._stop()
        self.dismiss()

    def action_bottom(self) -> None:
        self.query_one(Log).scroll_end(animate=False)

    def action_top(self) -> None:
        self.query_one(Log).scroll_home(animate=False)
