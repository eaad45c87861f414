"""What the user sees: the dashboard of a simulated Spark mid-inference, small and large."""

import pytest
from support import FakeClock, demo_sources, feed, nvml_sources

from spark_tui.app import make_app
from spark_tui.sources.fake_nvml import FakeNvml, h100

import pynvml


def demo_app(seconds: int):
    clock = FakeClock()
    sources = demo_sources(clock)
    app = make_app(sources=sources, start_polling=False)

    async def run_before(pilot) -> None:
        feed(app, sources, clock, seconds)
        await pilot.pause()
        await pilot.pause(0.2)

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
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_dashboard_two_discrete_gpus(snap_compare):
    clock = FakeClock()
    sources = nvml_sources(FakeNvml(gpus=[h100(0), h100(1)]), clock)
    app = make_app(sources=sources, start_polling=False)

    async def run_before(pilot) -> None:
        feed(app, sources, clock, 30)
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=(160, 48), run_before=run_before)
