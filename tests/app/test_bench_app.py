"""The benchmark and history screens driven by Pilot, fed canned events through the real
message path (no process, no server): form, live view, bindings, demo mode, one key from a service."""

from __future__ import annotations

from pathlib import Path

from bench_support import PLAN, SPECS, FakeLaunch, canned_run, fill_form, post
from probe_support import feed_demo_probes
from support import wait_for
from support import FakeClock, demo_sources
from textual.widgets import Input, Select, Static

from spark_tui.core.bench.plan import BenchPlan
from spark_tui.ui.bench.targets import BenchTarget
from spark_tui.models.bench import RunStarted, ServerInfo, WarmupTick
from spark_tui.core.demo.probes import DemoProbes
from spark_tui.ui.services.table import ProbeTable

from spark_tui.ui.app import make_app
from spark_tui.models.settings import BenchConfig, Config
from spark_tui.config import parse_config
from spark_tui.models.bench import RunFinished, RunResult
from spark_tui.ui.bench.screen import BenchScreen
from spark_tui.ui.bench.runs import HistoryScreen
from spark_tui.ui.bench.form import BenchForm
from spark_tui.ui.bench.cell_table import CellTable
from spark_tui.ui.bench.plots import LatencyThroughputPlot, ThroughputPlot

SIZE = (100, 32)


def make(tmp_path: Path, config: Config | None = None, demo: bool = False):  # type: ignore[no-untyped-def]
    config = config or Config(bench=BenchConfig(results_dir=str(tmp_path)))
    app = make_app(config, sources=demo_sources(FakeClock()), start_polling=False)
    app.bench.demo = demo  # the run request says whether it came from a demo session
    app.bench.launcher = FakeLaunch
    return app


def text(app, selector: str) -> str:  # type: ignore[no-untyped-def]
    return str(app.screen.query_one(selector, Static).render())


def statuses(app) -> list[str]:  # type: ignore[no-untyped-def]
    table = app.screen.query_one(CellTable)
    return [str(table.get_cell(key.value, "status")) for key in table.rows]


def finish(app, status: str = "completed") -> None:  # type: ignore[no-untyped-def]
    """The run under way starts and ends (nothing measured), as its process would say."""
    plan: BenchPlan = app.bench.live.plan
    run_id = f"run-{app.bench._run}"
    post(app, RunStarted(run_id, f"/runs/{run_id}", ServerInfo(plan.adapter, plan.url, True), plan.cells()),
         RunFinished(RunResult(run_id, f"/runs/{run_id}", status, None, None, (), 1.0, 2.0)))


def field(app, name: str) -> str:  # type: ignore[no-untyped-def]
    return app.screen.query_one(f"#form-{name}", Input).value


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
        from spark_tui.ui.messages import BenchEventArrived

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


async def test_b_on_a_service_after_a_run_opens_that_services_form_and_n_keeps_a_plan_only_for_its_target(tmp_path: Path) -> None:
    """The audit's repro: finish a run, `s`, select ollama, `b`: the form for ollama with its
    defaults, not the last run (and not its URL and adapter under ollama's name)."""
    clock = FakeClock()
    probes = DemoProbes(clock=clock)
    app = make_app(Config(bench=BenchConfig(results_dir=str(tmp_path))), sources=demo_sources(clock), start_polling=False, probes=probes)
    app.bench.launcher = FakeLaunch
    async with app.run_test(size=SIZE) as pilot:
        feed_demo_probes(app, probes)
        await pilot.press("s")
        table = app.screen.query_one(ProbeTable)
        await wait_for(pilot, lambda: table.row_count == 8, what="the demo services")
        tei_url = app.probes.state.statuses["tei"].spec.url
        ollama_url = app.probes.state.statuses["ollama"].spec.url
        table.select("tei")
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BenchScreen) and field(app, "url") == tei_url, what="tei's form")
        await pilot.pause(0.1)  # the form's own changes settled: still tei (not the list's first entry, nor "custom URL")
        assert app.screen.query_one("#form-service", Select).value == "tei" and field(app, "url") == tei_url
        app.screen.query_one("#form-batch_sizes", Input).value = "1,8"
        app.screen.query_one("#form-url", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.bench.live is not None)
        assert app.bench.launch.request.plan.service == "tei"
        finish(app)
        await wait_for(pilot, lambda: not app.bench.running and statuses(app) == ["not run"] * 4)
        # n: the same target, so the last plan (its sweep) comes back
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen.query_one("#bench-views").current == "bench-setup")
        await wait_for(pilot, lambda: field(app, "batch_sizes") == "1,8", what="the last plan")
        assert field(app, "url") == tei_url and app.screen.query_one("#form-service", Select).value == "tei"
        app.screen.query_one("#form-url", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.bench.live is not None)
        finish(app, "cancelled")
        await wait_for(pilot, lambda: not app.bench.running and statuses(app) == ["not run"] * 4)
        # another service: its form and defaults, the finished run off the screen
        await pilot.press("s")
        app.screen.query_one(ProbeTable).select("ollama")
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BenchScreen) and app.screen.query_one("#bench-views").current == "bench-setup",
                       what="the form, not the finished run")
        await wait_for(pilot, lambda: field(app, "url") == ollama_url, what="ollama's form")
        assert app.screen.query_one("#form-adapter", Select).value == "ollama"
        assert app.screen.query_one("#form-service", Select).value == "ollama"
        assert field(app, "batch_sizes") == "1,8,32" and app.bench.live is None
        assert not app.screen.check_action("new_run", ())
        await pilot.press("n")  # typed into the URL field: nothing else happens
        assert app.screen.query_one("#bench-views").current == "bench-setup"
        await pilot.press("escape", "h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen))


async def test_n_after_a_run_gives_the_form_of_a_target_chosen_during_it(tmp_path: Path) -> None:
    app = make(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BenchScreen))
        app.bench.start(PLAN)
        app.screen.sync_view()
        app.bench.prepare(BenchTarget("ollama", "ollama", "http://127.0.0.1:11434"))  # chosen while it ran
        assert app.bench.live is not None  # the run under way stays on screen
        finish(app)
        await wait_for(pilot, lambda: not app.bench.running and statuses(app) == ["not run"] * 4)
        await pilot.press("n")
        await wait_for(pilot, lambda: field(app, "url") == "http://127.0.0.1:11434", what="ollama's form")
        assert app.screen.query_one("#form-adapter", Select).value == "ollama"
        assert app.screen.query_one("#form-batch_sizes", Input).value == "1,8,32"


def hint(app, name: str) -> str:  # type: ignore[no-untyped-def]
    return text(app, f"#form-{name}-hint")


async def test_the_form_has_path_body_and_pages_with_the_services_defaults(tmp_path: Path) -> None:
    config = parse_config(f"""
[bench]
results_dir = "{tmp_path}"
[[probes]]
name = "infinity"
kind = "infinity"
url = "http://127.0.0.1:7997"
[[probes]]
name = "nim"
kind = "nim"
url = "http://127.0.0.1:8000"
[[probes]]
name = "docs"
kind = "docling"
url = "http://127.0.0.1:5001"
""")
    app = make(tmp_path, config)
    async with app.run_test(size=SIZE) as pilot:
        app.action_bench_service("infinity")
        await wait_for(pilot, lambda: isinstance(app.screen, BenchScreen) and app.screen.query(BenchForm))
        await wait_for(pilot, lambda: field(app, "path") == "/embeddings", what="Infinity's path")
        assert field(app, "extra_body") == "" and not app.screen.query_one("#form-pages-row").display
        assert hint(app, "batch") == "texts per request"
        adapter = app.screen.query_one("#form-adapter", Select)
        adapter.value = "tei"  # another API: Infinity's path does not apply to it
        await wait_for(pilot, lambda: field(app, "path") == "", what="the path cleared")
        assert app.screen.query_one("#form-path", Input).placeholder == "/embed"
        adapter.value = "openai"  # back: the service's own path again
        await wait_for(pilot, lambda: field(app, "path") == "/embeddings", what="the path back")

        app.action_bench_service("nim")
        await wait_for(pilot, lambda: field(app, "extra_body") == '{"input_type": "passage"}', what="NIM's input_type")
        assert field(app, "path") == ""
        app.screen.query_one("#form-extra_body", Input).value = "{input_type: query}"
        await pilot.pause()
        assert "extra body: not valid JSON" in text(app, "#form-summary")
        app.screen.query_one("#form-url", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert "extra body: not valid JSON" in text(app, "#form-problem") and app.bench.live is None
        app.screen.query_one("#form-extra_body", Input).value = '{"input_type": "query"}'
        app.screen.query_one("#form-path", Input).value = "/v1/embeddings"
        await pilot.pause()
        app.screen.query_one("#form-url", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.bench.live is not None)
        plan = app.bench.launch.request.plan
        assert plan.service == "nim" and plan.options.path == "/v1/embeddings" and plan.options.extra_body == {"input_type": "query"}
        finish(app)
        await wait_for(pilot, lambda: not app.bench.running)

        app.action_bench_service("docs")
        await wait_for(pilot, lambda: app.screen.query_one("#bench-views").current == "bench-setup" and field(app, "pages") == "4", what="docling's pages")
        assert app.screen.query_one("#form-pages-row").display
        assert hint(app, "batch") == "documents per request, 4 pages each"
        assert hint(app, "pages") == "20 or more go through the async API"
        app.screen.query_one("#form-pages", Input).value = "40"
        await wait_for(pilot, lambda: hint(app, "batch") == "documents per request, 40 pages each", what="the hint follows the pages")
        app.screen.query_one("#form-pages", Input).value = "0"
        await pilot.pause()
        assert "pages per document: 0 is out of range" in text(app, "#form-summary")
        app.screen.query_one("#form-pages", Input).value = "40"
        await pilot.pause()
        app.screen.query_one("#form-url", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.bench.live is not None)
        assert app.bench.launch.request.plan.payload.doc_pages == 40


async def test_the_cell_table_fits_120_columns_and_keeps_the_essentials_at_80(tmp_path: Path) -> None:
    essentials = ["index", "batch", "conc", "status", "items", "p50", "p90", "p99", "errors"]
    more = ["index", "batch", "conc", "status", "items", "tokens", "mean", "p50", "p90", "p99", "errors", "gpu", "power", "avail"]
    for width, expected in ((120, more), (80, essentials)):  # one payload: no payload column; p95, req/s, max go first
        app = make(tmp_path)
        async with app.run_test(size=(width, 40)) as pilot:
            await pilot.press("b")
            await wait_for(pilot, lambda: isinstance(app.screen, BenchScreen))
            app.bench.start(PLAN)
            app.screen.sync_view()
            post(app, *canned_run())
            await wait_for(pilot, lambda: statuses(app)[:2] == ["ok", "ok"], what="the finished cells drawn")
            await pilot.pause()
            table = app.screen.query_one(CellTable)
            assert list(table.shown_keys) == expected, width
            # every column on screen: nothing cut off, no sideways scrolling
            assert table.virtual_size.width <= table.scrollable_content_region.width, (width, table.virtual_size, table.size)
            assert [str(c.label) for c in table.columns.values()][-1] == ("avail GiB" if width == 120 else "errors")
            assert str(table.get_cell("1", "items")) == "1,180" and str(table.get_cell("1", "p50")) == "27.0"
            assert str(table.get_cell("1", "p90")) == "36.9"
            if width == 120:
                assert str(table.get_cell("1", "tokens")) == "212k" and str(table.get_cell("1", "mean")) == "28.1"


async def test_while_a_warm_up_request_waits_the_screen_says_so(tmp_path: Path) -> None:
    app = make(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BenchScreen))
        app.bench.start(PLAN)
        app.screen.sync_view()
        await wait_for(pilot, lambda: "starting" in text(app, "#bench-progress"))
        first, second = WarmupTick(12.4, 120.0, 1, 2), WarmupTick(3.0, 120.0, 2, 2)
        post(app, first)  # the wording is the event's own (spark_tui.core.bench.events)
        await wait_for(pilot, lambda: first.text() in text(app, "#bench-progress"), what="the warm-up wait drawn")
        assert "12 s" in first.text() and "x cancels" in text(app, "#bench-progress")
        post(app, second)
        await wait_for(pilot, lambda: second.text() in text(app, "#bench-progress"), what="the second warm-up request")
        post(app, canned_run()[0])  # RunStarted: the sweep begins
        await wait_for(pilot, lambda: second.text() not in text(app, "#bench-progress"), what="the warm-up line gone")
        assert "cell 0/4" in text(app, "#bench-progress")


async def test_the_form_opens_on_the_url_and_typing_in_it_never_fires_screen_keys(tmp_path: Path) -> None:
    """#14: the URL field has the focus when the form opens; on a Select (one tab back) the app's
    letter keys (h opens the runs, p pauses) stay in the form; esc hands the keys back."""
    app = make(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BenchScreen) and app.focused is not None and app.focused.id == "form-url", what="the URL field focused")
        await pilot.press("shift+tab")
        await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "form-service", what="the service field focused")
        await pilot.press("h", "p", "tab")
        await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "form-url", what="the URL field again")
        assert isinstance(app.screen, BenchScreen) and not app.paused, "h and p stayed in the form"
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.focused is not None and app.focused.id == "form-start", what="the keys handed back")
        await pilot.press("p")
        await wait_for(pilot, lambda: app.paused, what="p to pause again")


async def test_the_runs_screens_clock_follows_the_samples(tmp_path: Path) -> None:
    """#14: the runs screen's status bar said "sampled 17:31:05" while time went on."""
    from support import feed

    from spark_tui.ui.widgets.status_bar import StatusBar

    clock = FakeClock()
    app = make_app(Config(bench=BenchConfig(results_dir=str(tmp_path))), sources=demo_sources(clock), start_polling=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), what="the runs screen")
        bar = app.screen.query_one(StatusBar)
        feed(app, app.sources, clock, 2)
        await wait_for(pilot, lambda: bar.sampled_at is not None, what="a first sample time")
        first = bar.sampled_at
        feed(app, app.sources, clock, 5)
        await wait_for(pilot, lambda: bar.sampled_at is not None and bar.sampled_at > first, what="the clock to move on")


# --- generation ---------------------------------------------------------------------------------

def shown(app, selector: str) -> bool:  # type: ignore[no-untyped-def]
    return bool(app.screen.query_one(selector).display)


async def test_a_generation_adapter_swaps_batches_and_payloads_for_lengths_and_an_slo(tmp_path: Path) -> None:
    app = make(tmp_path, Config(bench=BenchConfig(results_dir=str(tmp_path), duration=10)))
    async with app.run_test(size=SIZE) as pilot:
        await fill_form(pilot, app, url="http://127.0.0.1:8000")
        assert shown(app, "#form-batch-row") and not shown(app, "#form-input-row") and not shown(app, "#form-slo-row")
        await fill_form(pilot, app, adapter="openai-chat")
        await wait_for(pilot, lambda: shown(app, "#form-input-row"), what="the generation fields")
        assert all(shown(app, row) for row in ("#form-preset-row", "#form-output-row", "#form-slo-row"))
        assert not shown(app, "#form-batch-row") and not shown(app, "#form-payload-row")
        assert (field(app, "input_tokens"), field(app, "output_tokens"), field(app, "concurrencies")) == ("512", "128", "1,4,16")
        assert "3 cells (1 length × 3 concurrency), ≈ 30s plus warm-up" in text(app, "#form-summary")
        app.screen.query_one("#form-input_tokens", Input).value = "512,2048"
        await wait_for(pilot, lambda: "6 cells (2 lengths × 3 concurrency), ≈ 1m" in text(app, "#form-summary"), what="the cells counted")
        app.screen.query_one("#form-slo", Input).value = "ttft=soon"
        await wait_for(pilot, lambda: "SLO: 'ttft=soon'" in text(app, "#form-summary"), what="the SLO named")
        app.screen.query_one("#form-slo", Input).value = "ttft=2s,itl=50ms"
        app.screen.query_one("#form-preset", Select).value = "prefill-decode"
        await wait_for(pilot, lambda: "27 cells (9 lengths × 3 concurrency)" in text(app, "#form-summary"), what="the preset's cells")
        assert app.screen.query_one("#form-input_tokens", Input).disabled
        app.screen.query_one("#form-preset", Select).value = "lists"
        app.screen.query_one("#form-concurrencies", Input).value = "2"
        await wait_for(pilot, lambda: "2 cells (2 lengths × 1 concurrency)" in text(app, "#form-summary"), what="the lists again")
        app.screen.query_one("#form-url", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.bench.live is not None)
        plan = app.bench.launch.request.plan
        assert (plan.kind, plan.adapter, plan.lengths, plan.concurrencies) == ("generate", "openai-chat", ((512, 128), (2048, 128)), (2,))
        assert plan.slo == (("ttft", 2.0), ("itl", 0.05))
        finish(app)
        await wait_for(pilot, lambda: not app.bench.running)
        await pilot.press("n")  # the same target: the generation plan back in the form
        await wait_for(pilot, lambda: app.screen.query_one("#bench-views").current == "bench-setup" and field(app, "input_tokens") == "512,2048",
                       what="the last plan")
        assert field(app, "slo") == "ttft=2s,itl=50ms" and app.screen.query_one("#form-adapter", Select).value == "openai-chat"
        app.screen.query_one("#form-adapter", Select).value = "tei"  # back to embeddings: their fields and defaults
        await wait_for(pilot, lambda: shown(app, "#form-batch-row") and not shown(app, "#form-input-row"), what="the embedding fields")
        assert field(app, "batch_sizes") == "1,8,32" and "1 payload × 3 batch" in text(app, "#form-summary")
        app.screen.query_one("#form-adapter", Select).value = "generate:ollama"  # Ollama's chat, not its embeddings
        await wait_for(pilot, lambda: shown(app, "#form-input-row"), what="the generation fields again")
        assert app.screen.query_one(BenchForm).plan().adapter == "ollama" and app.screen.query_one(BenchForm).plan().kind == "generate"


async def test_b_on_an_llm_service_opens_a_generation_benchmark(tmp_path: Path) -> None:
    """SGLang only generates; the demo's vLLM reports Qwen3 (generation) and its Ollama a loaded
    nomic-embed-text (embeddings): `b` on each row gives the benchmark its model is for."""
    from types import SimpleNamespace

    from textual.screen import Screen

    class WithSelection(Screen):
        def selected(self):  # type: ignore[no-untyped-def]
            return SimpleNamespace(spec=SimpleNamespace(kind="sglang", url="http://127.0.0.1:30000", name="sglang"))

    clock = FakeClock()
    probes = DemoProbes(clock=clock)
    app = make_app(Config(bench=BenchConfig(results_dir=str(tmp_path))), sources=demo_sources(clock), start_polling=False, probes=probes)
    app.bench.launcher = FakeLaunch
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(WithSelection())
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BenchScreen) and field(app, "url") == "http://127.0.0.1:30000", what="sglang's form")
        assert app.screen.query_one("#form-adapter", Select).value == "openai-chat" and field(app, "input_tokens") == "512"
        assert shown(app, "#form-input-row") and not shown(app, "#form-batch-row")
        feed_demo_probes(app, probes)
        await pilot.press("escape", "s")
        table = app.screen.query_one(ProbeTable)
        await wait_for(pilot, lambda: table.row_count == 8, what="the demo services")
        assert "Qwen" in (app.probes.state.statuses["vllm"].result.model or "")
        table.select("vllm")
        await pilot.press("b")
        vllm_url = app.probes.state.statuses["vllm"].spec.url
        await wait_for(pilot, lambda: isinstance(app.screen, BenchScreen) and field(app, "url") == vllm_url, what="vllm's form")
        await pilot.pause(0.1)
        assert app.screen.query_one("#form-adapter", Select).value == "openai-chat" and app.screen.query_one("#form-service", Select).value == "vllm"
        assert "3 cells (1 length × 3 concurrency)" in text(app, "#form-summary")
        app.screen.query_one("#form-url", Input).focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.bench.live is not None)
        assert (app.bench.launch.request.plan.kind, app.bench.launch.request.plan.service) == ("generate", "vllm")
        finish(app)
        await wait_for(pilot, lambda: not app.bench.running)
        await pilot.press("s")
        app.screen.query_one(ProbeTable).select("ollama")
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BenchScreen) and field(app, "url") == app.probes.state.statuses["ollama"].spec.url,
                       what="ollama's form")
        assert app.screen.query_one("#form-adapter", Select).value == "ollama" and field(app, "batch_sizes") == "1,8,32"


async def test_the_live_view_of_a_generation_run_streams_tokens_ttft_and_itl(tmp_path: Path) -> None:
    from gen_bench_support import GEN_PLAN, canned_gen_run

    for width, more in ((80, []), (120, ["user", "ttft99", "itl99"])):
        app = make(tmp_path)
        app.bench.clock = FakeClock()
        async with app.run_test(size=(width, 40)) as pilot:
            await pilot.press("b")
            await wait_for(pilot, lambda: isinstance(app.screen, BenchScreen))
            app.bench.start(GEN_PLAN)
            app.screen.sync_view()
            post(app, *canned_gen_run())
            await wait_for(pilot, lambda: statuses(app) == ["ok", "ok", "running 35%", "waiting"], what="the events drawn")
            progress = text(app, "#bench-progress")
            assert "cell 3/4 in=2048 out=128 c=1" in progress and "tokens/s" in progress, progress
            tick = app.bench.live.tick
            assert f"TTFT {tick.ttft_p50_s * 1000:.1f} ms/{tick.ttft_p99_s * 1000:.1f} ms" in progress
            assert f"ITL {tick.itl_p50_s * 1000:.1f} ms/{tick.itl_p99_s * 1000:.1f} ms" in progress
            header = text(app, "#bench-header")
            assert "in/out 512/128, 2048/128" in header and "SLO ttft 2.00 s itl 50.0 ms" in header and "vLLM 0.10.2" in header
            assert "calibrated" in text(app, "#bench-notices") or any("calibrated" in n.message for n in app.bench.live.notices)
            await pilot.pause()
            table = app.screen.query_one(CellTable)
            essentials = ["index", "in", "out", "conc", "status", "items", "ttft50", "itl50", "errors"]
            assert all(key in table.shown_keys for key in essentials + more), (width, table.shown_keys)
            assert table.virtual_size.width <= table.scrollable_content_region.width, (width, table.virtual_size)
            assert str(table.get_cell("1", "items")) == "402" and str(table.get_cell("1", "ttft50")) == "118"
            assert str(table.get_cell("1", "itl50")) == "19.3"
            post(app, RunFinished(RunResult("run", "/runs/run", "completed", None, None,
                                            tuple(c.summary for c in app.bench.live.cells.values() if c.summary), 1.0, 50.0)))
            await wait_for(pilot, lambda: "completed" in text(app, "#bench-progress"), what="the end drawn")
            assert "best 402 tokens/s (in=512 out=128 c=8)" in text(app, "#bench-progress")
            plot = app.screen.query_one(LatencyThroughputPlot)
            assert plot.display or width < 130


async def test_the_runs_screen_lists_opens_and_compares_generation_runs(tmp_path: Path) -> None:
    from gen_bench_support import saved_gen_run

    from spark_tui.ui.bench.runs import CompareScreen, RunScreen

    saved_gen_run(tmp_path, "20260920-111500-generate-openai-chat-0001", 1.0, 1_760_000_000.0)
    saved_gen_run(tmp_path, "20260921-111500-generate-openai-chat-0002", 1.5, 1_760_086_400.0)
    app = make(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen) and app.screen.loaded and app.screen.runs, what="the runs read")
        history = app.screen
        from textual.widgets import DataTable

        runs = history.query_one(DataTable)
        assert runs.row_count == 2
        assert str(runs.get_cell("20260921-111500-generate-openai-chat-0002", "best")) == "603 tokens"
        detail = text(app, "#history-detail")
        assert "in/out 512/128, 2048/128 × concurrency 1,8" in detail and "SLO ttft 2.00 s itl 50.0 ms" in detail
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RunScreen) and app.screen.query_one(CellTable).row_count == 4, what="the run opened")
        table = app.screen.query_one(CellTable)
        assert {"in", "out", "items", "ttft50", "ttft99", "itl50", "goodput"} <= set(table.shown_keys), table.shown_keys
        assert str(table.get_cell("1", "items")) == "603" and str(table.get_cell("1", "goodput")) == "99%"
        await wait_for(pilot, lambda: app.screen.query_one(ThroughputPlot).drawn_inputs is not None, what="the throughput plot")
        assert app.screen.query_one(ThroughputPlot).drawn_inputs.unit == "tokens"
        assert {s.label for s in app.screen.query_one(LatencyThroughputPlot).drawn_inputs.series} == {"in 512 out 128", "in 2048 out 128"}
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is history)
        await pilot.press("down", "space", "up", "space", "c")
        await wait_for(pilot, lambda: isinstance(app.screen, CompareScreen))
        compare = app.screen.query_one("#compare-table", DataTable)
        await wait_for(pilot, lambda: compare.row_count == 4, what="the cells matched")
        assert [str(c.label) for c in compare.columns.values()][:4] == ["In/out", "Conc", "A tokens/s", "B tokens/s"]
        first = next(iter(compare.rows)).value
        assert str(compare.get_cell(first, "payload")) == "512/128" and str(compare.get_cell(first, "ratio")) == "1.50×"
