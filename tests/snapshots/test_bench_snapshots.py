"""What the user sees of benchmarks: the form, a run mid-way (canned events through the real
message path), saved runs, one run opened, two compared; small and large terminals."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from bench_support import PLAN, FakeLaunch, canned_run, post, summary
from support import EPOCH, FakeClock, demo_sources, drawn, feed, wait_for

from spark_tui.ui.app import make_app
from spark_tui.core.bench.plan import BenchPlan
from spark_tui.core.bench.results import RunStore
from spark_tui.models.settings import BenchConfig, Config
from spark_tui.models.bench import CellFinished, RequestsDigest, ServerInfo, Tick
from spark_tui.ui.bench.plots import LatencyInputs, LatencyThroughputPlot, ThroughputInputs, ThroughputPlot

SIZES = [(80, 24), (160, 48)]
RUNS_ROOT = Path("/tmp/spark-tui-snapshots")  # a fixed path: it is on screen


async def history_read(pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait for the history screens' file-reading workers, then for the frame they asked for."""
    reading = lambda: any(w.group.startswith("history") and not w.is_finished for w in pilot.app.workers)  # noqa: E731
    await pilot.pause(0.1)
    await wait_for(pilot, lambda: not reading(), what="the saved runs read")
    await pilot.pause(0.1)
    await drawn(pilot)


def bench_app(runs: Path):  # type: ignore[no-untyped-def]
    clock = FakeClock()
    sources = demo_sources(clock)
    app = make_app(Config(bench=BenchConfig(results_dir=str(runs))), sources=sources, start_polling=False)
    app.bench.launcher = FakeLaunch
    app.bench.clock = FakeClock(EPOCH + 60)
    return app, sources, clock


@pytest.mark.parametrize("size", SIZES)
def test_bench_form(snap_compare, size) -> None:  # type: ignore[no-untyped-def]
    app, sources, clock = bench_app(RUNS_ROOT / "form")

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        feed(app, sources, clock, 5)
        await pilot.press("b")
        await pilot.pause(0.3)
        await drawn(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_bench_mid_run(snap_compare, size) -> None:  # type: ignore[no-untyped-def]
    app, sources, clock = bench_app(RUNS_ROOT / "mid-run")

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        feed(app, sources, clock, 90)
        await pilot.press("b")
        await pilot.pause()
        app.bench.start(PLAN)
        app.screen.sync_view()
        events = canned_run()
        post(app, *events)
        # every event folded in and both plots rebuilt from them (a live plot rebuilds at most once a second)
        seconds = sum(isinstance(event, Tick) for event in events)
        last_tick = max(i for i, event in enumerate(events) if isinstance(event, Tick))
        open_items = sum(event.items for event in events[last_tick:] if isinstance(event, RequestsDigest))  # the second still open
        cells = sum(isinstance(event, CellFinished) for event in events)
        throughput, latency = app.screen.query_one(ThroughputPlot), app.screen.query_one(LatencyThroughputPlot)

        def plotted() -> bool:
            second, cell = throughput.drawn_inputs, latency.drawn_inputs
            return (isinstance(second, ThroughputInputs) and len(second.points) == seconds and second.open_items == open_items
                    and isinstance(cell, LatencyInputs) and sum(len(series.summaries) for series in cell.series) == cells)

        await wait_for(pilot, plotted, what="both plots drawn from every event")
        await drawn(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def saved_runs(root: Path) -> Path:
    """Two finished runs of the same sweep (the second on a faster build), written as a run writes them."""
    runs = root / "runs"
    shutil.rmtree(runs, ignore_errors=True)
    plan = BenchPlan("embed", "tei", "http://127.0.0.1:8080", batch_sizes=(8, 32), concurrencies=(1, 4), duration_s=20.0, service="tei-embedder")
    for n, (run_id, version, speed) in enumerate((("20260920-091500-embed-tei-1a2b", "TEI 1.7.4", 1.0), ("20260921-101500-embed-tei-3f2a", "TEI 1.8.0", 1.22))):
        directory = runs / run_id
        directory.mkdir(parents=True)
        store = RunStore(directory, run_id)
        store._open_files()
        started = EPOCH - 86_400 * (1 - n)
        env = {"spark_tui": "0.1.0", "hostname": "spark-4a2c", "machine": "aarch64", "cpus": 20}
        store.start(plan.describe(), env, plan.cells(), started)
        store.set_server(ServerInfo("tei", plan.url, True, health="ok", server=version, model="BAAI/bge-m3", max_batch=32, dimension=1024))
        rates = [(310.0, 0.0255, 0.0301, 38, 61), (1180.0, 0.027, 0.041, 88, 121), (2450.0, 0.051, 0.062, 71, 104), (5120.0, 0.098, 0.13, 97, 131)]
        summaries = []
        t = 2.0
        for spec, (rate, p50, p99, util, power) in zip(plan.cells(), rates):
            for second in range(20):
                t += 1
                items = rate * speed * (1 + ((second * 37) % 11 - 5) / 100)
                store.add_second(t, spec, int(items / spec.batch), int(items), None, 0, p50 * 1000, p99 * 1000, None)
            summaries.append(summary(spec, rate * speed, p50 / speed, p99 / speed, util, power))
        store.set_summaries(summaries)
        store.finish("completed", None, started + t)
        store.close()
    return runs


@pytest.mark.parametrize("size", SIZES)
def test_history(snap_compare, size) -> None:  # type: ignore[no-untyped-def]
    app, sources, clock = bench_app(saved_runs(RUNS_ROOT / f"history-{size[0]}"))

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        feed(app, sources, clock, 3)
        await pilot.press("h")
        await history_read(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_one_saved_run(snap_compare, size) -> None:  # type: ignore[no-untyped-def]
    app, sources, clock = bench_app(saved_runs(RUNS_ROOT / f"run-{size[0]}"))

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        feed(app, sources, clock, 3)
        await pilot.press("h")
        await history_read(pilot)
        await pilot.press("enter")
        await history_read(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_compare_two_runs(snap_compare, size) -> None:  # type: ignore[no-untyped-def]
    app, sources, clock = bench_app(saved_runs(RUNS_ROOT / f"compare-{size[0]}"))

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        feed(app, sources, clock, 3)
        await pilot.press("h")
        await history_read(pilot)
        await pilot.press("down", "space", "up", "space", "c")
        await history_read(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


# --- generation -------------------------------------------------------------------------------

@pytest.mark.parametrize("size", SIZES)
def test_bench_generation_form(snap_compare, size) -> None:  # type: ignore[no-untyped-def]
    """The form for a text generation server: lengths, concurrency, SLO instead of batches and payloads."""
    from spark_tui.ui.bench.targets import BenchTarget

    app, sources, clock = bench_app(RUNS_ROOT / "gen-form")

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        feed(app, sources, clock, 5)
        app.bench.prepare(BenchTarget("vllm", "vllm", "http://127.0.0.1:8000", "up", "Qwen/Qwen3-32B-FP8"))
        await pilot.press("b")
        await wait_for(pilot, lambda: bool(app.screen.query("#form-input-row")) and app.screen.query_one("#form-input-row").display,
                       what="the generation fields")
        app.screen.query_one("#form-slo").value = "ttft=2s,itl=50ms"
        await pilot.pause(0.3)
        await drawn(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_bench_generation_mid_run(snap_compare, size) -> None:  # type: ignore[no-untyped-def]
    from gen_bench_support import GEN_PLAN, canned_gen_run

    app, sources, clock = bench_app(RUNS_ROOT / "gen-mid-run")

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        feed(app, sources, clock, 90)
        await pilot.press("b")
        await pilot.pause()
        app.bench.start(GEN_PLAN)
        app.screen.sync_view()
        events = canned_gen_run()
        post(app, *events)
        seconds = sum(isinstance(event, Tick) for event in events)
        throughput = app.screen.query_one(ThroughputPlot)

        def plotted() -> bool:
            second = throughput.drawn_inputs
            return isinstance(second, ThroughputInputs) and len(second.points) == seconds and second.unit == "tokens"

        await wait_for(pilot, plotted, what="the throughput plot drawn from every event")
        await drawn(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_one_saved_generation_run(snap_compare, size) -> None:  # type: ignore[no-untyped-def]
    from gen_bench_support import saved_gen_run

    runs = RUNS_ROOT / f"gen-run-{size[0]}" / "runs"
    shutil.rmtree(runs, ignore_errors=True)
    saved_gen_run(runs, started=EPOCH - 3600)
    app, sources, clock = bench_app(runs)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        feed(app, sources, clock, 3)
        await pilot.press("h")
        await history_read(pilot)
        await pilot.press("enter")
        await history_read(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
