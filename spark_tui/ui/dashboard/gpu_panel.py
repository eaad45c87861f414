"""One GPU: facts, 5-minute graphs of utilization, temperature and power, and its processes."""

from __future__ import annotations

import math

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import DataTable

from spark_tui.core import format as fmt
from spark_tui.core.machine.history import History
from spark_tui.models.machine import GpuProcess, GpuReport, GpuSample
from spark_tui.ui.widgets.trend_chart import MetricChart
from spark_tui.ui.widgets.text import set_display, set_titles, set_tooltip
from spark_tui.ui.widgets.text_lines import TextLines

HOT_C = 80.0  # warn from here
TOO_HOT_C = 85.0  # GB10 guidance: keep the GPU under 85 °C

FIELD_LABELS = {
    "utilization": "utilization",
    "temperature": "temperature",
    "power": "power",
    "power_limit": "power limit",
    "sm_clock": "SM clock",
    "memory_clock": "memory clock",
    "fan": "fan",
    "clock_events": "clock events",
    "memory": "memory info",
    "compute_processes": "compute processes",
    "graphics_processes": "graphics processes",
}


def nice_ceiling(value: float) -> float:
    """The next 1-2-5 step at or above value (for a graph's top)."""
    if value <= 0:
        return 1.0
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * exponent:
            return step * exponent
    return 10 * exponent


def temperature_markup(celsius: float | None) -> str:
    """The temperature, in warning colours from 80 °C and error colours from 85 °C."""
    text = fmt.number(celsius, "°C")
    if celsius is not None and celsius >= TOO_HOT_C:
        return f"[bold $error]{text} hot[/]"
    if celsius is not None and celsius >= HOT_C:
        return f"[$warning]{text}[/]"
    return text


class GpuPanel(Widget):
    """Facts on the left, three graphs stacked on the right, the processes below: one grid,
    without inner containers (each container's lines go through the compositor every frame)."""

    DEFAULT_CSS = """
    GpuPanel {
        height: auto;
        layout: grid;
        grid-size: 2;
        grid-columns: 30 1fr;
        grid-rows: 3;
    }
    GpuPanel .gpu-facts {
        row-span: 3;
        height: auto;
        padding-right: 1;
    }
    GpuPanel MetricChart {
        height: 100%;  /* of its grid cell (1fr would make an auto-height grid take the whole screen) */
    }
    GpuPanel DataTable {
        dock: bottom;
        height: auto;
        max-height: 8;
        overflow-x: hidden;
    }
    """

    def __init__(self, index: int, *, unified_memory: bool = False) -> None:
        super().__init__(id=f"gpu-panel-{index}", classes="panel")
        self.index = index
        self.unified_memory = unified_memory
        self.border_title = f"GPU {index}"
        self._ready = False
        self._latest: tuple[GpuSample, GpuReport, History, bool] | None = None

    def compose(self) -> ComposeResult:
        self._facts_text = TextLines(classes="gpu-facts")
        self._util = MetricChart("Utilization", classes="gpu-util")
        self._temp = MetricChart("Temperature", classes="gpu-temp")
        self._power = MetricChart("Power", classes="gpu-power")
        yield from (self._facts_text, self._util, self._temp, self._power)
        self._processes = table = DataTable(cursor_type="none", show_cursor=False, classes="gpu-processes")
        table.add_column("PID", key="pid", width=8)
        table.add_column("User", key="user", width=10)
        table.add_column("GPU mem", key="mem", width=10)
        table.add_column("Container", key="container", width=14)
        table.add_column("Command", key="command")
        yield table

    def on_mount(self) -> None:
        self._ready = True
        if self._latest is not None:
            self._draw(*self._latest)

    def show(self, sample: GpuSample, report: GpuReport, history: History, unified_memory: bool) -> None:
        """Draws now, or as soon as the panel's children exist."""
        self._latest = (sample, report, history, unified_memory)
        if self._ready:
            self._draw(*self._latest)

    def _draw(self, sample: GpuSample, report: GpuReport, history: History, unified_memory: bool) -> None:
        self.unified_memory = unified_memory
        name = sample.name or "unknown GPU"
        set_titles(
            self,
            f"GPU {sample.index} · {name}" + ("  LOST" if sample.lost else ""),
            f"driver {report.driver_version or fmt.NA} · CUDA {report.cuda_version or fmt.NA}",
        )
        self.set_class(sample.lost, "-lost")
        self._facts_text.show(self._facts(sample))
        set_tooltip(self._facts_text, self._why_na(sample))
        self._show_charts(sample, report.taken_at, history)
        self._show_processes(sample)

    def _facts(self, sample: GpuSample) -> str:
        events = sample.clock_events
        clocks = fmt.NA if events is None else (", ".join(events) if events else "full speed")
        memory = "unified pool" if self.unified_memory else fmt.NA
        if sample.framebuffer is not None and not self.unified_memory:
            memory = f"{fmt.gib(sample.framebuffer.used)} / {fmt.gib(sample.framebuffer.total, 0)}"
        rows = [
            ("SM clock", fmt.number(sample.sm_clock_mhz, "MHz")),
            ("Mem clock", fmt.number(sample.memory_clock_mhz, "MHz")),
            ("Power limit", fmt.number(sample.power_limit_w, "W")),
            ("Fan", fmt.percent(sample.fan_pct)),
            ("Clocks", clocks),
            ("Memory", memory),
            ("Processes", self._process_summary(sample)),
        ]
        return "\n".join(f"[b]{label:<12}[/b]" + (f"[dim]{value}[/dim]" if value == fmt.NA else value) for label, value in rows)

    @staticmethod
    def _process_summary(sample: GpuSample) -> str:
        if sample.processes is None:
            return fmt.NA
        if not sample.processes:
            return "none"
        return f"{len(sample.processes)} · {fmt.size(sample.process_memory)}"

    @staticmethod
    def _why_na(sample: GpuSample) -> str | None:
        if not sample.errors:
            return None
        return "\n".join(f"{FIELD_LABELS.get(k, k)}: {why}" for k, why in sample.errors.items())

    def _show_charts(self, sample: GpuSample, now: float, history: History) -> None:
        prefix = f"gpu{sample.index}"
        span = history.span
        gap = history.interval * 2.5
        util = history.series(f"{prefix}.util")
        self._util.show(
            fmt.percent(sample.utilization_pct), util.points, now=now, span=span, max_gap=gap,
            note=f"peak {fmt.percent(util.peak())}",
        )
        temp = history.series(f"{prefix}.temp")
        self._temp.show(
            temperature_markup(sample.temperature_c), temp.points, now=now, span=span, lo=20, hi=100,
            max_gap=gap, note=f"peak {fmt.number(temp.peak(), '°C')}",
        )
        power = history.series(f"{prefix}.power")
        top = sample.power_limit_w or nice_ceiling(max(power.peak() or 0, 50) * 1.1)
        self._power.show(
            fmt.number(sample.power_w, "W", 1), power.points, now=now, span=span, hi=top, max_gap=gap,
            note=f"peak {fmt.number(power.peak(), 'W', 1)}",
        )

    def _show_processes(self, sample: GpuSample) -> None:
        table = self._processes
        processes = sample.processes or ()
        set_display(table, bool(processes))
        self._sync_rows(table, processes)

    @staticmethod
    def _sync_rows(table: DataTable, processes: tuple[GpuProcess, ...]) -> None:
        """Update rows by key (pid), never clear and refill."""
        wanted = {str(p.pid): p for p in processes}
        for key in [k.value for k in table.rows if k.value not in wanted]:
            table.remove_row(key)
        for key, proc in wanted.items():
            cells = (
                str(proc.pid),
                proc.user or fmt.NA,
                fmt.size(proc.used_memory),
                proc.container or "—",
                proc.command or fmt.NA,
            )
            if key in table.rows:
                for column, value in zip(("pid", "user", "mem", "container", "command"), cells):
                    if table.get_cell(key, column) != value:
                        table.update_cell(key, column, value)
            else:
                table.add_row(*cells, key=key)
