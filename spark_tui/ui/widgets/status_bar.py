"""The top line: what machine, what mode (DEMO, PAUSED), when the last sample was taken."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive

from spark_tui.core import format as fmt
from spark_tui.ui.widgets.text_lines import TextLines


class StatusBar(Horizontal):
    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        dock: top;
        background: $panel;
    }
    StatusBar > #status-left {
        width: 1fr;
        height: 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    StatusBar > #status-right {
        width: 33;
        text-align: right;
        height: 1;
        color: $foreground-muted;
        padding-right: 1;
    }
    """

    # The bar itself draws only its background: its texts repaint themselves (repaint=False
    # spares the whole bar's line a repaint each second, when sampled_at changes).
    hostname: reactive[str] = reactive("", repaint=False)
    demo: reactive[bool] = reactive(False, repaint=False)
    paused: reactive[bool] = reactive(False, repaint=False)
    problem: reactive[str] = reactive("", repaint=False)
    sampled_at: reactive[float | None] = reactive(None, repaint=False)
    interval: reactive[float] = reactive(1.0, repaint=False)

    def compose(self) -> ComposeResult:
        self._left = TextLines(id="status-left")
        self._right = TextLines(id="status-right")
        yield self._left
        yield self._right

    def on_mount(self) -> None:
        self._refresh_left()
        self._refresh_right()

    def _refresh_left(self) -> None:
        text = f" [b]spark-tui[/b]  {self.hostname}"
        if self.paused:
            text += "  [reverse $accent] PAUSED [/]"
        if self.demo:
            text += "  [reverse $warning] DEMO [/]"
        if self.problem:
            text += f"  [$error]{self.problem}[/]"
        self._left.show(text)

    def _refresh_right(self) -> None:
        when = time.strftime("%H:%M:%S", time.localtime(self.sampled_at)) if self.sampled_at else fmt.NA
        self._right.show(f"sampled {when} · every {self.interval:g} s")

    def watch_hostname(self) -> None:
        if self.is_mounted:
            self._refresh_left()

    watch_demo = watch_paused = watch_problem = watch_hostname

    def watch_sampled_at(self) -> None:
        if self.is_mounted:
            self._refresh_right()

    watch_interval = watch_sampled_at
