"""Everything about one probe (enter on the Services screen): where it points (password masked),
what its preset checks, its latency over the kept history, what the service reports (Ollama's
loaded models and their memory, TEI's limits, OmniParser's device…) and its recent errors.
Live: it redraws as checks arrive; `r` checks now, esc closes."""

from __future__ import annotations

import re
import textwrap
import time
from datetime import datetime
from typing import TYPE_CHECKING

from spark_tui.ui.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen

from spark_tui.ui.changes import Changed
from spark_tui.ui.session import Session
from textual.widgets import Static

from spark_tui.core.services import text as text
from spark_tui.models.probes import ProbeState
from spark_tui.ui.services.state import ProbesState
from spark_tui.core.services.presets import PRESETS
from spark_tui.ui.widgets.text import set_titles, update_text

if TYPE_CHECKING:
    from spark_tui.ui.services.controller import ProbesController

LABEL = 12
BOX_WIDTH = 100
SPARK_WIDTH = 60
SHOWN_IN_SERVES = ("loaded_gpu_bytes", "device")
ROLE_VARIABLE = {"success": "$success", "warning": "$warning", "error": "$error", "dim": "$foreground-muted"}


def row(label: str, value: str) -> str:
    return f"[b]{label:<{LABEL}}[/b]{value}"


def clock_time(at: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at))


def expires_text(value: str) -> str:
    """Ollama's expires_at ("2025-10-22T12:05:00.123456789Z") as a local clock time."""
    trimmed = re.sub(r"(\.\d{6})\d+", r"\1", value)
    try:
        return clock_time(datetime.fromisoformat(trimmed).timestamp())
    except ValueError:
        return value


def wrapped(first: str, width: int, indent: int) -> list[str]:
    """Plain text wrapped to `width`, continuation lines indented; escaped for markup."""
    lines = textwrap.wrap(first, width, subsequent_indent=" " * indent, drop_whitespace=True) or [""]
    return [escape(line) for line in lines]


class ProbeDetailScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q", "close", "Close", id="probe_detail.close"),
        Binding("r", "check", "Check now", id="probe_detail.check"),
    ]

    DEFAULT_CSS = """
    ProbeDetailScreen {
        align: center middle;
    }
    ProbeDetailScreen > VerticalScroll {
        width: 100;  /* BOX_WIDTH */
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $accent;
        border-title-color: $text-accent;
        border-subtitle-color: $foreground-muted;
        background: $surface;
        padding: 0 1;
    }
    """

    def __init__(self, session: Session, name: str) -> None:
        super().__init__()
        self.session = session
        self.probe_name = name

    @property
    def controller(self) -> ProbesController:
        return self.session.probes

    def show_changes(self, changed: Changed) -> None:
        if changed & Changed.PROBES:
            self.show(self.controller.state)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="probe-detail-body"):
            yield Static(id="probe-detail-text")

    def on_mount(self) -> None:
        self.show(self.controller.state)

    def show(self, state: ProbesState) -> None:
        body = self.query_one("#probe-detail-body", VerticalScroll)
        status = state.statuses.get(self.probe_name)
        if status is None:
            set_titles(body, escape(self.probe_name), "esc closes")
            update_text(self.query_one("#probe-detail-text", Static), "[dim]This probe is gone (its container stopped, or the config changed).[/dim]")
            return
        spec, result = status.spec, status.result
        preset = PRESETS.get(spec.kind)
        set_titles(body, f"{escape(spec.name)} · {escape(preset.title if preset else spec.kind)}", "r checks now · esc closes")
        now = state.now()
        role = ROLE_VARIABLE[text.STATE_ROLE[status.state]]
        headline = f"[{role}]{text.STATE_MARK[status.state]} {status.state.value}[/]"
        if status.state_since is not None and status.state is not ProbeState.UNKNOWN:
            headline += f" {text.for_how_long(now - status.state_since)}".rstrip()
        if result is not None:
            headline += f" · last check {clock_time(result.checked_at)} · {text.latency(result.latency_ms)}"
            if result.status_code is not None:
                headline += f" · HTTP {result.status_code}"
        if status.name in state.checking:
            headline += " · [$accent]checking now…[/]"
        lines = [row("State", headline)]
        if result is not None and result.error:
            lines.append(row("Problem", f"[{role}]{escape(result.error)}[/]"))
        lines.append(row("URL", escape(spec.display_url)))
        if preset is not None:
            checks = wrapped(preset.checks, self._width() - LABEL, 0)
            lines.append(row("Checks", checks[0]))
            lines += [" " * LABEL + more for more in checks[1:]]
        lines.append(row("Source", escape(text.source(spec))))
        settings = f"every {spec.interval:g} s · timeout {spec.timeout:g} s · slow over {spec.slow_ms:g} ms"
        if spec.expect_status:
            settings += " · expects HTTP " + " or ".join(map(str, spec.expect_status))
        if spec.json_field:
            expected = f" = {spec.expect_value!r}" if spec.expect_value is not None else " present"
            settings += f" · {escape(spec.json_field)}{escape(expected)}"
        if not spec.verify_tls:
            settings += " · TLS not verified"
        lines.append(row("Settings", settings))
        lines.append("")
        lines.append(row("Latency", f"[$accent]{text.sparkline(status.latencies, SPARK_WIDTH)}[/]"))
        lines.append(row("", escape(text.latency_summary(status.latencies))))
        if result is not None:
            lines += self._served(result)
        lines += self._errors(state, status.name, now)
        update_text(self.query_one("#probe-detail-text", Static), "\n".join(lines))

    def _served(self, result) -> list[str]:
        lines = [""]
        serves = text.describe_service(result)
        lines.append(row("Serves", escape(serves) if serves else "[dim]the service does not say[/dim]"))
        if result.models:
            lines.append(row("Models", "[dim]● loaded  ○ not loaded[/dim]"))
            for model in result.models:
                mark = "[$success]●[/]" if model.loaded else "[$foreground-muted]○[/]"
                about = text.model_line(model) + (f" · unloads at {expires_text(model.expires_at)}" if model.expires_at else "")
                parts = wrapped(f"{model.name} · {about}", self._width() - 4, 4)
                lines.append(f"  {mark} {parts[0]}")
                lines += parts[1:]
        details = [(k, v) for k, v in result.details.items() if k not in SHOWN_IN_SERVES]
        if details:
            lines.append(row("Details", ""))
            width = max(len(text.detail_label(k)) for k, _ in details) + 2
            for key, value in details:
                lines.append(f"  {escape(text.detail_label(key)):<{width}}{escape(text.detail_value(key, value))}")
        return lines

    def _errors(self, state: ProbesState, name: str, now: float) -> list[str]:
        recent = state.errors.get(name)
        if not recent:
            return ["", row("Errors", "[dim]none since spark-tui started[/dim]")]
        lines = ["", row("Errors", f"[dim]the last {len(recent)}, newest first[/dim]")]
        for entry in reversed(recent):
            role = ROLE_VARIABLE[text.STATE_ROLE[entry.state]]
            lines.append(f"  {clock_time(entry.at)}  [{role}]{entry.state.value:<8}[/] {escape(entry.error)}  [dim]{text.ago(now - entry.at)}[/dim]")
        return lines

    def _width(self) -> int:
        """Cells for text in the box (its border and padding off)."""
        return max(40, min(BOX_WIDTH, self.app.size.width) - 4)

    def on_resize(self) -> None:
        self.show(self.controller.state)

    def action_check(self) -> None:
        self.controller.check_now(self.probe_name)
        self.show(self.controller.state)

    def action_close(self) -> None:
        self.dismiss(None)
