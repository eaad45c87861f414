"""`?`: the keys, and how to read the figures on a DGX Spark.

Plain styled text rather than a Markdown widget: it opens in a few milliseconds.
"""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = (
    ("p", "pause / resume sampling (the graphs keep what they have)"),
    ("d", "dashboard"),
    ("c", "containers and Compose profiles: u start, x stop, r restart, l logs, i inspect, space toggles, "
          "t retries Docker now when it is unreachable"),
    ("s", "services: is each one answering? r checks the selected one now, a all, enter details"),
    ("b", "benchmark a service: enter starts the form's sweep, x cancels (what was measured is kept)"),
    ("h", "saved benchmark runs: enter opens one, space marks two, c compares them"),
    ("i", "inference: what each model server is doing (tokens/s, queue, KV cache, TTFT), once one is known"),
    ("tab", "next panel; on a wide dashboard the Compose profiles, where space starts or stops one"),
    ("ctrl+p", "command palette: every action, themes, refresh interval"),
    ("?", "this help (esc closes)"),
    ("q", "quit"),
)

MEMORY_TERMS = (
    ("Used", "MemTotal − MemAvailable from /proc/meminfo: all the CPU and GPU hold"),
    ("GPU procs", "sum of each GPU process's usedGpuMemory (NVML): what CUDA processes hold"),
    ("Page cache", "reclaimable file cache; not GPU use, already counted as available"),
)

# Paragraphs flow to the width of the window; terms and keys sit in a column of their own.
HELP: tuple[str | tuple[tuple[str, str], ...], ...] = (
    "[b $accent]Keys[/]",
    KEYS,
    "",
    "[b $accent]Reading memory on a DGX Spark (GB10)[/]",
    "The GB10's CPU and GPU share [b]one pool[/b] of LPDDR5x. NVML cannot report GPU memory on it "
    "(nvmlDeviceGetMemoryInfo is [i]Not Supported[/i]), so tools that trust it show 0 or nothing. "
    "spark-tui shows the pool itself:",
    MEMORY_TERMS,
    "On a discrete GPU you see its own VRAM beside system RAM instead.",
    "",
    "[b $accent]n/a[/]",
    "A field the driver does not report shows [b]n/a[/b], never 0. Hover the GPU facts to see why "
    "(GB10: power limit, fan and memory clock are not exposed).",
    "",
    "[b $accent]Settings[/]",
    "$XDG_CONFIG_HOME/spark-tui/config.toml (or --config PATH, or SPARK_TUI_CONFIG):",
    "[dim]  \\[dashboard]\n"
    "  interval = 1.0          # seconds between samples\n"
    "  history_seconds = 300   # how far back the graphs go\n"
    '  theme = "textual-dark"  # "ansi-dark" uses your terminal\'s own colours[/dim]',
)


def term_table(terms: tuple[tuple[str, str], ...]) -> Table:
    """Terms in a column of their own, their text wrapping beside it (one widget for all of them)."""
    table = Table.grid(padding=(0, 1))
    table.add_column(width=12, style="bold", no_wrap=True)
    table.add_column(ratio=1)
    for term, text in terms:
        table.add_row(f"  {term}", text)
    return table


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
            for part in HELP:
                if isinstance(part, str):
                    yield Static(part)
                else:
                    yield Static(term_table(part))

    def action_close(self) -> None:
        self.dismiss(None)
