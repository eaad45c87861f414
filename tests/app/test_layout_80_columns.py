"""Issue #14, item 17: what a new user saw cut or covered at 80 columns, driven by Pilot.

- The benchmark form's hints ("closed l…"): every hint of every adapter reads in full.
- The compare plot: plotext's legend sat on the data; the plot draws it above its frame now.
- The containers table at 100 columns cut Ports ("18434→8…") while columns to its right stood
  empty: Ports gets the width its text needs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from bench_support import canned_run, fill_form, post
from containers_support import demo_app, feed_containers
from support import FakeClock, demo_sources, wait_for
from textual.geometry import Region
from textual.widgets import Select, Static

from spark_tui.core.bench.adapters import ADAPTERS, GEN_ADAPTERS
from spark_tui.core.bench.plan_form import adapter_choice
from spark_tui.models.bench import CellFinished
from spark_tui.models.containers import PublishedPort
from spark_tui.models.settings import BenchConfig, Config
from spark_tui.ui.app import make_app
from spark_tui.ui.bench.form import BenchForm
from spark_tui.ui.bench.plots import LatencyInputs, LatencyThroughputPlot
from spark_tui.ui.bench.runs import CompareScreen, HistoryScreen
from spark_tui.ui.bench.screen import BenchScreen
from spark_tui.ui.containers.table import (
    COLUMNS,
    ContainerTable,
    column_widths,
    ports_text,
)
from spark_tui.ui.messages import ContainersChanged

VLLM = "0002".ljust(64, "d")  # ai-vllm-1 in the demo fleet
PORTAINER = "ff".ljust(64, "e")


def bench_app(runs: Path):  # type: ignore[no-untyped-def]
    return make_app(Config(bench=BenchConfig(results_dir=str(runs))), sources=demo_sources(FakeClock()), start_polling=False)


def lines_of(widget) -> list[str]:  # type: ignore[no-untyped-def]
    """The widget's lines as it draws them in its region (padding included)."""
    return [strip.text for strip in widget.render_lines(Region(0, 0, widget.region.width, widget.region.height))]


# --- the benchmark form -------------------------------------------------------------------------

CHOICES = [*ADAPTERS, *(adapter_choice(name, "generate") for name in GEN_ADAPTERS)]


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (160, 48)])
async def test_every_hint_of_every_adapter_reads_in_full(tmp_path: Path, size: tuple[int, int]) -> None:
    app = bench_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        form = await fill_form(pilot, app)
        for choice in CHOICES:
            form.query_one("#form-adapter", Select).value = choice
            await wait_for(pilot, lambda choice=choice: form._adapter == choice, what=f"the {choice} adapter")
            await pilot.pause()  # the layout for the new hints
            hints = [hint for hint in form.query(".form-hint").results(Static) if hint.display and hint.parent.display]
            assert len(hints) >= 6, (choice, len(hints))
            for hint in hints:
                expected = str(hint.render())
                lines = lines_of(hint)
                shown = " ".join(line.strip() for line in lines)
                assert shown.split() == expected.split(), (size, choice, hint.id, lines, expected)
                assert not any(line.rstrip().endswith("…") for line in lines), (size, choice, lines)
                assert hint.region.right <= form.scrollable_content_region.right, (size, choice, hint.region)


async def test_the_start_button_can_be_reached_when_the_form_is_taller_than_the_terminal(tmp_path: Path) -> None:
    """80×24 with the demo note and a generation adapter: the panel scrolls to the button."""
    app = bench_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        form = await fill_form(pilot, app, adapter=adapter_choice("openai-chat", "generate"))
        await wait_for(pilot, lambda: form.query_one("#form-input-row").display, what="the generation rows")
        button = form.query_one("#form-start")
        button.focus()
        setup = app.screen.query_one("#bench-setup")
        await wait_for(pilot, lambda: setup.region.contains_region(button.region), what="the Start button scrolled into view")


# --- the latency plot's legend ------------------------------------------------------------------

def assert_legend_above_the_frame(plot: LatencyThroughputPlot, labels: list[str]) -> None:
    """Each label drawn, whole, above the top of plotext's frame (the data is only inside it),
    and no label inside the frame."""
    lines = lines_of(plot)
    top = next(i for i, line in enumerate(lines) if "┌" in line)
    for label in labels:
        rows = [i for i, line in enumerate(lines) if label in line]
        assert rows and all(i < top for i in rows), (label, rows, top, "\n".join(lines))
    inside = "\n".join(lines[top:])
    assert not any(label in inside for label in labels), inside


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (160, 48)])
async def test_the_compare_plots_legend_is_off_the_data(tmp_path: Path, size: tuple[int, int]) -> None:
    from gen_bench_support import saved_gen_run

    saved_gen_run(tmp_path, "20260920-111500-generate-openai-chat-0001", 1.0, 1_760_000_000.0)
    saved_gen_run(tmp_path, "20260921-111500-generate-openai-chat-0002", 1.5, 1_760_086_400.0)
    app = bench_app(tmp_path)
    async with app.run_test(size=size) as pilot:
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.loaded and app.screen.runs, what="the runs read")
        await pilot.press("down", "space", "up", "space", "c")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen), what="the compare screen")
        plot = app.screen.query_one(LatencyThroughputPlot)
        await wait_for(pilot, lambda: isinstance(plot.drawn_inputs, LatencyInputs) and plot.size.height > 0, what="the plot drawn")
        labels = [series.label for series in plot.drawn_inputs.series]
        assert sorted(labels) == ["A in 2048 out 128", "A in 512 out 128", "B in 2048 out 128", "B in 512 out 128"]
        assert_legend_above_the_frame(plot, labels)


async def test_the_live_plots_legend_is_off_the_data(tmp_path: Path) -> None:
    app = bench_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BenchScreen) and app.screen.query(BenchForm), what="the bench screen")
        from bench_support import PLAN

        app.bench.start(PLAN)
        app.screen.sync_view()
        events = canned_run()
        post(app, *events)
        await pilot.press("v")  # at 80 columns the latency plot takes the throughput plot's place
        plot = app.screen.query_one(LatencyThroughputPlot)
        cells = sum(isinstance(event, CellFinished) for event in events)
        await wait_for(pilot, lambda: plot.display and isinstance(plot.drawn_inputs, LatencyInputs)
                       and sum(len(s.summaries) for s in plot.drawn_inputs.series) == cells, what="the latency plot drawn")
        await pilot.pause()
        assert_legend_above_the_frame(plot, [series.label for series in plot.drawn_inputs.series])


# --- the containers table -----------------------------------------------------------------------

@pytest.mark.parametrize("width", [80, 100, 120, 160])
async def test_ports_show_in_full(width: int) -> None:
    app, docker = demo_app(FakeClock())
    async with app.run_test(size=(width, 30)) as pilot:
        await feed_containers(pilot, app, docker)
        listing = next(docker.updates())
        remapped = (PublishedPort(8000, "tcp", "127.0.0.1", 18434), PublishedPort(8000, "tcp", "::1", 18434))  # what the user saw
        two = (PublishedPort(9443, "tcp", "127.0.0.1", 9443), PublishedPort(9000, "tcp", "0.0.0.0", 9000))
        ports = {VLLM: remapped, PORTAINER: two}
        containers = tuple(replace(c, ports=ports.get(c.id, c.ports)) for c in listing.containers)
        app.post_message(ContainersChanged(replace(listing, containers=containers, changed=frozenset(ports))))
        await pilot.press("c")
        table = app.screen.query_one(ContainerTable)
        await wait_for(pilot, lambda: table.row_count == 12 and "18434" in str(table.get_cell(VLLM, "ports")), what="the table")
        assert ports_text(remapped) == "18434→8000" and ports_text(two) == "9443,*:9000"
        assert str(table.get_cell(VLLM, "ports")).strip() == "18434→8000", (width, table._widths)
        assert str(table.get_cell(PORTAINER, "ports")).strip() == "9443,*:9000", (width, table._widths)
        names = [str(table.get_cell(key, "name")) for key in table.keys]
        assert not any(name.rstrip().endswith("…") for name in names), (width, names)
        assert table.virtual_size.width <= table.scrollable_content_region.width + 1, (width, table.virtual_size)


def test_a_column_with_nothing_to_show_gives_its_width_to_ports() -> None:
    needs = {"name": 14, "state": 1, "health": 1, "uptime": 1, "cpu": 1, "memory": 1, "gpu": 1, "ports": 40, "image": 0}
    with_gpu = column_widths(100, needs)
    without = column_widths(100, {**needs, "gpu": 0})
    label = next(c.label for c in COLUMNS if c.key == "gpu")
    assert without["gpu"] == len(label) < with_gpu["gpu"]
    assert without["ports"] == with_gpu["ports"] + with_gpu["gpu"] - len(label)
    # every width adds up to the table's: nothing left standing empty at its right end
    for widths in (with_gpu, without):
        shown = [w for w in widths.values() if w]
        assert sum(shown) + 2 * len(shown) + 1 == 100, widths
