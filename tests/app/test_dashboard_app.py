"""The dashboard driven by Pilot: samples through the real message path, keys, faults."""

import threading
import time

import pynvml
import pytest
from support import FakeClock, demo_sources, feed, nvml_sources, wait_for

from spark_tui.ui.app import make_app
from spark_tui.ui.dashboard.screen import DashboardScreen
from spark_tui.ui.screens.help import HelpScreen
from spark_tui.core.demo.fake_nvml import GPU_IS_LOST, FakeNvml, gb10_static
from spark_tui.ui.dashboard.gpu_panel import GpuPanel
from spark_tui.ui.dashboard.memory_panel import MemoryPanel
from spark_tui.ui.widgets.status_bar import StatusBar
from spark_tui.ui.widgets.text_lines import TextLines
from textual.widgets import DataTable, Static

SIZE = (100, 30)


def text_of(widget: Static) -> str:
    return str(widget.render())




async def test_demo_samples_fill_every_panel():
    clock = FakeClock()
    sources = demo_sources(clock)
    app = make_app(sources=sources, start_polling=False)
    async with app.run_test(size=SIZE) as pilot:
        feed(app, sources, clock, 130)
        await wait_for(pilot, lambda: app.query(GpuPanel) and "NVIDIA GB10" in str(app.query_one(GpuPanel).border_title))
        panel = app.query_one(GpuPanel)
        facts = text_of(panel.query_one(".gpu-facts", TextLines))
        assert "Power limit n/a" in facts and "Memory      unified pool" in facts
        table = panel.query_one(DataTable)
        assert table.row_count == 2 and table.get_cell("41873", "user") == "spark"
        memory = app.query_one(MemoryPanel)
        assert "unified pool" in str(memory.border_title)
        rows = text_of(memory.query_one(".memory-rows", TextLines))
        assert "GPU procs  61.2 GiB" in rows and "meminfo" in rows and "NVML" in rows
        assert app.machine.history.series("gpu0.util").peak() > 60


async def test_keys_pause_help_and_quit():
    clock = FakeClock()
    app = make_app(sources=demo_sources(clock))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        assert app.paused and app.screen.query_one(StatusBar).paused
        assert "PAUSED" in text_of(app.screen.query_one("#status-left", TextLines))
        await pilot.press("p")
        assert not app.paused
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("q")
    assert app.return_code == 0


async def test_command_palette_pauses_and_sets_the_interval():
    app = make_app(sources=demo_sources(FakeClock()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"pause sampling")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.paused)
        await pilot.press("ctrl+p")
        await pilot.press(*"sample every 5")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.pollers["gpu"].interval == 5.0)
        assert app.screen.query_one(StatusBar).interval == 5.0


async def test_a_hung_gpu_source_never_delays_a_key():
    clock = FakeClock()
    sources = demo_sources(clock)
    release = threading.Event()
    sources.gpu.sample = lambda: release.wait(30)  # NVML wedged in the driver
    app = make_app(sources=sources)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(0.3)
            started = time.perf_counter()
            await pilot.press("question_mark")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), timeout=3)
            assert time.perf_counter() - started < 2  # vs a 30 s hang; bench/dashboard_bench.py measures the real figure
            await pilot.press("escape")
            # The system source still reports while the GPU one hangs.
            await wait_for(pilot, lambda: app.machine.system is not None)
            assert app.machine.gpu is None
    finally:
        release.set()


async def test_failing_source_notifies_once_and_recovers():
    clock = FakeClock()
    sources = demo_sources(clock)
    real_sample = sources.system.sample
    fail = {"on": True}

    def flaky():
        if fail["on"]:
            raise OSError("cannot read /proc/stat")
        return real_sample()

    sources.system.sample = flaky
    app = make_app(sources=sources)
    app.pollers["system"].interval = 0.01
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.pollers["system"].failures >= 2)
        messages = [n.message for n in app._notifications]
        assert sum("system sampling failed: cannot read /proc/stat" in m for m in messages) == 1
        assert "system failing" in text_of(app.screen.query_one("#status-left", TextLines))
        fail["on"] = False
        await wait_for(pilot, lambda: any("recovered" in n.message for n in app._notifications), what="the recovery toast")
        assert "failing" not in text_of(app.screen.query_one("#status-left", TextLines))


async def test_no_driver_shows_why_and_everything_else():
    clock = FakeClock()
    sources = nvml_sources(FakeNvml(init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND), clock)
    app = make_app(sources=sources, start_polling=False)
    async with app.run_test(size=SIZE) as pilot:
        feed(app, sources, clock, 3)
        problem = app.query_one("#gpu-problem", Static)
        memory_rows = app.query_one(MemoryPanel).query_one(".memory-rows", TextLines)
        await wait_for(pilot, lambda: "Used" in text_of(memory_rows), what="the first frame")
        assert problem.display and "NVML library not found: is the NVIDIA driver installed?" in text_of(problem)
        assert not app.query(GpuPanel)


async def test_lost_gpu_is_shown_on_its_panel():
    clock = FakeClock()
    spec = gb10_static()
    sources = nvml_sources(FakeNvml(gpus=[spec, gb10_static()]), clock)
    app = make_app(sources=sources, start_polling=False)
    async with app.run_test(size=SIZE) as pilot:
        feed(app, sources, clock, 2)
        await wait_for(pilot, lambda: len(app.query(GpuPanel)) == 2)
        spec.utilization = GPU_IS_LOST
        feed(app, sources, clock, 1)
        lost = app.query_one("#gpu-panel-0", GpuPanel)
        await wait_for(pilot, lambda: lost.has_class("-lost"), what="the lost GPU marked")
        assert "LOST" in str(lost.border_title)
        assert not app.query_one("#gpu-panel-1", GpuPanel).has_class("-lost")


async def test_without_a_gpu_a_wide_dashboard_gives_the_side_panels_the_full_width():
    clock = FakeClock()
    sources = nvml_sources(FakeNvml(init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND), clock)
    app = make_app(sources=sources, start_polling=False)
    async with app.run_test(size=(160, 48)) as pilot:
        feed(app, sources, clock, 5)
        screen = app.screen
        await wait_for(pilot, lambda: screen.has_class("-wide", "-no-gpu"), what="the no-GPU layout")
        await pilot.pause()  # the layout follows the class change
        assert screen.query_one(MemoryPanel).region.width == 160
        assert screen.query_one("#gpu-problem").region.height <= 6


async def test_a_changed_line_repaints_without_a_layout_pass():
    """A live panel changes a line or two each second; only a change in the number of rows may
    cost a layout pass (the costliest part of a frame)."""
    from textual.app import App

    class One(App):
        def compose(self):
            yield TextLines("a\nb", id="lines")

    app = One()
    async with app.run_test(size=(40, 10)) as pilot:
        lines = app.query_one(TextLines)
        await pilot.pause()
        lines.show("a\nchanged")
        assert not lines._layout_required
        assert "changed" in text_of(lines)
        lines.show("a\nchanged\nthird row")
        assert lines._layout_required
        await pilot.pause()
        assert lines.size.height == 3


@pytest.mark.parametrize("query", ["refresh interval", "interval", "refresh"])
async def test_the_palette_finds_the_refresh_interval_by_the_words_people_use(query):
    """#14: "interval" and "refresh" found nothing; the entries said only "Sample every 0.5 s"."""
    app = make_app(sources=demo_sources(FakeClock()))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*query)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.interval != 1.0, what="a new refresh interval")
        assert app.interval in (0.5, 2.0, 5.0)
