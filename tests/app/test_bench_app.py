"""The benchmark and history screens driven by Pilot, fed canned events through the real
message path (no process, no server): form, live view, bindings, demo mode, one key from a service."""

from __future__ import annotations

from pathlib import Path

from bench_support import PLAN, SPECS, FakeLaunch, canned_run, fill_form, post
from support import wait_for
from support import FakeClock, demo_sources
from textual.widgets import Input, Select, Static

from spark_tui.app import make_app
from spark_tui.config import BenchConfig, Config, parse_config
from spark_tui.models.bench import RunFinished, RunResult
from spark_tui.screens.bench import BenchScreen
from spark_tui.screens.history import HistoryScreen
from spark_tui.widgets.bench_form import BenchForm
from spark_tui.widgets.cell_table import CellTable
from spark_tui.widgets.throughput_plot import LatencyThroughputPlot, ThroughputPlot

SIZE = (100, 32)


def make(tmp_path: Path, config: Config | None = None, demo: bool = False):  # type: ignore[no-untyped-def]
    config = config or Config(bench=BenchConfig(results_dir=str(tmp_path)))
    app = make_app(config, sources=demo_sources(FakeClock()), start_polling=False)
    app.sources.demo = demo
    app.bench.launcher = FakeLaunch
    return app


def text(app, selector: str) -> str:  # type: ignore[no-untyped-def]
    return str(app.screen.query_one(selector, Static).render())


def statuses(app) -> list[str]:  # type: ignore[no-untyped-def]
    table = app.screen.query_one(CellTable)
    return [str(table.get_cell(key.value, "4")) for key in table.rows]


async def test_one_key_from_a_service_fills_the_form(tmp_path: Path) -> None:
    config = parse_config(f"""
[bench]
results_dir = "{tmp_path}"
duration = 7
[[probes]]
name = "embedder"
kind = "tei"
url = "http://127.0.0.1:18080"
[[probes]]
name = "db"
kind = "postgres"
""")
    app = make(tmp_path, config)
    async with app.run_test(size=SIZE) as pilot:
        app.action_bench_service("embedder")
        await wait_for(pilot, lambda: isinstance(app.screen, BenchScreen) and app.screen.query(BenchForm))
        form = app.screen.query_one(BenchForm)
        await wait_for(pilot, lambda: form.query_one("#form-url", Input).value == "http://127.0.0.1:18080", what="the form filled")
        assert form.query_one("#form-adapter", Select).value == "tei"
        assert form.query_one("#form-service", Select).value == "embedder"
        assert form.query_one("#form-seconds", Input).value == "7"
        assert "6 cells (1 payload × 3 batch × 2 concurrency), ≈ 42s plus warm-up" in text(app, "#form-summary")
        app.action_bench_service("db")
        await pilot.pause(0.1)
        assert any("no benchmark for 'db'" in n.message for n in app._notifications)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.bench.live is not None)
        launch = app.bench.launch
        assert isinstance(launch, FakeLaunch) and launch.started
        assert launch.request.plan.service == "embedder" and launch.request.plan.adapter == "tei"
        assert launch.request.results_dir == str(tmp_path) and not launch.request.demo


async def test_typing_another_url_makes_the_target_a_custom_one(tmp_path: Path) -> None:
    config = parse_config(f"""
[bench]
results_dir = "{tmp_path}"
[[probes]]
name = "embedder"
kind = "tei"
url = "http://127.0.0.1:18080"
""")
    app = make(tmp_path, config)
    async with app.run_test(size=SIZE) as pilot:
        app.action_bench_service("embedder")
        await wait_for(pilot, lambda: isinstance(app.screen, BenchScreen) and app.screen.query(BenchForm))
        await pilot.pause(0.1)
        form = app.screen.query_one(BenchForm)
        url = form.query_one("#form-url", Input)
        url.value = "http://127.0.0.1:18080/"  # the same server: still the service
        await pilot.pause()
        assert form.query_one("#form-service", Select).value == "embedder"
        url.value = "http://127.0.0.1:19999"
        await pilot.pause()
        assert form.query_one("#form-service", Select).value == "__custom__"
        assert form.query_one("#form-adapter", Select).value == "tei" and form.query_one("#form-seconds", Input).value
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.bench.live is not None)
        plan = app.bench.launch.request.plan
        assert plan.service is None and plan.url == "http://127.0.0.1:19999" and plan.adapter == "tei"


async def test_a_bad_field_is_named_and_nothing_starts(tmp_path: Path) -> None:
    app = make(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await fill_form(pilot, app, url="http://127.0.0.1:9", batch_sizes="1,zero")
        assert "batch sizes: 'zero' is not a whole number" in text(app, "#form-summary")
        app.screen.query_one("#form-url", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert "batch sizes: 'zero'" in text(app, "#form-problem") and app.bench.live is None
        assert not app.screen.check_action("cancel_run", ()) and not app.screen.check_action("new_run", ())


async def test_the_live_view_follows_the_run_and_x_cancels(tmp_path: Path) -> None:
    app = make(tmp_path)
    app.bench.clock = FakeClock()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BenchScreen))
        app.bench.start(PLAN)
        app.screen.sync_view()
        post(app, *canned_run())
        await wait_for(pilot, lambda: app.bench.live.tick is not None and app.bench.live.tick.t >= 49)
        await wait_for(pilot, lambda: statuses(app) == ["ok", "ok", "running 35%", "waiting"], what="the events drawn")
        progress = text(app, "#bench-progress")
        assert "cell 3/4 text b=32 c=1" in progress and "texts/s" in progress and "6× HTTP 429" in progress
        notices = text(app, "#bench-notices")
        assert "server overloaded (HTTP 429), backing off" in notices and "TEI caps batches" in notices
        header = text(app, "#bench-header")
        assert "tei-embedder" in header and "TEI 1.8.0" in header and "model BAAI/bge-m3" in header and "max batch 32" in header
        assert app.screen.query_one(ThroughputPlot).display
        await pilot.press("x")
        assert app.bench.launch.cancelled and "cancelling" in app.bench.live.notices[-1].message
        post(app, RunFinished(RunResult("run", "/runs/run", "cancelled", "cancelled; 3 of 4 cells measured", None,
                                        tuple(c.summary for c in app.bench.live.cells.values() if c.summary), 1.0, 50.0)))
        await wait_for(pilot, lambda: statuses(app) == ["ok", "ok", "not run", "not run"], what="the end drawn")
        assert not app.bench.running
        assert "cancelled" in text(app, "#bench-progress") and "best 1,180 texts/s (text b=8 c=4)" in text(app, "#bench-progress")
        assert app.screen.query_one(LatencyThroughputPlot).display  # the run ended: its latency plot comes forward
        await pilot.press("v")
        assert app.screen.query_one(ThroughputPlot).display and not app.screen.query_one(LatencyThroughputPlot).display
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen.query_one("#bench-views").current == "bench-setup")
        assert app.screen.query_one("#form-url", Input).value == PLAN.url and app.bench.live is None


async def test_a_second_run_cannot_start_while_one_runs(tmp_path: Path) -> None:
    app = make(tmp_path)
    async with app.run_test(size=SIZE):
        app.bench.start(PLAN)
        try:
            app.bench.start(PLAN)
        except Exception as exc:  # noqa: BLE001
            assert "already running" in str(exc)
        else:
            raise AssertionError("a second run started")


async def test_quitting_stops_the_run(tmp_path: Path) -> None:
    app = make(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.bench.start(PLAN)
        launch = app.bench.launch
        await pilot.press("q")
    assert launch.stopped


async def test_demo_mode_says_what_a_benchmark_measures_and_history_explains(tmp_path: Path) -> None:
    app = make(tmp_path / "runs", demo=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BenchScreen))
        demo = app.screen.query_one("#bench-demo", Static)
        assert demo.display and "Demo:" in str(demo.render()) and "no GPU figures" in str(demo.render())
        await pilot.press("h")  # typed into the form's URL field…
        assert isinstance(app.screen, BenchScreen)
        await pilot.press("escape", "h")  # …until escape leaves the form
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.loaded)
        assert "No saved runs yet" in text(app, "#history-detail")
        await pilot.press("c")
        assert any("Mark two runs" in n.message for n in app._notifications)


async def test_events_of_an_earlier_run_are_ignored(tmp_path: Path) -> None:
    app = make(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        app.bench.start(PLAN)
        stale = app.bench._run - 1
        from spark_tui.live_bench import BenchEventArrived

        app.post_message(BenchEventArrived(stale, canned_run()[0]))
        await pilot.pause(0.1)
        assert app.bench.live.phase == "starting" and app.bench.live.run_id is None
        post(app, canned_run()[0])
        await wait_for(pilot, lambda: app.bench.live.run_id == "20260921-101500-embed-tei-3f2a")
        assert len(app.bench.live.cells) == len(SPECS)


async def test_b_on_a_screen_with_a_selected_service_benchmarks_that_service(tmp_path: Path) -> None:
    """The Services screen's contract: `selected()` returns a probe status whose `spec` has the
    service's kind, URL and name; `b` there opens the form for it."""
    from types import SimpleNamespace

    from textual.screen import Screen

    class WithSelection(Screen):
        def selected(self):  # type: ignore[no-untyped-def]
            return SimpleNamespace(spec=SimpleNamespace(kind="ollama", url="http://127.0.0.1:11434", name="ollama"))

    app = make(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(WithSelection())
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BenchScreen) and app.screen.query(BenchForm))
        await wait_for(pilot, lambda: app.screen.query_one("#form-url", Input).value == "http://127.0.0.1:11434", what="the form filled")
        assert app.screen.query_one("#form-adapter", Select).value == "ollama"


async def test_the_palette_offers_each_service_and_the_saved_runs(tmp_path: Path) -> None:
    config = parse_config(f'[bench]\nresults_dir = "{tmp_path}"\n[[probes]]\nname = "docs"\nkind = "docling"\nurl = "http://127.0.0.1:5001"\n')
    app = make(tmp_path, config)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"benchmark docs")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, BenchScreen) and app.screen.query(BenchForm))
        await wait_for(pilot, lambda: app.screen.query_one("#form-adapter", Select).value == "docling", what="the form filled")
        assert app.screen.query_one("#form-concurrencies", Input).value == "1,2"


async def test_ctrl_c_cancels_a_run_too(tmp_path: Path) -> None:
    app = make(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BenchScreen))
        app.bench.start(PLAN)
        app.screen.sync_view()
        post(app, canned_run()[0])
        await pilot.pause(0.1)
        await pilot.press("ctrl+c")
        assert app.bench.launch.cancelled and app.is_running
