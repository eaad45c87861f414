"""The benchmark screens driven like a user, against loopback servers, with the run in its own
process: start from the form, watch it, cancel it, quit during it, a 413, history and compare."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

from bench_support import start_from_form
from support import wait_for
from servers.bench_servers import ApiServer
from support import FakeClock, demo_sources
from textual.widgets import DataTable, Input, Static

from spark_tui.ui.app import make_app
from spark_tui.core.bench.plan import BenchPlan
from spark_tui.core.bench.runner import run_benchmark
from spark_tui.core.bench.saved_runs import load_run
from spark_tui.models.settings import BenchConfig, Config
from spark_tui.ui.bench.screen import BenchScreen
from spark_tui.ui.dashboard.screen import DashboardScreen
from spark_tui.ui.screens.help import HelpScreen
from spark_tui.ui.bench.runs import CompareScreen, HistoryScreen, RunScreen
from spark_tui.ui.bench.cell_table import CellTable

SIZE = (120, 40)
ROOT = Path(__file__).resolve().parents[2]


def app_for(tmp_path: Path):  # type: ignore[no-untyped-def]
    config = Config(bench=BenchConfig(results_dir=str(tmp_path)))
    return make_app(config, sources=demo_sources(FakeClock()), start_polling=False)


def text(app, selector: str) -> str:  # type: ignore[no-untyped-def]
    return str(app.screen.query_one(selector, Static).render())


def statuses(app) -> list[str]:  # type: ignore[no-untyped-def]
    table = app.screen.query_one(CellTable)
    return [str(table.get_cell(key.value, "status")) for key in table.rows]


async def test_a_run_started_from_the_form_streams_and_ends_with_its_table(tmp_path: Path) -> None:
    with ApiServer("openai", delay_s=0.003) as server:
        app = app_for(tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await start_from_form(pilot, app, url=server.url, adapter="openai", batch_sizes="1,4", concurrencies="2", seconds="2", model="")
            assert isinstance(app.screen, BenchScreen)
            await wait_for(pilot, lambda: "texts/s · " in text(app, "#bench-progress"), timeout=20)  # a tick reached the screen
            assert "running" in statuses(app)[0] and statuses(app)[1] == "waiting"
            await wait_for(pilot, lambda: not app.bench.running, timeout=30)
            await wait_for(pilot, lambda: statuses(app) == ["ok", "ok"], what="the end drawn")
            await wait_for(pilot, lambda: "completed · 2/2 cells" in text(app, "#bench-progress"), what="the end in the progress line")
            progress = text(app, "#bench-progress")
            assert "best" in progress and str(tmp_path) in progress, progress
            run_dir = app.bench.live.run_dir
            assert not app.screen.check_action("cancel_run", ()) and app.screen.check_action("new_run", ())
    saved = load_run(run_dir)
    assert saved.status == "completed" and [s.spec.batch for s in saved.summaries] == [1, 4]
    assert saved.plan["service"] is None and saved.environment["started_from"] == "spark-tui dashboard"


async def test_x_cancels_and_what_was_measured_is_saved(tmp_path: Path) -> None:
    with ApiServer("openai", delay_s=0.003) as server:
        app = app_for(tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await start_from_form(pilot, app, url=server.url, adapter="openai", batch_sizes="1", concurrencies="1,2", seconds="60")
            await wait_for(pilot, lambda: app.bench.live.tick is not None and app.bench.live.tick.cell == 0, timeout=20)
            await pilot.press("x")
            await wait_for(pilot, lambda: not app.bench.running, timeout=10)
            await wait_for(pilot, lambda: statuses(app) == ["cancelled", "not run"], what="the end drawn")
            assert "cancelled" in text(app, "#bench-progress")
            run_dir = app.bench.live.run_dir
    saved = load_run(run_dir)
    assert saved.status == "cancelled" and saved.summaries[0].requests > 0


async def test_quitting_during_a_run_leaves_readable_results(tmp_path: Path) -> None:
    with ApiServer("openai", delay_s=0.003) as server:
        app = app_for(tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await start_from_form(pilot, app, url=server.url, adapter="openai", batch_sizes="1", concurrencies="1", seconds="60")
            await wait_for(pilot, lambda: app.bench.live.tick is not None and app.bench.live.tick.cell == 0, timeout=20)
            process = app.bench.launch.process
            await pilot.press("q")
        assert process.poll() is not None  # the run did not outlive the app
    runs = list(tmp_path.iterdir())
    assert len(runs) == 1
    saved = load_run(runs[0])
    assert saved.status == "cancelled" and saved.summaries and saved.summaries[0].requests > 0


async def test_a_batch_over_the_servers_limit_is_a_per_cell_error(tmp_path: Path) -> None:
    # TEI claims 32 in /info but refuses more than 4 per request
    with ApiServer("tei", max_batch=4, info_max_batch=32) as server:
        app = app_for(tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await start_from_form(pilot, app, url=server.url, adapter="tei", batch_sizes="2,8,16", concurrencies="1", seconds="1")
            await wait_for(pilot, lambda: not app.bench.running, timeout=30)
            await wait_for(pilot, lambda: statuses(app) == ["ok", "failed", "skipped"], what="the end drawn")
            table = app.screen.query_one(CellTable)
            assert str(table.get_cell("1", "errors")).startswith(str(app.bench.live.cells[1].summary.requests))
            notices = [n.message for n in app.bench.live.notices]
            assert any("cell 2 (text b=8 c=1): batch too large (HTTP 413) — HTTP 413" in n and "maximum allowed batch size 4" in n for n in notices)
            assert app.bench.live.result.status == "completed"


async def test_history_lists_runs_opens_one_and_compares_two(tmp_path: Path) -> None:
    for delay in (0.002, 0.010):  # the same sweep against a fast server, then a slow one
        with ApiServer("openai", delay_s=delay) as server:
            plan = BenchPlan("embed", "openai", server.url, batch_sizes=(1, 2), concurrencies=(1,), duration_s=0.6, warmup_requests=0)
            await asyncio.to_thread(run_benchmark, plan, results_dir=str(tmp_path))
        time.sleep(1.05)  # run ids carry the second they started
    app = app_for(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.loaded)
        history = app.screen
        table = history.query_one(DataTable)
        assert table.row_count == 2
        newest = history.selected()
        assert newest is not None and newest.started_at == max(r.started_at for r in history.runs.values())  # newest first
        assert "completed" in str(table.get_cell(newest.run_id, "status")) and str(table.get_cell(newest.run_id, "cells")) == "2/2"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen))
        await wait_for(pilot, lambda: app.screen.query_one(CellTable).row_count == 2)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is history)
        await pilot.press("down", "space", "up", "space")  # the older run is A, the newer B
        assert len(history.marked) == 2 and str(table.get_cell(newest.run_id, "mark")) == "✓"
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
        compare = app.screen.query_one("#compare-table", DataTable)
        await wait_for(pilot, lambda: compare.row_count == 2)
        ratios = [float(str(compare.get_cell(key.value, "ratio")).rstrip("×")) for key in compare.rows]
        assert all(0 < r < 0.7 for r in ratios), ratios  # B, against the slow server, is slower
        assert newest.run_id in str(app.screen.query_one("#compare-b", Static).render())


async def test_keys_answer_during_a_heavy_run(tmp_path: Path) -> None:
    """The run's own process keeps the app's loop free: screens change at once under load.
    (bench/bench_screen_bench.py measures the real figure in a terminal.)"""
    server = subprocess.Popen([sys.executable, str(ROOT / "bench" / "loopback_server.py")], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().split()[1])
        app = app_for(tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await start_from_form(pilot, app, url=f"http://127.0.0.1:{port}", adapter="openai", batch_sizes="1", concurrencies="16", seconds="30")
            await wait_for(pilot, lambda: app.bench.live.tick is not None and app.bench.live.tick.requests_per_s > 100, timeout=20)
            delays = []
            for key, screen in (("question_mark", HelpScreen), ("escape", BenchScreen), ("d", DashboardScreen), ("b", BenchScreen)) * 3:
                started = time.perf_counter()
                await pilot.press(key)
                await wait_for(pilot, lambda screen=screen: isinstance(app.screen, screen), timeout=5)
                delays.append(time.perf_counter() - started)
            # bounds for a shared CI machine (pytest -n 2 beside a busy runner); a loop blocked by the run would miss them
            assert sorted(delays)[len(delays) // 2] < 0.5 and max(delays) < 3.0, delays
            await pilot.press("x")
            await wait_for(pilot, lambda: not app.bench.running, timeout=10)
    finally:
        server.terminate()
        server.wait(10)


async def test_infinity_from_the_form_with_its_path_then_b_on_a_service_and_the_run_in_history(tmp_path: Path) -> None:
    """Infinity serves /embeddings (no /v1): the form's path field reaches it. After the run, `b` on
    a service opens that service's form; the finished run is in the saved runs."""
    with ApiServer("openai", path="/embeddings", delay_s=0.002) as server:
        app = app_for(tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await start_from_form(pilot, app, url=server.url, adapter="openai", batch_sizes="1,4", concurrencies="1", seconds="1",
                                  path="/embeddings", extra_body='{"input_type": "passage"}')
            await wait_for(pilot, lambda: not app.bench.running, timeout=30)
            await wait_for(pilot, lambda: statuses(app) == ["ok", "ok"], what="the end drawn")
            posts = [path for method, path in server.requests if method == "POST"]
            assert posts and set(posts) == {"/embeddings"}
            assert all(body.get("input_type") == "passage" for body in server.bodies)
            run_id = app.bench.live.run_id
            app.open_bench("ollama", "http://127.0.0.1:11434", name="ollama")  # what `b` does on a selected service
            await wait_for(pilot, lambda: app.screen.query_one("#bench-views").current == "bench-setup", what="the form")
            await wait_for(pilot, lambda: app.screen.query_one("#form-url", Input).value == "http://127.0.0.1:11434", what="ollama's form")
            assert app.screen.query_one("#form-path", Input).value == "" and app.screen.query_one("#form-extra_body", Input).value == ""
            await pilot.press("escape", "h")
            await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.loaded)
            assert run_id in app.screen.runs


async def test_a_generation_run_from_the_form_streams_tokens_and_ttft_then_opens_from_the_runs(tmp_path: Path) -> None:
    """A loopback server streaming as vLLM does (TTFT 20 ms, a token every 4 ms), benchmarked from
    the form in the run's own process: tokens/s and TTFT/ITL while it runs, the generation table
    at the end, and the run in the saved runs with its table."""
    from servers.gen_servers import GenServer

    from spark_tui.ui.bench.runs import RunScreen
    from spark_tui.ui.bench.screen import rate

    with GenServer("vllm", a_ms=20, i_ms=4) as server:
        app = app_for(tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await start_from_form(pilot, app, adapter="openai-chat", url=server.url, input_tokens="64", output_tokens="32",
                                  concurrencies="2", seconds="2", model="")
            plan = app.bench.launch.request.plan
            assert (plan.kind, plan.lengths, plan.concurrencies) == ("generate", ((64, 32),), (2,))
            await wait_for(pilot, lambda: "tokens/s · " in text(app, "#bench-progress") and "TTFT" in text(app, "#bench-progress"),
                           timeout=20, what="a tick with TTFT drawn")
            tick = app.bench.live.tick
            assert tick.items_per_s > 0 and tick.ttft_p50_s is not None and tick.itl_p50_s is not None
            await wait_for(pilot, lambda: not app.bench.running, timeout=30)
            await wait_for(pilot, lambda: statuses(app) == ["ok"], what="the end drawn")
            summary = app.bench.live.cells[0].summary
            # the timing model bounds the figures: TTFT >= 20 ms, ITL >= 4 ms (a busy machine only makes them later)
            assert 0.020 <= summary.ttft.p50 <= 0.2 and 0.0035 <= summary.itl.p50 <= 0.02
            table = app.screen.query_one(CellTable)
            assert str(table.get_cell("0", "ttft50")) == f"{summary.ttft.p50 * 1000:.1f}"
            assert f"best {rate(summary.output_tokens_per_s)} tokens/s (in=64 out=32 c=2)" in text(app, "#bench-progress")
            run_id = app.bench.live.run_id
            await pilot.press("escape", "h")
            await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen) and run_id in app.screen.runs, what="the run listed")
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.query_one(CellTable).row_count == 1, what="the run opened")
            assert {"in", "out", "items", "ttft50", "itl50"} <= set(app.screen.query_one(CellTable).shown_keys)
    saved = load_run(tmp_path / run_id)
    assert saved.status == "completed" and saved.kind == "generate" and saved.summaries[0].output_tokens_mean == 32
    assert {"run.json", "requests.jsonl", "timeseries.csv", "summary.csv"} <= {p.name for p in (tmp_path / run_id).iterdir()}
