"""The Inference screen (key `i`) of the simulated Spark mid-inference: vLLM's figures and graphs
from its simulated load (the demo's page, read by the real parser), Ollama's loaded model."""

from __future__ import annotations

import pytest
from support import FakeClock, demo_sources, drawn
from textual.pilot import Pilot

from spark_tui.core.demo.inference import DemoInference
from spark_tui.ui.app import make_app
from spark_tui.ui.messages import GpuSampled, SystemSampled


def demo_app(seconds: int, key: str | None = "i"):
    clock = FakeClock()
    sources = demo_sources(clock)
    app = make_app(sources=sources, start_polling=False, inference=DemoInference(clock=clock, wall_clock=clock))

    async def run_before(pilot: Pilot) -> None:
        for _ in range(seconds):  # the machine and the servers sampled each simulated second, in step
            clock.advance(1.0)
            app.post_message(GpuSampled(sources.gpu.sample()))
            app.post_message(SystemSampled(sources.system.sample()))
            await app.inference.poll()
        if key:
            await pilot.press(key)
        await drawn(pilot)
        await pilot.pause()

    return app, run_before


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_inference_screen_mid_inference(snap_compare, size):
    app, run_before = demo_app(150)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_dashboard_with_the_inference_panel(snap_compare):
    """160×48: the panel under the GPU, its tokens/s graph on the GPU graphs' time axis."""
    app, run_before = demo_app(150, key=None)
    assert snap_compare(app, terminal_size=(160, 48), run_before=run_before)
