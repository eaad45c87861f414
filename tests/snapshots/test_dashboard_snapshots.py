"""What the user sees: the dashboard of a simulated Spark mid-inference, small and large."""

import pytest
from containers_support import feed_containers
from probe_support import feed_demo_probes
from support import FakeClock, demo_sources, drawn, feed, nvml_sources, wait_for

from spark_tui.ui.app import make_app
from spark_tui.core.demo.docker import DemoDocker
from spark_tui.core.demo.probes import DemoProbes
from spark_tui.core.demo.fake_nvml import FakeNvml, h100
from spark_tui.ui.services.panel import ServicesPanel

import pynvml
from spark_tui.ui.widgets.text_lines import TextLines


def demo_app(seconds: int):
    clock = FakeClock()
    sources = demo_sources(clock)
    app = make_app(sources=sources, start_polling=False)

    async def run_before(pilot) -> None:
        feed(app, sources, clock, seconds)
        await drawn(pilot)

    return app, run_before


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_dashboard_mid_inference(snap_compare, size):
    app, run_before = demo_app(150)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_dashboard_without_nvml(snap_compare):
    clock = FakeClock()
    sources = nvml_sources(FakeNvml(init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND), clock)
    app = make_app(sources=sources, start_polling=False)

    async def run_before(pilot) -> None:
        feed(app, sources, clock, 20)
        await drawn(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_dashboard_two_discrete_gpus(snap_compare):
    clock = FakeClock()
    sources = nvml_sources(FakeNvml(gpus=[h100(0), h100(1)]), clock)
    app = make_app(sources=sources, start_polling=False)

    async def run_before(pilot) -> None:
        feed(app, sources, clock, 30)
        await drawn(pilot)

    assert snap_compare(app, terminal_size=(160, 48), run_before=run_before)


@pytest.mark.parametrize("size", [(160, 48), (132, 30)])
def test_dashboard_with_services_and_profiles(snap_compare, size):
    """A wide terminal: services and (when tall enough) Compose profiles beside memory and CPU."""
    clock = FakeClock()
    docker = DemoDocker(clock=clock, pace_s=0.01)
    probes = DemoProbes(clock=clock)
    app = make_app(sources=demo_sources(clock), start_polling=False, containers=docker, probes=probes)

    async def run_before(pilot) -> None:
        await feed_containers(pilot, app, docker)
        feed_demo_probes(app, probes, checks=3)
        panel = app.screen.query_one(ServicesPanel)
        if panel.display:  # drawn with the next frame, or at the latest after LAZY_REDRAW_S
            await wait_for(pilot, lambda: "omniparser" in str(panel.query_one(TextLines).render()))
        await drawn(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_help_over_the_dashboard(snap_compare, size):
    from spark_tui.ui.screens.help import HelpScreen

    app, fed = demo_app(20)

    async def run_before(pilot) -> None:
        await fed(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await drawn(pilot)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
