"""A compact list of the service probes for the dashboard: state, name, latency and what the
service serves (or its problem). Self-contained: it draws from the app's ProbesState when
mounted and whenever the app calls `show` (ProbesController.draw does, for any screen that
holds one). Problems first, so a small panel still shows what is wrong."""

from __future__ import annotations

from spark_tui.ui.markup import escape
from textual.app import ComposeResult
from textual.containers import Vertical

from spark_tui.core.services import text as text
from spark_tui.models.probes import ProbeState, ProbeStatus
from spark_tui.ui.services.state import ORDER, ProbesState
from spark_tui.ui.widgets.text import set_titles
from spark_tui.ui.widgets.text_lines import TextLines

MAX_NAME = 16
ROLE_VARIABLE = {"success": "$success", "warning": "$warning", "error": "$error", "dim": "$foreground-muted"}


def panel_line(status: ProbeStatus, name_width: int) -> str:
    role = ROLE_VARIABLE[text.STATE_ROLE[status.state]]
    name = status.name if len(status.name) <= name_width else status.name[: name_width - 1] + "…"
    result = status.result
    if result is not None and result.error and status.state is not ProbeState.UP:
        what = f"[{role}]{escape(result.error)}[/]"
    else:
        serves = (result.model or (f"v{result.version}" if result.version else "")) if result else ""
        what = f"[$foreground-muted]{escape(serves)}[/]" if serves else ""
    return f"[{role}]{text.STATE_MARK[status.state]}[/] {escape(name):<{name_width}} {text.coarse_latency(status.latency_ms):>6}  {what}".rstrip()


class ServicesPanel(Vertical):
    DEFAULT_CSS = """
    ServicesPanel {
        height: auto;
    }
    ServicesPanel > .services-rows {
        height: auto;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, state: ProbesState, *, id: str | None = "services-summary", classes: str = "panel") -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = "Services"
        self._state = state

    def compose(self) -> ComposeResult:
        yield TextLines(classes="services-rows")

    _ready = False
    _stale = False

    def on_mount(self) -> None:
        self._ready = True
        self._draw_latest()

    def on_show(self) -> None:
        if self._stale:
            self._draw_latest()

    def _draw_latest(self) -> None:
        self.show(self._state)

    def show(self, state: ProbesState) -> None:
        if not self._ready:
            return  # on_mount draws
        if not self.display:
            self._stale = True  # hidden by the layout: drawn when shown
            return
        self._stale = False
        set_titles(self, f"Services · {state.summary()}")
        statuses = sorted(state.statuses.values(), key=lambda s: (ORDER[s.state], s.name.lower()))
        if not statuses:
            body = "[$foreground-muted]No services probed yet. Press s for the Services screen.[/]"
        else:
            width = min(MAX_NAME, max(len(s.name) for s in statuses))
            body = "\n".join(panel_line(status, width) for status in statuses)
        self.query_one(".services-rows", TextLines).show(body)
