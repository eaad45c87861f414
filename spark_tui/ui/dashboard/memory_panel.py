"""Memory, read right: one pool on unified-memory GPUs (GB10), VRAM beside RAM otherwise.

Every figure names its source, because on the Spark they differ in meaning: used memory
(/proc/meminfo) includes the CPU side; GPU process memory (NVML) is what CUDA processes hold;
page cache is reclaimable and is not GPU use.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical

from spark_tui.core import format as fmt
from spark_tui.core.machine.history import History
from spark_tui.models.machine import MemoryOverview
from spark_tui.ui.widgets.trend_chart import MetricChart
from spark_tui.ui.widgets.text import set_titles, set_tooltip
from spark_tui.ui.widgets.text_lines import TextLines

LABEL_WIDTH = 11


def _row(label: str, value: str, source: str = "") -> str:
    shown = f"[dim]{value}[/dim]" if value == fmt.NA else value
    return f"[b]{label:<{LABEL_WIDTH}}[/b]{shown}" + (f"  [dim]{source}[/dim]" if source else "")


def _share(part: int | None, whole: int | None) -> str:
    return f" ({part / whole:.0%})" if part is not None and whole else ""


class MemoryPanel(Vertical):
    DEFAULT_CSS = """
    MemoryPanel {
        height: auto;
    }
    MemoryPanel .memory-rows {
        height: auto;
    }
    MemoryPanel MetricChart {
        height: 1fr;
        min-height: 2;
    }
    """

    def __init__(self) -> None:
        super().__init__(id="memory-panel", classes="panel")
        self.border_title = "Memory"

    def compose(self) -> ComposeResult:
        self._rows = TextLines(classes="memory-rows")
        self._chart = MetricChart("Used", classes="memory-chart")
        yield self._rows
        yield self._chart

    def show(self, overview: MemoryOverview, now: float, history: History) -> None:
        from_nvml = overview.unified or bool(overview.framebuffers) or overview.gpu_process_memory is not None
        set_titles(self, "Memory · unified pool" if overview.unified else "Memory", "meminfo + NVML" if from_nvml else "meminfo")
        total, used = overview.total, overview.used
        used_text = f"{fmt.number(used / 1024**3, digits=1)}/{fmt.gib(total)}" if total and used is not None else fmt.NA
        rows = [_row("Used", used_text, "meminfo")]
        if overview.unified or (not overview.framebuffers and overview.gpu_process_memory is not None):
            rows.append(_row("GPU procs", fmt.gib(overview.gpu_process_memory), "NVML"))
        for index, vram in overview.framebuffers:
            vram_text = f"{fmt.number(vram.used / 1024**3, digits=1)}/{fmt.gib(vram.total)}{_share(vram.used, vram.total)}"
            rows.append(_row(f"GPU{index} VRAM", vram_text, "NVML"))
        rows.append(_row("Available", fmt.gib(overview.available), "meminfo"))
        rows.append(_row("Page cache", fmt.gib(overview.page_cache), "reclaimable"))
        swap = f"{fmt.number(overview.swap_used / 1024**3, digits=1)}/{fmt.gib(overview.swap_total)}" if overview.swap_total else "none"
        rows.append(_row("Swap", swap))
        self._rows.show("\n".join(rows))
        set_tooltip(self._rows, overview.unified_reason)
        self._chart.show(
            f"{fmt.gib(used)}{_share(used, total)}",
            history.series("mem.used").points,
            now=now,
            span=history.span,
            hi=float(total or 1),
            max_gap=history.interval * 2.5,
            lower=history.series("mem.gpu").points if overview.unified else None,
            note="[$accent]▆[/] GPU procs" if overview.unified else "",
        )
