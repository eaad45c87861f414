"""The Services screen driven by Pilot: demo services through the real message path, and real
probes against loopback servers started here (up, down, degraded, hung)."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest
from integration.probe_servers import LoopbackHttp, Reply, free_port, hung_listener
from probe_support import demo_app, engine_app, feed_demo_probes
from support import wait_for
from support import FakeClock
from spark_tui.ui.widgets.text_lines import TextLines
from textual.widgets import Static

from spark_tui.cli import main
from spark_tui.models.probes import ProbeSpec, ProbeState
from spark_tui.ui.dashboard.screen import DashboardScreen
from spark_tui.ui.screens.help import HelpScreen
from spark_tui.ui.services.detail import ProbeDetailScreen
from spark_tui.ui.services.screen import ServicesScreen
from spark_tui.core.demo.probes import DOCLING_READY_AT_S
from spark_tui.ui.services.table import ProbeTable
from spark_tui.ui.services.panel import ServicesPanel

SIZE = (224, 30)  # wide: every column (probe_table.WIDE_FROM)


def text_of(widget: Static) -> str:
    return str(widget.render())


def row_text(table: ProbeTable, name: str) -> str:
    return table.row_text(name)


def toasts(app, fragment: str) -> int:
    return sum(fragment in n.message for n in app._notifications)


def http(name: str, url: str, kind: str = "http", interval: float = 0.2, timeout: float = 1.0, **kwargs: object) -> ProbeSpec:
    return ProbeSpec(name=name, kind=kind, url=url, interval=interval, timeout=timeout, **kwargs)  # type: ignore[arg-type]


# -- the demo --------------------------------------------------------------------------------


async def test_demo_services_fill_the_screen_and_the_keys_move_between_screens():
    app, probes = demo_app(FakeClock())
    async with app.run_test(size=SIZE) as pilot:
        feed_demo_probes(app, probes)
        await pilot.press("s")
        assert isinstance(app.screen, ServicesScreen)
        table = app.screen.query_one(ProbeTable)
        await wait_for(pilot, lambda: table.row_count == 8, what="eight demo services")
        # problems first (down, degraded, then up), by name within each: as the dashboard's panel (#14)
        assert table.row_names() == ["omniparser", "docling", "tei", "litellm", "ollama", "open-webui", "postgres", "vllm"]
        assert set(table.row_names()) == {p.name for p in probes.specs()}
        assert "✖ down" in row_text(table, "omniparser") and "connection refused" in row_text(table, "omniparser")
        assert "▲ degraded" in row_text(table, "tei") and "slow:" in row_text(table, "tei")
        assert "● up" in row_text(table, "ollama") and "nomic-embed-text:latest" in row_text(table, "ollama")
        assert "container ai-vllm-1" in row_text(table, "vllm")
        title = str(app.screen.query_one("#services-panel").border_title)
        assert title == "Services · 5 up · 2 degraded · 1 down"
        await pilot.press("d")
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("s")
        assert isinstance(app.screen, ServicesScreen) and table.row_count == 8


async def test_a_state_change_is_one_notification():
    clock = FakeClock()
    app, probes = demo_app(clock)
    async with app.run_test(size=SIZE) as pilot:
        feed_demo_probes(app, probes)
        await pilot.press("s")
        await wait_for(pilot, lambda: "docling" in app.probes.state.statuses)
        assert app.probes.state.statuses["docling"].state is ProbeState.DEGRADED
        assert not app._notifications  # the past (replayed history) is not news
        clock.advance(DOCLING_READY_AT_S)
        feed_demo_probes(app, probes, checks=5)
        await wait_for(pilot, lambda: toasts(app, "docling is up (was degraded)"), what="the toast")
        await pilot.pause(0.1)  # and no second one
        assert toasts(app, "docling is up (was degraded)") == 1
        assert sum("docling" in n.message for n in app._notifications) == 1


async def test_enter_opens_the_details_with_the_password_masked_and_models():
    app, probes = demo_app(FakeClock())
    async with app.run_test(size=(100, 40)) as pilot:
        feed_demo_probes(app, probes, checks=2)
        await pilot.press("s")
        table = app.screen.query_one(ProbeTable)
        await wait_for(pilot, lambda: table.row_count == 8)
        table.select("postgres")
        await pilot.press("enter")
        assert isinstance(app.screen, ProbeDetailScreen)
        body = text_of(app.screen.query_one("#probe-detail-text", Static))
        assert "postgresql://spark:***@127.0.0.1:5432" in body and "s3cret" not in body
        assert "tls" in body and "no" in body
        await pilot.press("escape")
        table.select("ollama")
        await pilot.press("enter")
        body = text_of(app.screen.query_one("#probe-detail-text", Static))
        assert "nomic-embed-text:latest · loaded · 3.2 GiB in GPU" in body
        assert "llama3.1:8b · not loaded" in body
        assert "median" in body and "p95" in body
        await pilot.press("escape")
        table.select("litellm")
        await pilot.press("enter")
        body = text_of(app.screen.query_one("#probe-detail-text", Static))
        assert "not ready: HTTP 503: database not connected" in body  # a recent error, kept after recovery
        await pilot.press("escape")
        assert isinstance(app.screen, ServicesScreen)


async def test_services_panel_puts_problems_first():
    app, probes = demo_app(FakeClock())
    async with app.run_test(size=SIZE) as pilot:
        feed_demo_probes(app, probes)
        panel = ServicesPanel(app.probes.state)
        await app.screen.mount(panel)
        await wait_for(pilot, lambda: "omniparser" in text_of(panel.query_one(".services-rows", TextLines)))
        lines = text_of(panel.query_one(".services-rows", TextLines)).splitlines()
        assert [line.split()[1] for line in lines[:3]] == ["omniparser", "docling", "tei"]
        assert "connection refused" in lines[0]
        assert str(panel.border_title) == "Services · 5 up · 2 degraded · 1 down"


# -- real probes against loopback servers ---------------------------------------------------


async def test_configured_probes_show_up_degraded_and_down():
    async with LoopbackHttp({"/health": Reply(200, {"status": "ok"}), "/ready": Reply(200, {"ready": False})}) as server:
        specs = [
            http("web", server.url + "/health"),
            http("loading", server.url + "/ready", kind="http-json", json_field="ready", expect_value=True),
            http("gone", f"http://127.0.0.1:{free_port()}/"),
        ]
        app = engine_app(specs)
        async with app.run_test(size=SIZE) as pilot:
            app.probes.start()
            await pilot.press("s")
            table = app.screen.query_one(ProbeTable)
            title = lambda: str(app.screen.query_one("#services-panel").border_title)  # noqa: E731
            await wait_for(pilot, lambda: "1 up · 1 degraded · 1 down" in title(), what="first checks drawn")
            # the title and the rows are drawn in one frame, but the rows wait for the table's first
            # layout (its column widths): wait for the rows too, not only the title
            await wait_for(pilot, lambda: {"web", "loading", "gone"} <= set(table.row_names()), what="the three rows drawn")
            assert "● up" in row_text(table, "web")
            assert "▲ degraded" in row_text(table, "loading") and "ready=false (expected true)" in row_text(table, "loading")
            assert "✖ down" in row_text(table, "gone") and "connection refused" in row_text(table, "gone")


async def test_service_going_down_and_back_notifies_once_each_calmly():
    async with LoopbackHttp({"/": Reply(200)}) as server:
        app = engine_app([http("web", server.url + "/", interval=0.1)])
        app.probes.notices.calm_s = 1.0  # 30 s in use
        async with app.run_test(size=SIZE) as pilot:
            app.probes.start()
            await wait_for(pilot, lambda: (s := app.probes.status("web")) is not None and s.state is ProbeState.UP)
            server.routes["/"] = Reply(503, {"detail": "warming up"})
            await wait_for(pilot, lambda: app.probes.status("web").state is ProbeState.DOWN)
            checks = len(server.requests)
            await wait_for(pilot, lambda: len(server.requests) >= checks + 5, what="five more failing checks")
            assert toasts(app, "web is down: HTTP 503: warming up (was up)") == 1
            server.routes["/"] = Reply(200)  # back within the calm period: the row says so, no toast yet
            await wait_for(pilot, lambda: app.probes.status("web").state is ProbeState.UP)
            assert len(app._notifications) == 1
            await wait_for(pilot, lambda: toasts(app, "web settled: up for 1 s after 2 changes"), what="the settled toast")
            await pilot.pause(0.3)  # and no second one
            assert len(app._notifications) == 2


async def test_hung_services_never_delay_a_key():
    async with LoopbackHttp({"/": Reply(200, {"status": "ok"})}) as server:
        with hung_listener() as port:
            specs = [http(f"hung{i}", f"http://127.0.0.1:{port}/", interval=0.5, timeout=2.0) for i in range(10)]
            specs.append(http("fine", server.url + "/", interval=0.2))
            app = engine_app(specs)
            async with app.run_test(size=SIZE) as pilot:
                app.probes.start()
                await wait_for(pilot, lambda: (s := app.probes.status("fine")) is not None and s.state is ProbeState.UP)
                worst = 0.0
                for _ in range(3):  # while all ten hung checks wait for their 2 s deadline
                    started = time.perf_counter()
                    await pilot.press("question_mark")
                    await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), timeout=2)
                    worst = max(worst, time.perf_counter() - started)
                    await pilot.press("escape")
                    await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen), timeout=2)
                assert worst < 1.0  # vs 2 s hangs; bench/services_ui_bench.py measures the real figure
                assert all(app.probes.status(f"hung{i}").state is ProbeState.UNKNOWN for i in range(10))  # still hanging
                await wait_for(pilot, lambda: app.probes.status("hung0").state is ProbeState.DOWN, timeout=4)
                assert app.probes.status("hung0").result.error == "timed out after 2.0 s waiting for an answer"


async def test_r_checks_the_selected_service_now():
    async with LoopbackHttp({"/a": Reply(200), "/b": Reply(200)}) as server:
        app = engine_app([http("a", server.url + "/a", interval=60.0), http("b", server.url + "/b", interval=60.0)])
        async with app.run_test(size=SIZE) as pilot:
            app.probes.start()
            await pilot.press("s")
            await wait_for(pilot, lambda: server.requests.count("/a") == 1 and server.requests.count("/b") == 1)
            table = app.screen.query_one(ProbeTable)
            await wait_for(pilot, lambda: table.row_count == 2)
            table.select("b")
            await pilot.press("r")
            await wait_for(pilot, lambda: server.requests.count("/b") == 2, timeout=2, what="a second check of b")
            assert server.requests.count("/a") == 1  # only the selected one
            await pilot.press("a")
            await wait_for(pilot, lambda: server.requests.count("/a") == 2 and server.requests.count("/b") == 3, timeout=2)


async def test_details_of_a_real_vllm_and_its_recent_errors():
    routes = {
        "/health": Reply(200),
        "/v1/models": Reply(200, {"object": "list", "data": [{"id": "Qwen/Qwen3-Embedding-8B", "max_model_len": 32768}]}),
        "/version": Reply(200, {"version": "0.10.1"}),
    }
    async with LoopbackHttp(routes) as server:
        url = server.url.replace("http://", "http://admin:topsecret@")
        app = engine_app([ProbeSpec(name="vllm", kind="vllm", url=url, interval=0.1, timeout=1.0)])
        async with app.run_test(size=(100, 40)) as pilot:
            app.probes.start()
            await pilot.press("s")
            await wait_for(pilot, lambda: (s := app.probes.status("vllm")) is not None and s.state is ProbeState.UP)
            server.routes["/health"] = Reply(503, {"error": "engine dead"})
            await wait_for(pilot, lambda: app.probes.status("vllm").state is ProbeState.DOWN)
            server.routes["/health"] = Reply(200)
            await wait_for(pilot, lambda: app.probes.status("vllm").state is ProbeState.UP)
            await pilot.press("enter")
            assert isinstance(app.screen, ProbeDetailScreen)
            detail = app.screen.query_one("#probe-detail-text", Static)
            await wait_for(pilot, lambda: "engine dead" in text_of(detail), what="the details")
            body = text_of(detail)
            assert f"http://admin:***@127.0.0.1:{server.port}" in body and "topsecret" not in body
            assert "Qwen/Qwen3-Embedding-8B · v0.10.1" in body
            assert "max model length  32,768" in body
            assert "HTTP 503: engine dead" in body
            requests = len(server.requests)
            await pilot.press("r")
            await wait_for(pilot, lambda: len(server.requests) > requests, timeout=2)


# -- config ---------------------------------------------------------------------------------


def test_two_probes_with_one_name_exit_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    config = tmp_path / "config.toml"
    config.write_text('[[probes]]\nname = "vllm"\nkind = "vllm"\n\n[[probes]]\nname = "vllm"\nkind = "ollama"\n')
    with contextlib.suppress(SystemExit):
        code = main(["--config", str(config)])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err == "spark-tui: probes[1].name: 'vllm' is already the name of probes[0]"


async def test_the_dashboard_panel_skips_drawing_while_hidden_and_is_current_once_shown():
    clock = FakeClock()
    app, probes = demo_app(clock)
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.screen.query_one(ServicesPanel)
        rows = panel.query_one(".services-rows", TextLines)
        feed_demo_probes(app, probes, checks=2)
        await pilot.pause(0.1)
        assert not panel.display and "omniparser" not in str(rows.render())  # too narrow: hidden, not drawn
        await pilot.resize_terminal(160, 48)
        await wait_for(pilot, lambda: "omniparser" in str(rows.render()), what="the panel drawn when shown")
        assert panel.display and "1 down" in str(panel.border_title)


async def test_with_nothing_to_probe_the_screen_says_so_instead_of_starting_for_ever():
    """No [[probes]] and no container of a known service: once the containers are known, the
    screen says there is nothing to probe and how to add something (#14: it said "Starting the
    probes…" for as long as it was open)."""
    from spark_tui.models.containers import ContainerListing, EngineStatus
    from spark_tui.ui.messages import ContainersChanged

    app = engine_app([])
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("s")
        detail = app.screen.query_one("#probe-detail", Static)
        await wait_for(pilot, lambda: "Starting the probes" in str(detail.render()), what="the starting text")
        app.post_message(ContainersChanged(ContainerListing(time.time(), EngineStatus("up", "unix:///var/run/docker.sock"))))
        await wait_for(pilot, lambda: "No services to probe" in str(detail.render()), what="the empty-state text")
        assert "[[probes]]" in str(detail.render())
