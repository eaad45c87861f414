"""The containers screen and profiles panel driven by Pilot on the demo fleet (no Docker needed),
plus the engine-down banner against a socket where no daemon listens."""

from __future__ import annotations

import re

import msgspec
from containers_support import demo_app, feed_containers
from support import wait_for
from support import FakeClock, demo_sources

from spark_tui.ui.app import make_app
from spark_tui.models.settings import ComposeConfig, Config, DockerConfig
from spark_tui.core.masking import MASK
from spark_tui.ui.screens.confirm import ConfirmScreen
from spark_tui.ui.containers.screen import ContainersScreen
from spark_tui.ui.dashboard.screen import DashboardScreen
from spark_tui.ui.containers.inspect import InspectScreen
from spark_tui.ui.containers.logs import LogsScreen
from spark_tui.core.docker.engine_backend import DockerBackend
from spark_tui.core.compose.memory_budget import PeakStore
from spark_tui.ui.containers.table import ContainerTable
from spark_tui.ui.dashboard.gpu_panel import GpuPanel
from spark_tui.ui.containers.profiles_panel import ProfilesPanel, WrappedLog
from textual.widgets import DataTable, Log, Static

SIZE = (120, 36)
VLLM = "0002".ljust(64, "d")  # ai-vllm-1 in the demo fleet
TEI = "0004".ljust(64, "d")  # ai-tei-1, exited


def confirming(app) -> bool:
    return isinstance(app.screen, ConfirmScreen) and bool(app.screen.query("#confirm-body"))


def text_of(widget: Static) -> str:
    return str(widget.render())


def cell(table, row: str, column: str) -> str:
    return str(table.get_cell(row, column))


async def open_containers(pilot, app, docker) -> ContainersScreen:
    await feed_containers(pilot, app, docker)
    await pilot.press("c")
    await wait_for(pilot, lambda: isinstance(app.screen, ContainersScreen) and app.screen.query_one(ContainerTable).row_count > 0, what="the containers screen")
    return app.screen


async def test_c_and_d_switch_screens_and_the_table_groups_by_project():
    app, docker = demo_app(FakeClock())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_containers(pilot, app, docker)
        table = screen.query_one(ContainerTable)
        keys = table.keys
        assert keys[0] == "project:ai" and keys[1:6] == ["0001".ljust(64, "d"), "0003".ljust(64, "d"), "0000".ljust(64, "d"), TEI, VLLM]
        assert keys[6] == "project:docs" and keys[-2:] == ["project:", "ff".ljust(64, "e")]
        assert "4/5 up" in cell(table, "project:ai", "state")
        assert "running" in cell(table, VLLM, "state") and "healthy" in cell(table, VLLM, "health")
        assert "exit 0" in cell(table, TEI, "state")
        assert "127.0.0.1" not in cell(table, VLLM, "ports") and "8000" in cell(table, VLLM, "ports")
        # GPU memory per container comes from the GPU's processes, named by their cgroup.
        assert "GiB" in cell(table, VLLM, "gpu") and "GPU" in cell(table, TEI, "gpu")
        await pilot.press("d")
        assert isinstance(app.screen, DashboardScreen)
        assert app.query_one(GpuPanel).query_one(DataTable).get_cell("41873", "container") == "ai-vllm-1"
        await pilot.press("c")
        assert app.screen is screen and table.row_count == 12


async def test_actions_that_do_not_apply_are_greyed_and_do_nothing():
    app, docker = demo_app(FakeClock())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_containers(pilot, app, docker)
        table = screen.query_one(ContainerTable)
        table.select(TEI)
        await pilot.pause()
        assert screen.check_action("start", ()) is True
        assert screen.check_action("stop", ()) is None and screen.check_action("restart", ()) is True
        await pilot.press("x")  # stop on an exited container: greyed, nothing opens
        assert isinstance(app.screen, ContainersScreen)
        table.select(VLLM)
        await pilot.pause()
        assert screen.check_action("start", ()) is None and screen.check_action("stop", ()) is True
        footer_keys = {b.binding.action: b.enabled for b in app.active_bindings.values() if b.binding.action in ("start", "stop")}
        assert footer_keys == {"start": False, "stop": True}
        table.select("project:ai")
        await pilot.pause()
        assert all(screen.check_action(a, ()) is None for a in ("start", "stop", "restart", "logs", "inspect"))
        # i is this screen's Inspect even where it cannot act: it never falls through to the app's
        # i (the Inference screen), which took the user elsewhere from a project row
        assert app.inference.known
        await pilot.press("i")
        await pilot.pause()
        assert app.screen is screen
        table.select(VLLM)
        await pilot.pause()
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, InspectScreen), what="the inspect screen")


async def test_stop_asks_first_and_no_leaves_the_container_running():
    app, docker = demo_app(FakeClock())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_containers(pilot, app, docker)
        screen.query_one(ContainerTable).select(VLLM)
        await pilot.press("x")
        await wait_for(pilot, lambda: confirming(app), what="the confirmation")
        assert app.screen.query_one("#confirm").border_title == "Stop ai-vllm-1?"
        assert "only this container stops" in text_of(app.screen.query_one("#confirm-body", Static))
        await pilot.press("n")
        assert isinstance(app.screen, ContainersScreen)
        await pilot.pause(0.2)
        assert docker.service_state(VLLM) == "running"
        await pilot.press("x")
        await wait_for(pilot, lambda: confirming(app))
        await pilot.press("y")
        assert "stopping" in cell(screen.query_one(ContainerTable), VLLM, "state") or docker.service_state(VLLM) == "exited"
        await wait_for(pilot, lambda: docker.service_state(VLLM) == "exited", what="the stop")
        listing = next(docker.updates())  # the watcher's next listing, through the message path
        from spark_tui.ui.messages import ContainersChanged

        app.post_message(ContainersChanged(listing))
        await wait_for(pilot, lambda: "exit 0" in cell(screen.query_one(ContainerTable), VLLM, "state"), what="the row to show the stop")
        assert any("Stopped ai-vllm-1" in n.message for n in app._notifications)


async def test_a_second_press_while_an_action_runs_is_refused():
    app, docker = demo_app(FakeClock(), pace_s=0.5)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_containers(pilot, app, docker)
        container = app.containers.container(TEI)
        app.containers.act("start", container)
        app.containers.act("start", container)
        await pilot.pause(0.05)
        assert sum("already under way" in n.message for n in app._notifications) == 1
        assert screen.check_action("start", ()) is None or screen.query_one(ContainerTable).selected().id != TEI
        await wait_for(pilot, lambda: TEI not in app.containers.state.busy, what="the start to finish")


async def test_engine_down_banner_says_why_and_the_ui_keeps_answering(tmp_path):
    socket = tmp_path / "docker.sock"
    config = Config(docker=DockerConfig(host=f"unix://{socket}"))
    backend = DockerBackend(config.docker, peaks=PeakStore(tmp_path / "peaks.json"))
    app = make_app(config, sources=demo_sources(FakeClock()), containers=backend)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        banner = app.screen.query_one("#engine-banner", Static)
        shown = ""

        def counting_down() -> bool:  # the countdown reads "retrying now…" in its last half second
            nonlocal shown
            shown = text_of(banner)
            return banner.display and "by itself" in shown

        await wait_for(pilot, counting_down, what="the banner's countdown")
        text = shown
        assert f"no Docker daemon at unix://{socket} (the socket does not exist)" in text
        assert "Docker unreachable" in text and "retrying" in text
        assert banner.has_class("-down")
        assert all(app.screen.check_action(a, ()) is None for a in ("start", "stop", "logs"))
        note = text_of(app.screen.query_one(ProfilesPanel).query_one("#profiles-note", Static))
        assert "unreachable: no Compose projects are known yet" in note and "below" not in note
        await pilot.press("d")
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("c")
        assert isinstance(app.screen, ContainersScreen)


async def test_toggling_a_profile_streams_output_and_a_second_toggle_is_refused():
    app, docker = demo_app(FakeClock(), pace_s=1.0, start_polling=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_containers(pilot, app, docker)
        panel = screen.query_one(ProfilesPanel)
        await wait_for(pilot, lambda: panel.query_one(DataTable).row_count > 0, what="the profiles")
        table = panel.query_one(DataTable)
        table.focus()
        table.move_cursor(row=table.get_row_index("profile:ai/embed"))
        await pilot.press("space")
        await wait_for(pilot, lambda: app.containers.compose_running, what="compose to start")
        await pilot.press("space")
        assert sum("One compose command at a time" in n.message for n in app._notifications) == 1
        assert panel.check_action("cancel", ()) is True
        await wait_for(pilot, lambda: not app.containers.compose_running, what="compose to finish")
        log = panel.query_one(WrappedLog)
        await wait_for(pilot, lambda: any("Container ai-tei-1  Started" in line for line in log.plain), what="compose's output")
        assert log.plain[0].startswith("$ docker compose -p ai -f /home/spark/ai/compose.yaml")
        assert log.plain[0].endswith("--profile embed up -d tei")
        assert any("expects 3.0 GiB (reservation)" in line for line in log.plain)
        # Wrapped to the panel, not clipped: every word of the long command line is on screen.
        width = log.scrollable_content_region.width
        assert width < len(log.plain[0]) and all(strip.cell_length <= width for strip in log.lines)
        shown = " ".join(strip.text.strip() for strip in log.lines)
        assert "--project-directory /home/spark/ai --profile embed up -d tei" in shown
        await wait_for(pilot, lambda: "up (1/1)" in str(table.get_cell("profile:ai/embed", "state")), what="the profile to show up")
        assert "started profile embed of ai" in text_of(panel.query_one("#compose-headline", Static))
        await pilot.press("escape")
        assert not panel.query_one("#compose-job").display


async def test_the_memory_check_asks_with_the_numbers_before_starting():
    config = Config(docker=DockerConfig(compose=ComposeConfig(memory_floor_gib=4096)))
    app, docker = demo_app(FakeClock(), config=config)
    async with app.run_test(size=SIZE) as pilot:
        await open_containers(pilot, app, docker)
        app.containers.toggle_profile("docs", "ocr")
        await wait_for(pilot, lambda: confirming(app), what="the memory check")
        body = text_of(app.screen.query_one("#confirm-body", Static))
        assert "Start profile ocr of docs?" in body
        assert "expects 12.0 GiB (reservation)" in body and "under the 4096 GiB floor" in body
        assert "docling" in body and "5.0 GiB (reservation)" in body
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert app.containers.state.job is None and docker.service_state(docker.service_container("docs", "docling")) == "exited"
        app.containers.toggle_profile("docs", "ocr")
        await wait_for(pilot, lambda: confirming(app))
        await pilot.press("y")
        await wait_for(pilot, lambda: app.containers.state.job is not None and not app.containers.state.job.running, what="the start")
        assert app.containers.state.job.result.ok


async def test_logs_follow_and_search_and_stop_when_closed():
    app, docker = demo_app(FakeClock())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_containers(pilot, app, docker)
        screen.query_one(ContainerTable).select(VLLM)
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, LogsScreen) and app.screen.query_one(Log).line_count > 0, what="log lines")
        logs = app.screen
        log = logs.query_one(Log)
        assert any("KV cache" in line for line in log.lines) and any("chat/completions" in line for line in log.lines)
        await pilot.press("slash")
        await pilot.press(*"kv cache")
        await wait_for(pilot, lambda: all("KV cache" in line for line in log.lines) and log.line_count > 0, what="the filter")
        assert "lines match “kv cache”" in str(log.border_subtitle)
        await pilot.press("escape")  # clears the search
        assert any("chat/completions" in line for line in log.lines)
        stream = logs._stream
        await pilot.press("escape")  # closes the screen
        assert isinstance(app.screen, ContainersScreen)
        assert stream is not None and stream._stopped.is_set()


async def test_inspect_masks_secrets():
    app, docker = demo_app(FakeClock())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_containers(pilot, app, docker)
        screen.query_one(ContainerTable).select(VLLM)
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, InspectScreen) and app.screen.data is not None, what="inspect")
        shown = msgspec.json.encode(app.screen.data).decode()
        assert f"HF_TOKEN={MASK}" in shown and "hf_demo" not in shown
        assert "HF_TOKEN" in str(app.screen.query_one("#inspect-body", Static).render())
        await pilot.press("escape")
        assert isinstance(app.screen, ContainersScreen)


async def test_stats_slow_down_while_the_containers_screen_is_hidden():
    app, docker = demo_app(FakeClock())
    async with app.run_test(size=SIZE) as pilot:
        poller = app.containers.stats_poller
        assert poller.interval == 10.0
        await open_containers(pilot, app, docker)
        assert poller.interval == app.config.docker.stats_interval
        await pilot.press("d")
        assert poller.interval == 10.0


async def test_live_demo_session_updates_by_itself_and_quits_cleanly():
    app, docker = demo_app(FakeClock(), start_polling=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        table = app.screen.query_one(ContainerTable)
        await wait_for(pilot, lambda: table.row_count == 12, what="the demo fleet")
        await wait_for(pilot, lambda: app.containers.state.overview is not None, what="the profiles")
        await pilot.press("q")
    assert docker._stopped.is_set()


async def test_row_table_draws_again_only_the_rows_that_changed_and_keeps_the_cursor_on_its_row():
    from spark_tui.ui.widgets.row_table import RowTable, TableColumn
    from textual.app import App

    class OneTable(App):
        chosen: list[str] = []

        def compose(self):
            yield RowTable()

        def on_row_table_chosen(self, message: RowTable.Chosen) -> None:
            self.chosen.append(message.key)

    app = OneTable()
    async with app.run_test(size=(40, 12)) as pilot:
        table = app.query_one(RowTable)
        table.set_columns([TableColumn("name", "Name", 10), TableColumn("cpu", "CPU", 5, right=True)])
        rows = [(f"k{i}", (f"row {i}", f"{i}%")) for i in range(30)]
        table.set_rows(rows)
        await pilot.pause()
        drawn: list[str] = []
        render = table._render_cells
        table._render_cells = lambda cells, style: drawn.append(cells[0]) or render(cells, style)
        rows[3] = ("k3", ("row 3", "33%"))
        table.set_rows(rows)
        await pilot.pause()
        assert drawn == ["row 3"], "one changed row, one row drawn"
        assert table.render_line(4).text.startswith(" row 3" + " " * 9 + "33% "), "right-aligned figures"
        table.select("k5")
        table.set_rows([("new", ("new", "0%")), *rows])
        assert table.cursor_key == "k5" and table.keys[0] == "new"
        table.focus()
        await pilot.press("end")
        assert table.cursor_key == "k29" and table.scroll_offset.y > 0
        await pilot.press("enter")
        assert app.chosen == ["k29"]


async def test_a_wide_dashboard_toggles_a_profile_and_shows_the_services_too():
    app, docker = demo_app(FakeClock(), pace_s=0.2, start_polling=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await feed_containers(pilot, app, docker)
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen)
        assert dashboard.query_one("#dashboard-services").display and dashboard.query_one("#dashboard-profiles").display
        panel = dashboard.query_one(ProfilesPanel)
        table = panel.query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count > 0, what="the profiles on the dashboard")
        table.focus()
        table.move_cursor(row=table.get_row_index("profile:ai/embed"))
        await pilot.press("space")
        await wait_for(pilot, lambda: "up (1/1)" in cell(table, "profile:ai/embed", "state"), timeout=10, what="the profile to come up")
        assert "started profile embed of ai" in text_of(panel.query_one("#compose-headline", Static))
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert not dashboard.query_one("#dashboard-profiles").display  # no room: the containers screen has them
        assert app.focused is None or app.focused.display and "dashboard-profiles" not in {n.id for n in app.focused.ancestors_with_self}


async def toggle_from_panel(pilot, panel: ProfilesPanel, key: str) -> None:
    table = panel.query_one(DataTable)
    await wait_for(pilot, lambda: table.row_count > 0, what="the profiles")
    table.focus()
    table.move_cursor(row=table.get_row_index(f"profile:{key}"))
    await pilot.pause()
    await pilot.press("space")


async def test_a_running_compose_commands_elapsed_time_ticks_and_the_timer_stops_after():
    app, docker = demo_app(FakeClock(), pace_s=4.0, start_polling=True)  # compose says nothing for 4 s
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_containers(pilot, app, docker)
        panel = screen.query_one(ProfilesPanel)
        assert app.containers._ticker is None, "no timer while nothing counts"
        await toggle_from_panel(pilot, panel, "ai/embed")
        await wait_for(pilot, lambda: app.containers.compose_running, what="compose to start")
        headline = panel.query_one("#compose-headline", Static)

        def elapsed() -> int | None:  # the seconds the headline counts, once it shows
            found = re.search(r"starting profile embed of ai… (\d+)s", text_of(headline))
            return int(found[1]) if found else None

        # Waits on what is drawn, not on wall time: under load the first frame may already say 1s (#14).
        await wait_for(pilot, lambda: elapsed() is not None, what="the first headline")
        first = elapsed()
        assert first is not None and first < 4
        await wait_for(pilot, lambda: (elapsed() or 0) >= first + 2, timeout=6, what="the elapsed time to tick twice")
        assert app.containers.state.job.total_lines == 0, "it ticked by itself, not because compose printed"
        await pilot.press("k")
        await wait_for(pilot, lambda: not app.containers.compose_running, what="the cancel")
        assert app.containers._ticker is None, "the timer stops with the command"


def engine_down_listing(listing, retry_in: float = 16.0):
    from spark_tui.models.containers import ContainerListing, EngineStatus

    engine = EngineStatus("down", "unix:///var/run/docker.sock", reason="Docker went away", hint="start it", retry_in=retry_in, attempts=5)
    return ContainerListing(taken_at=listing.taken_at, engine=engine, containers=listing.containers, complete=False)


async def test_docker_down_counts_down_retries_on_t_and_greys_what_needs_the_engine():
    from spark_tui.ui.messages import ContainersChanged

    app, docker = demo_app(FakeClock())
    pokes: list[bool] = []
    docker.poke = lambda: pokes.append(True)  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_containers(pilot, app, docker)
        table = screen.query_one(ContainerTable)
        panel = screen.query_one(ProfilesPanel)
        assert screen.check_action("retry", ()) is False, "no retry key while Docker answers"
        app.post_message(ContainersChanged(engine_down_listing(next(docker.updates()))))
        banner = screen.query_one("#engine-banner", Static)
        await wait_for(pilot, lambda: "retrying by itself in 16 s" in text_of(banner) or "in 15 s" in text_of(banner), what="the countdown")
        await wait_for(pilot, lambda: "retrying by itself in 14 s" in text_of(banner), timeout=3.5, what="the countdown to tick")
        assert "t retries now" in text_of(banner)

        # the last known list: said so in the detail line; enter (logs) is greyed like `l`
        table.focus()
        table.select(VLLM)
        await pilot.pause()
        assert text_of(screen.query_one("#container-detail", Static)).startswith("last known: ai-vllm-1")
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert isinstance(app.screen, ContainersScreen), "enter must not open logs while Docker is down"
        table.select("project:ai")
        await pilot.pause()
        assert "Docker is unreachable: these are the last known containers" in text_of(screen.query_one("#container-detail", Static))

        # profiles: the states are marked last known, and toggling is greyed (space and enter)
        await wait_for(pilot, lambda: "last known" in str(panel.border_subtitle), what="the profiles marked last known")
        assert "last known" in text_of(panel.query_one("#profiles-note", Static))
        profiles = panel.query_one(DataTable)
        profiles.focus()
        profiles.move_cursor(row=profiles.get_row_index("profile:ai/embed"))
        await pilot.pause()
        assert panel.check_action("toggle", ()) is None
        await pilot.press("space", "enter")
        await pilot.pause(0.1)
        assert app.containers.state.job is None and app.containers.state.preparing is None
        app.containers.toggle_profile("ai", "embed")  # the palette's way in refuses too
        await pilot.pause()
        assert app.containers.state.job is None and any("Docker is unreachable" in n.message for n in app._notifications)

        table.focus()
        await pilot.pause()
        assert screen.check_action("retry", ()) is True
        await pilot.press("t")
        await wait_for(pilot, lambda: pokes, what="the backend to be poked")
        await wait_for(pilot, lambda: "retrying now…" in text_of(banner), what="the banner to say so")


async def test_no_containers_while_docker_is_down_is_not_called_empty():
    from spark_tui.ui.messages import ContainersChanged
    from spark_tui.models.containers import ContainerListing

    app, docker = demo_app(FakeClock())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        empty = ContainerListing(taken_at=0.0, engine=engine_down_listing(next(docker.updates())).engine, complete=False)
        app.post_message(ContainersChanged(empty))
        detail = app.screen.query_one("#container-detail", Static)
        await wait_for(pilot, lambda: "Docker is unreachable" in text_of(detail), what="the detail line")
        assert "No containers" not in text_of(detail)


async def test_recreating_a_running_container_outside_the_profile_asks_first():
    from spark_tui.models.compose import UpPreview

    app, docker = demo_app(FakeClock())
    docker.preview_up = lambda project, profile, containers: UpPreview(recreates=("ai-webui-1",))  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await open_containers(pilot, app, docker)
        app.containers.toggle_profile("ai", "embed")
        await wait_for(pilot, lambda: confirming(app), what="the question")
        assert app.screen.query_one("#confirm").border_title == "Containers would be recreated"
        body = text_of(app.screen.query_one("#confirm-body", Static))
        assert "Start profile embed of ai?" in body and "recreate" in body and "ai-webui-1" in body
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert app.containers.state.job is None and app.containers.state.preparing is None
        app.containers.toggle_profile("ai", "embed")
        await wait_for(pilot, lambda: confirming(app))
        await pilot.press("y")
        await wait_for(pilot, lambda: app.containers.state.job is not None and not app.containers.state.job.running, what="the start")
        assert app.containers.state.job.result.ok


async def test_a_failed_dry_run_never_blocks_the_start_and_is_noted():
    from spark_tui.models.compose import UpPreview

    app, docker = demo_app(FakeClock())
    docker.preview_up = lambda project, profile, containers: UpPreview(problem="unknown flag: --dry-run")  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await open_containers(pilot, app, docker)
        app.containers.toggle_profile("ai", "embed")
        await wait_for(pilot, lambda: app.containers.state.job is not None and not app.containers.state.job.running, what="the start")
        assert not confirming(app) and app.containers.state.job.result.ok
        assert any("dry run failed" in note and "unknown flag: --dry-run" in note for note in app.containers.state.job.notes)

        def broken(project, profile, containers):
            raise RuntimeError("boom")

        docker.preview_up = broken  # type: ignore[method-assign]
        app.containers.toggle_profile("ai", "embed", "down")
        await wait_for(pilot, lambda: not app.containers.state.job.running)
        app.containers.toggle_profile("ai", "embed", "up")
        await wait_for(pilot, lambda: app.containers.state.job.action == "up" and not app.containers.state.job.running, what="the second start")
        assert app.containers.state.job.result.ok and "boom" in " ".join(app.containers.state.job.notes)


async def test_brackets_from_docker_show_as_docker_wrote_them():
    from dataclasses import replace

    from spark_tui.ui.messages import ContainersChanged

    app, docker = demo_app(FakeClock())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_containers(pilot, app, docker)
        listing = next(docker.updates())
        failed = 'could not select device driver "" with capabilities: [[gpu]]'
        containers = tuple(replace(c, state="created", status=failed) if c.id == TEI else c for c in listing.containers)
        app.post_message(ContainersChanged(replace(listing, containers=containers, changed=frozenset({TEI}))))
        table = screen.query_one(ContainerTable)
        table.select(TEI)
        detail = screen.query_one("#container-detail", Static)
        await wait_for(pilot, lambda: "device driver" in text_of(detail), what="the detail line")
        assert "capabilities: [[gpu]]" in text_of(detail) and "\\[" not in text_of(detail)


async def test_container_keys_act_only_where_the_focus_is():
    """With the focus in the profiles panel, u/x/r/l/i are greyed and do nothing: they would act on
    the containers table's selection, which is not where the user is (#14)."""
    app, docker = demo_app(FakeClock())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_containers(pilot, app, docker)
        screen.query_one(ContainerTable).select(VLLM)
        await pilot.pause()
        assert screen.check_action("stop", ()) is True
        await pilot.press("tab")
        await wait_for(pilot, lambda: not screen.query_one(ContainerTable).has_focus, what="the focus to leave the table")
        assert all(screen.check_action(a, ()) is None for a in ("start", "stop", "restart", "logs", "inspect"))
        await pilot.press("x", "l", "shift+tab")
        # shift+tab was handled after x and l: the focus coming back is the sign they were too
        await wait_for(pilot, lambda: screen.query_one(ContainerTable).has_focus, what="the focus back on the table")
        assert isinstance(app.screen, ContainersScreen), "no question, no logs"
        assert screen.check_action("stop", ()) is True


async def test_the_profiles_table_scrolls_to_its_cursor_on_a_small_terminal():
    """#14: at 80x24 the cursor moved onto profile rows that were cut off below the panel."""
    app, docker = demo_app(FakeClock())
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_containers(pilot, app, docker)
        table = screen.query_one(ProfilesPanel).query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count > 0, what="the profiles")
        assert table.virtual_size.height > table.size.height, "more rows than room: the case at hand"
        table.focus()
        await pilot.press(*["down"] * table.row_count)
        await wait_for(pilot, lambda: table.cursor_row == table.row_count - 1, what="the cursor on the last row")
        await wait_for(pilot, lambda: table.scroll_offset.y > 0, what="the table to scroll")
        header = 1
        assert header + table.cursor_row - table.scroll_offset.y < table.size.height, "the cursor's row is on screen"


async def test_space_on_an_always_on_row_says_why_nothing_toggles():
    app, docker = demo_app(FakeClock())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_containers(pilot, app, docker)
        table = screen.query_one(ProfilesPanel).query_one(DataTable)
        await wait_for(pilot, lambda: table.row_count > 0, what="the profiles")
        table.focus()
        table.move_cursor(row=table.get_row_index("always:ai"))
        await pilot.press("space")
        await wait_for(pilot, lambda: any("Always-on services belong to no profile" in n.message for n in app._notifications), what="the reason")
        assert app.containers.state.job is None, "nothing started"
