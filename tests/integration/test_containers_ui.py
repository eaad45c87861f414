"""The containers screen and profiles panel driven by Pilot against the real engine and compose.

The daemon is shared: every test finds its own containers by id among everyone else's.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from support import FakeClock, demo_sources

from spark_tui.ui.app import SparkApp, make_app
from spark_tui.models.settings import ComposeConfig, ComposeProjectConfig, Config, DockerConfig
from spark_tui.core.masking import MASK
from spark_tui.ui.screens.confirm import ConfirmScreen
from spark_tui.ui.containers.screen import ContainersScreen
from spark_tui.ui.containers.inspect import InspectScreen
from spark_tui.ui.containers.logs import LogsScreen
from spark_tui.core.docker.engine_backend import DockerBackend
from spark_tui.core.compose.memory_budget import PeakStore
from spark_tui.ui.containers.table import ContainerTable
from spark_tui.ui.containers.profiles_panel import ProfilesPanel, WrappedLog
from tests.integration.conftest import PROFILED_PROJECT, DockerKit, docker
from tests.integration.test_engine_recovery import PrivateDockerd, private_dockerd  # noqa: F401 - the fixture
from textual.widgets import DataTable, Log, Static

pytestmark = pytest.mark.docker

SIZE = (140, 40)
WAIT_S = 30.0


async def until(pilot, condition, what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout:g} s waiting for {what}"
        await pilot.pause(0.05)


@asynccontextmanager
async def containers_app(tmp_path: Path, config: Config | None = None, host: str | None = None) -> AsyncIterator[tuple[SparkApp, object]]:
    config = config or Config()
    if host is not None:
        config = Config(docker=DockerConfig(host=host, compose=config.docker.compose))
    backend = DockerBackend(config.docker, peaks=PeakStore(tmp_path / "peaks.json"))
    app = make_app(config, sources=demo_sources(FakeClock()), containers=backend)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ContainersScreen) and app.containers.state.listing is not None, "the container list")
        yield app, pilot


def table_of(app: SparkApp) -> ContainerTable:
    return app.screen.query_one(ContainerTable)


def has_row(app: SparkApp, key: str) -> bool:
    return key in table_of(app).keys


def cell(app: SparkApp, key: str, column: str) -> str:
    return str(table_of(app).get_cell(key, column))


def state_of(kit: DockerKit, container: str) -> dict:
    return kit.inspect(container)["State"]


async def select(pilot, app: SparkApp, key: str) -> None:
    await until(pilot, lambda: has_row(app, key), f"row {key[:12]}")
    table_of(app).focus()
    table_of(app).select(key)
    await pilot.pause()
    assert table_of(app).selected_key == key


async def confirm(pilot, app: SparkApp, key: str) -> str:
    await until(pilot, lambda: isinstance(app.screen, ConfirmScreen) and bool(app.screen.query("#confirm-body")), "the confirmation")
    shown = f"{app.screen.query_one('#confirm').border_title}\n{app.screen.query_one('#confirm-body', Static).render()}"
    await pilot.press(key)
    return shown


async def test_a_container_appears_and_disappears_live(kit: DockerKit, tmp_path: Path) -> None:
    async with containers_app(tmp_path) as (app, pilot):
        cid = kit.run("live", "sleep", "300", options=("--stop-signal", "SIGKILL"))
        await until(pilot, lambda: has_row(app, cid) and "running" in cell(app, cid, "state"), "the new container's row")
        assert "live" in cell(app, cid, "name")
        assert "project:" in table_of(app).keys, "a loose container sits under (no project)"
        docker("rm", "-f", cid)
        await until(pilot, lambda: not has_row(app, cid), "the row to go")


async def test_stop_asks_then_stops_and_restart_restarts(kit: DockerKit, tmp_path: Path) -> None:
    cid = kit.run("act", "sleep", "300", options=("--stop-signal", "SIGKILL"))
    async with containers_app(tmp_path) as (app, pilot):
        await select(pilot, app, cid)
        await pilot.press("x")
        body = await confirm(pilot, app, "n")
        assert f"Stop {kit.name('act')}?" in body
        await pilot.pause(0.3)
        assert state_of(kit, cid)["Status"] == "running", "no means no"

        await pilot.press("x")
        await confirm(pilot, app, "y")
        await until(pilot, lambda: state_of(kit, cid)["Status"] == "exited", "docker to stop it")
        await until(pilot, lambda: "exit" in cell(app, cid, "state"), "the row to show it stopped")
        assert app.screen.check_action("stop", ()) is None and app.screen.check_action("start", ()) is True

        await pilot.press("u")
        await until(pilot, lambda: "running" in cell(app, cid, "state"), "the start")
        started = state_of(kit, cid)["StartedAt"]
        await pilot.press("r")
        await confirm(pilot, app, "y")
        await until(pilot, lambda: state_of(kit, cid)["StartedAt"] != started, "the restart")
        await until(pilot, lambda: any(f"Restarted {kit.name('act')}" in n.message for n in app._notifications), "the notice")


async def test_logs_stream_a_line_the_container_prints(kit: DockerKit, tmp_path: Path) -> None:
    token = secrets.token_hex(4)
    script = f"echo hello-{token}; i=0; while true; i=$((i+1)); do echo tick-$i; sleep 0.3; done"
    cid = kit.run("logs", "sh", "-c", script, options=("--stop-signal", "SIGKILL"))
    async with containers_app(tmp_path) as (app, pilot):
        await select(pilot, app, cid)
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LogsScreen) and app.screen.query(Log), "the logs screen")
        log = app.screen.query_one(Log)
        await until(pilot, lambda: any(f"hello-{token}" in line for line in log.lines), "the first line")
        seen = log.line_count
        await until(pilot, lambda: log.line_count > seen + 2, "lines printed after the view opened")
        await pilot.press("slash", *"hello")
        await until(pilot, lambda: log.line_count == 1, "the search to keep one line")
        logs = app.screen
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, ContainersScreen)
        assert logs._stopped.is_set() and logs._stream is not None


async def test_inspect_shows_secrets_masked(kit: DockerKit, tmp_path: Path) -> None:
    secret = "hf_" + secrets.token_hex(16)
    cid = kit.run("secret", "sleep", "300", options=("--stop-signal", "SIGKILL", "-e", f"HF_TOKEN={secret}", "-e", "MODEL=tiny"))
    async with containers_app(tmp_path) as (app, pilot):
        await select(pilot, app, cid)
        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, InspectScreen) and app.screen.data is not None, "inspect")
        shown = json.dumps(app.screen.data)
        assert secret not in shown and f"HF_TOKEN={MASK}" in shown and "MODEL=tiny" in shown
        assert secret not in str(app.screen.query_one("#inspect-body", Static).render())


def profile_cell(app: SparkApp, project: str, profile: str) -> str:
    table = app.screen.query_one(ProfilesPanel).query_one(DataTable)
    key = f"profile:{project}/{profile}"
    return str(table.get_cell(key, "state")) if key in table.rows else ""


async def toggle(pilot, app: SparkApp, project: str, profile: str) -> None:
    table = app.screen.query_one(ProfilesPanel).query_one(DataTable)
    table.focus()
    table.move_cursor(row=table.get_row_index(f"profile:{project}/{profile}"))
    await pilot.pause()
    await pilot.press("space")


async def test_a_gpu_profile_toggled_up_and_down_leaves_the_rest_alone(kit: DockerKit, tmp_path: Path) -> None:
    project = kit.compose_project(PROFILED_PROJECT)
    project.compose("up", "-d", "web")
    web = docker("ps", "-q", "--no-trunc", "--filter", f"label=com.docker.compose.project={project.name}").stdout.strip()
    web_started = state_of(kit, web)["StartedAt"]
    async with containers_app(tmp_path) as (app, pilot):
        await until(pilot, lambda: "down (0/2)" in profile_cell(app, project.name, "gpu"), "the gpu profile, down")
        await toggle(pilot, app, project.name, "gpu")
        await until(pilot, lambda: "up (2/2)" in profile_cell(app, project.name, "gpu"), "the gpu profile, up")
        log = app.screen.query_one(ProfilesPanel).query_one(WrappedLog)
        assert "--profile gpu up -d embed fetch" in log.plain[0]
        assert any("memory: expects 64.0 MiB" in line or "expects 0.1 GiB" in line for line in log.plain), list(log.plain)[:3]
        assert any("embed" in line and "Started" in line for line in log.plain)
        services = {c.compose_service: c for c in app.containers.state.containers.values() if c.compose_project == project.name}
        assert services["embed"].state == "running" and "ocr" not in services
        assert state_of(kit, web)["StartedAt"] == web_started, "the always-on service was not restarted"

        await toggle(pilot, app, project.name, "gpu")
        await until(pilot, lambda: profile_cell(app, project.name, "gpu").count("down ("), "the gpu profile, down again")
        assert state_of(kit, services["embed"].id)["Status"] == "exited"
        assert state_of(kit, web)["Status"] == "running" and state_of(kit, web)["StartedAt"] == web_started
        assert "down (0/1)" in profile_cell(app, project.name, "ocr")


async def test_compose_failures_show_composes_words_and_keys_keep_working(kit: DockerKit, tmp_path: Path) -> None:
    broken = kit.compose_project('services:\n  web:\n    image: {image}\n    ports: ["127.0.0.1:1:2:3"]\n', suffix="broken")
    holder = kit.run("holder", "sleep", "300", options=("--stop-signal", "SIGKILL", "-p", "127.0.0.1::80"))
    port = kit.inspect(holder)["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"]
    clash = kit.compose_project(
        f"""
        name: {{name}}
        services:
          api:
            image: {{image}}
            command: ["sleep", "300"]
            stop_signal: SIGKILL
            labels: {{sparktui.test: "{{label}}"}}
            profiles: [gpu]
            ports: ["127.0.0.1:{port}:80"]
        """,
        suffix="clash",
    )
    compose = ComposeConfig(
        projects=(ComposeProjectConfig(files=(str(broken.file),), name=broken.name),),
        files=(str(clash.file),),
    )
    async with containers_app(tmp_path, Config(docker=DockerConfig(compose=compose))) as (app, pilot):
        panel = app.screen.query_one(ProfilesPanel)
        table = panel.query_one(DataTable)
        problem_key = f"problem:{broken.name}"
        await until(pilot, lambda: problem_key in table.rows, "the broken project's message")
        assert "127.0.0.1:1" in str(table.get_cell(problem_key, "services"))

        await until(pilot, lambda: "down" in profile_cell(app, clash.name, "gpu"), "the clashing project")
        await toggle(pilot, app, clash.name, "gpu")
        await until(pilot, lambda: app.containers.state.job is not None and not app.containers.state.job.running, "compose to fail")
        job = app.containers.state.job
        assert not job.result.ok and "port is already allocated" in job.result.message
        await until(pilot, lambda: "port is already allocated" in str(panel.query_one("#compose-headline", Static).render()), "the headline")
        assert any("port is already allocated" in n.message for n in app._notifications)

        await pilot.press("d")  # the UI still answers
        await pilot.press("c")
        assert isinstance(app.screen, ContainersScreen)
        await pilot.press("question_mark")
        await pilot.press("escape")
        assert isinstance(app.screen, ContainersScreen)


@pytest.mark.timeout(240)  # two daemon starts, and reconnection backs off up to 30 s
async def test_a_daemon_restart_shows_in_words_and_the_view_recovers(private_dockerd: PrivateDockerd, tmp_path: Path) -> None:  # noqa: F811
    private_dockerd.docker("run", "-d", "--name", "survivor", "--network", "none", "--restart", "always", "local/busybox", "sleep", "3600")
    async with containers_app(tmp_path, host=private_dockerd.host) as (app, pilot):
        names = lambda: {c.name for c in app.containers.state.containers.values()}  # noqa: E731
        await until(pilot, lambda: "survivor" in names(), "the private daemon's container")
        banner = app.screen.query_one("#engine-banner", Static)
        assert not banner.display
        private_dockerd.stop()
        await until(pilot, lambda: banner.display and "Docker unreachable" in str(banner.render()), "the banner")
        assert any("Docker went away" in n.message for n in app._notifications)
        assert "survivor" in names(), "the last known list stays on screen"
        await pilot.press("d", "c")  # keys work while the daemon is down
        await until(pilot, lambda: "retrying by itself in" in str(banner.render()), "the countdown")
        private_dockerd.start()
        await until(pilot, lambda: not banner.display or "retrying by itself in" in str(banner.render()), "a countdown to cut short")
        table_of(app).focus()
        await pilot.press("t")  # do not wait out the backoff (up to 30 s): try now
        await until(pilot, lambda: not banner.display, "the view to recover at once", timeout=10)
        assert any("Docker is back" in n.message for n in app._notifications)
        await until(pilot, lambda: any(c.name == "survivor" and c.state == "running" for c in app.containers.state.containers.values()), "the survivor, running")


async def test_a_start_that_would_recreate_a_running_dependency_asks_first(kit: DockerKit, tmp_path: Path) -> None:
    from tests.integration.test_compose_profiles import DEPENDENCY_PROJECT, container_ids

    project = kit.compose_project(DEPENDENCY_PROJECT)
    project.compose("up", "-d", "db")
    db_before = container_ids(project.name)["db"]
    project.file.write_text(project.file.read_text().replace("MODEL: tiny", "MODEL: small"))
    async with containers_app(tmp_path) as (app, pilot):
        await until(pilot, lambda: "down (0/1)" in profile_cell(app, project.name, "gpu"), "the gpu profile, down")
        await toggle(pilot, app, project.name, "gpu")
        shown = await confirm(pilot, app, "n")
        assert shown.startswith("Containers would be recreated") and f"{project.name}-db-1" in shown
        await pilot.pause(0.3)
        assert app.containers.state.job is None and container_ids(project.name) == {"db": db_before}, "no means no"

        await toggle(pilot, app, project.name, "gpu")
        await confirm(pilot, app, "y")
        await until(pilot, lambda: "up (1/1)" in profile_cell(app, project.name, "gpu"), "the gpu profile, up")
        assert container_ids(project.name)["db"] != db_before


async def test_an_unreadable_project_says_why_and_invents_no_always_on(kit: DockerKit, tmp_path: Path) -> None:
    from tests.integration.test_compose_profiles import DEPENDENCY_PROJECT

    project = kit.compose_project(DEPENDENCY_PROJECT)
    project.compose("--profile", "gpu", "up", "-d")
    project.file.write_text("services: [\n")
    async with containers_app(tmp_path) as (app, pilot):
        table = app.screen.query_one(ProfilesPanel).query_one(DataTable)
        await until(pilot, lambda: f"problem:{project.name}" in table.rows, "the project's problem")
        assert "yaml" in str(table.get_cell(f"problem:{project.name}", "services"))
        assert f"always:{project.name}" not in table.rows and f"profile:{project.name}/gpu" not in table.rows
        services = str(table.get_cell(f"seen:{project.name}", "services"))
        assert "db" in services and "llm" in services
        assert "profile ?" in str(table.get_cell(f"seen:{project.name}", "profile"))
