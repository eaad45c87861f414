"""What the user sees on the containers screen: the demo fleet, small and large, a profile just
toggled with compose's output, and the memory check asking before a start."""

import pytest
from containers_support import demo_app, feed_containers
from support import FakeClock, drawn, wait_for

from spark_tui.models.settings import ComposeConfig, Config, DockerConfig
from spark_tui.ui.screens.confirm import ConfirmScreen
from spark_tui.ui.containers.table import ContainerTable
from spark_tui.ui.containers.profiles_panel import ProfilesPanel
from textual.widgets import DataTable


def containers_app(config: Config | None = None):
    app, docker = demo_app(FakeClock(), config=config)

    async def run_before(pilot) -> None:
        await feed_containers(pilot, app, docker)
        await pilot.press("c")
        await wait_for(pilot, lambda: app.screen.query(ContainerTable) and app.screen.query_one(ContainerTable).row_count == 12)
        await wait_for(pilot, lambda: app.screen.query_one(ProfilesPanel).query_one(DataTable).row_count > 0)
        await drawn(pilot)

    return app, docker, run_before


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_containers_screen(snap_compare, size):
    app, _, run_before = containers_app()
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_profile_toggled_with_composes_output(snap_compare):
    app, docker, opened = containers_app()

    async def run_before(pilot) -> None:
        await opened(pilot)
        panel = app.screen.query_one(ProfilesPanel)
        table = panel.query_one(DataTable)
        table.focus()
        table.move_cursor(row=table.get_row_index("profile:ai/embed"))
        await pilot.press("space")
        await wait_for(pilot, lambda: app.containers.state.job is not None and not app.containers.state.job.running)
        await feed_containers(pilot, app, docker, machine_seconds=0)  # the list after the start
        await wait_for(pilot, lambda: "up (1/1)" in str(table.get_cell("profile:ai/embed", "state")))
        await drawn(pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_memory_check_asks_before_starting(snap_compare):
    app, _, opened = containers_app(Config(docker=DockerConfig(compose=ComposeConfig(memory_floor_gib=64))))

    async def run_before(pilot) -> None:
        await opened(pilot)
        app.containers.toggle_profile("docs", "ocr")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen) and bool(app.screen.query("#confirm-body")))
        await drawn(pilot)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)


def test_docker_down_banner_over_the_last_known_containers(snap_compare):
    """Docker went away: the banner says why and what to do; the list is the last known one, dimmed."""
    from spark_tui.models.containers import ContainerListing, EngineStatus
    from spark_tui.ui.messages import ContainersChanged

    app, docker, opened = containers_app()

    async def run_before(pilot) -> None:
        await opened(pilot)
        listing = next(docker.updates())
        engine = EngineStatus("down", "unix:///var/run/docker.sock", reason="Cannot connect to the Docker daemon: connection refused",
                              hint="start it: sudo systemctl start docker", retry_in=None, attempts=3)
        app.post_message(ContainersChanged(ContainerListing(listing.taken_at, engine, listing.containers, complete=False)))
        await wait_for(pilot, lambda: "Docker unreachable" in str(app.screen.query_one("#engine-banner").render()))
        await drawn(pilot)

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)
