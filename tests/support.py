"""Helpers shared by the tests: a frozen clock and a simulated Spark fed through the real paths."""

from __future__ import annotations

import time
from collections.abc import Callable

from spark_tui.ui.messages import GpuSampled, SystemSampled
from spark_tui.core.demo.machine import DemoSpark
from spark_tui.core.demo.fake_nvml import FakeNvml
from spark_tui.core.machine.sources import MachineSources
from spark_tui.core.machine.nvml import NvmlSource
from spark_tui.core.machine.system import SystemSource

EPOCH = 1_790_000_000.0  # a fixed wall-clock start (2026-09-21 UTC)


class FakeClock:
    def __init__(self, now: float = EPOCH) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def demo_sources(clock: FakeClock) -> MachineSources:
    spark = DemoSpark(clock=clock, wall_clock=clock)
    return MachineSources(
        gpu=NvmlSource(nvml=spark.nvml, psutil=spark.psutil, clock=clock),
        system=SystemSource(psutil=spark.psutil, read_proc=spark.read_proc, hostname=spark.hostname, clock=clock),
        demo=True,
    )


def nvml_sources(nvml: FakeNvml, clock: FakeClock, psutil=None) -> MachineSources:
    """A real system source beside a fake NVML (no GPU here)."""
    spark = DemoSpark(clock=clock, wall_clock=clock)
    return MachineSources(
        gpu=NvmlSource(nvml=nvml, psutil=psutil or spark.psutil, clock=clock),
        system=SystemSource(psutil=spark.psutil, read_proc=spark.read_proc, hostname=spark.hostname, clock=clock),
    )


def feed(app, sources: MachineSources, clock: FakeClock, seconds: int, step: float = 1.0) -> None:
    """Posts `seconds` samples of both sources through the app's own message path."""
    for _ in range(seconds):
        clock.advance(step)
        app.post_message(GpuSampled(sources.gpu.sample()))
        app.post_message(SystemSampled(sources.system.sample()))


async def wait_for(pilot, condition: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    """Let the app run until `condition()` holds; generous timeout because CI machines are loaded."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s waiting for {what}"
        await pilot.pause(0.02)


async def drawn(pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait until the app has drawn every sample it was given (its coalesced redraw has run) and
    every DataTable has sized its columns to what it holds (it does that when idle: under load a
    screenshot could otherwise catch a column still as wide as its old text)."""
    from textual.widgets import DataTable

    app = pilot.app
    await wait_for(pilot, lambda: app._redraw_timer is None and not app._pending, what="the pending redraw")
    await pilot.pause()
    await wait_for(pilot, lambda: not any(t._require_update_dimensions for t in app.screen.query(DataTable)), what="tables sized")
