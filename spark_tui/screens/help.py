"""`?`: the keys, and how to read the figures on a DGX Spark.

Plain styled text rather than a Markdown widget: it opens in a few milliseconds.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = (
    ("p", "pause / resume sampling (the graphs keep what they have)"),
    ("d", "dashboard"),
    ("c", "containers and Compose profiles: u start, x stop, r restart, l logs, i inspect, space toggles"),
    ("s", "services: is each one answering? r checks the selected one now, a all, enter details"),
    ("b", "benchmark a service: enter starts the form's sweep, x cancels (what was measured is kept)"),
    ("h", "saved benchmark runs: enter opens one, space marks two, c compares them"),
    ("ctrl+p", "command palette: every action, themes, refresh interval"),
    ("?", "this help (esc closes)"),
    ("q", "quit"),
)

HELP = (
    "[b $accent]Keys[/]\n"
    + "\n".join(f"  [b]{key:<8}[/b]{what}" for key, what in KEYS)
    + """

[b $accent]Reading memory on a DGX Spark (GB10)[/]
The GB10's CPU and GPU share [b]one pool[/b] of LPDDR5x. NVML cannot report GPU memory on it
(nvmlDeviceGetMemoryInfo is [i]Not Supported[/i]), so tools that trust it show 0 or nothing.
spark-tui shows the pool itself:
  [b]Used[/b]        MemTotal − MemAvailable from /proc/meminfo: all the CPU and GPU hold
  [b]GPU procs[/b]   sum of each GPU process's usedGpuMemory (NVML): what CUDA processes hold
  [b]Page cache[/b]  reclaimable file cache; not GPU use, already counted as available
On a discrete GPU you see its own VRAM beside system RAM instead.

[b $accent]n/a[/]
A field the driver does not report shows [b]n/a[/b], never 0. Hover the GPU facts to see why
(GB10: power limit, fan and memory clock are not exposed).

[b $accent]Settings[/]
$XDG_CONFIG_HOME/spark-tui/config.toml (or --config PATH, or SPARK_TUI_CONFIG):
  [dim]\\[dashboard][/dim]
  [dim]interval = 1.0          # seconds between samples[/dim]
  [dim]history_seconds = 300   # how far back the graphs go[/dim]
  [dim]theme = "textual-dark"  # "ansi-dark" uses your terminal's own colours[/dim]"""
)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close", id="help.close"),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 96;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $accent;
        border-title-color: $text-accent;
        background: $surface;
        padding: 0 1;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll() as body:
            body.border_title = "spark-tui help"
            yield Static(HELP)

    def action_close(self) -> None:
        self.dismiss(None)
