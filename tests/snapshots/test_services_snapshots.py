"""What the user sees of the services: the Services screen, a probe's details and the compact
panel, with the demo's services on a frozen clock, small and large."""

import pytest
from probe_support import demo_app, feed_demo_probes
from support import FakeClock, drawn, feed, wait_for
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Static

from spark_tui.ui.services.table import ProbeTable
from spark_tui.ui.services.panel import ServicesPanel


def services_app(keys: tuple[str, ...] = (), select: str | None = None):
    clock = FakeClock()
    app, probes = demo_app(clock)

    async def run_before(pilot) -> None:
        feed(app, app.sources, clock, 5)  # the status bar's "sampled" time
        feed_demo_probes(app, probes, checks=3)
        await pilot.press("s")
        await drawn(pilot)
        if select is not None:
            app.screen.query_one(ProbeTable).select(select)
        await pilot.press(*keys)
        await pilot.pause(0.2)
        await drawn(pilot)

    return app, run_before


@pytest.mark.parametrize("size", [(80, 24), (160, 48), (240, 48)])  # 240: serves, problem and source in columns
def test_services_screen(snap_compare, size):
    app, run_before = services_app()
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_probe_details_of_ollama(snap_compare, size):
    app, run_before = services_app(keys=("enter",), select="ollama")
    assert snap_compare(app, terminal_size=size, run_before=run_before)


class PanelHarness(Screen):
    """The compact panel as the dashboard would hold it: a side column beside other panels."""

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Static("(dashboard panels)", classes="panel")
            yield ServicesPanel(self.app.probes.state)  # type: ignore[attr-defined]

    DEFAULT_CSS = """
    PanelHarness Horizontal > Static { width: 1fr; height: 1fr; }
    PanelHarness ServicesPanel { width: 2fr; }
    """


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_services_panel(snap_compare, size):
    clock = FakeClock()
    app, probes = demo_app(clock)

    async def run_before(pilot) -> None:
        feed_demo_probes(app, probes, checks=3)
        await drawn(pilot)
        await app.push_screen(PanelHarness())
        await pilot.pause(0.2)
        await drawn(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_services_screen_with_nothing_to_probe(snap_compare):
    """No [[probes]] and no known service running: the screen says how to get some."""
    import time as wall

    from probe_support import engine_app

    from spark_tui.models.containers import ContainerListing, EngineStatus
    from spark_tui.ui.messages import ContainersChanged

    app = engine_app([])

    async def run_before(pilot) -> None:
        await pilot.press("s")
        app.post_message(ContainersChanged(ContainerListing(wall.time(), EngineStatus("up", "unix:///var/run/docker.sock"))))
        await wait_for(pilot, lambda: "No services to probe" in str(app.screen.query_one("#probe-detail").render()))
        await drawn(pilot)

    assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)
