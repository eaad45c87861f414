"""CPU by core type (Spark: Cortex-X925 and Cortex-A725), load, temperatures, disk and network."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.containers import Vertical

from spark_tui.core import format as fmt
from spark_tui.core.machine.history import History
from spark_tui.models.machine import SystemSample
from spark_tui.ui.dashboard.gauges import levels
from spark_tui.ui.widgets.trend_chart import MetricChart
from spark_tui.ui.widgets.text import set_titles
from spark_tui.ui.widgets.text_lines import TextLines

MAX_NAME = 16  # when the panel's width is not known yet
LABEL_WIDTH = 6
MAX_TEMPERATURES = 3
_NOISE = re.compile(r"\((?:R|TM|tm|r)\)|\bCPU\b|@ *[\d.]+ *[GM]Hz|\bProcessor\b")


def short_name(name: str) -> str:
    """The model name without its trade marks and clock: "Intel(R) Xeon(R) CPU @ 2.20GHz" is
    "Intel Xeon" (the Spark's "Cortex-X925" stays as it is)."""
    return " ".join(_NOISE.sub(" ", name).split()) or name


def group_label(name: str, count: int, max_name: int = MAX_NAME) -> str:
    name = short_name(name)
    name = name if len(name) <= max_name else name[: max_name - 1] + "…"
    return f"{name} ×{count}"


class SystemPanel(Vertical):
    DEFAULT_CSS = """
    SystemPanel {
        height: auto;
    }
    SystemPanel .system-rows {
        height: auto;
    }
    SystemPanel MetricChart {
        height: 1fr;
        min-height: 2;
    }
    """

    def __init__(self) -> None:
        super().__init__(id="system-panel", classes="panel")
        self.border_title = "CPU"

    def compose(self) -> ComposeResult:
        self._rows = TextLines(classes="system-rows")
        self._chart = MetricChart("CPU", classes="cpu-chart")
        yield self._rows
        yield self._chart

    def show(self, sample: SystemSample, history: History) -> None:
        cores = sum(len(g.cpus) for g in sample.core_groups)
        load = " ".join(f"{x:.2f}" for x in sample.load_average) if sample.load_average else fmt.NA
        set_titles(self, f"CPU ×{cores} · load {load}", f"{sample.hostname} · up {fmt.duration(sample.uptime_s)}")
        # the names get what the row leaves: " ×N", the percentage and one bar per core
        room = self.content_size.width
        labels = [
            group_label(g.name, len(g.cpus), max(MAX_NAME, room - len(f" ×{len(g.cpus)}") - 6 - len(g.percents)) if room else MAX_NAME)
            for g in sample.core_groups
        ]
        width = max((len(label) for label in labels), default=0) + 1
        rows = [
            f"[b]{label:<{width}}[/b]{group.average:>3.0f}% [$accent]{levels(group.percents)}[/]"
            for label, group in zip(labels, sample.core_groups)
        ]
        if sample.temperatures:
            temps = " · ".join(f"{t.label} {t.celsius:.0f}°C" for t in sample.temperatures[:MAX_TEMPERATURES])
            rows.append(f"[b]{'Temp':<{LABEL_WIDTH}}[/b]{temps}")
        rows.append(f"[b]{'Disk':<{LABEL_WIDTH}}[/b]r {fmt.rate(sample.disk_read_bps)}  w {fmt.rate(sample.disk_write_bps)}")
        rows.append(f"[b]{'Net':<{LABEL_WIDTH}}[/b]rx {fmt.rate(sample.net_rx_bps)}  tx {fmt.rate(sample.net_tx_bps)}")
        self._rows.show("\n".join(rows))
        total = history.series("cpu.total")
        self._chart.show(
            fmt.percent(sample.cpu_percent), total.points, now=sample.taken_at, span=history.span,
            max_gap=history.interval * 2.5, note=f"peak {fmt.percent(total.peak())}",
        )
