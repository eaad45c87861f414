"""Helpers for the Services UI tests: demo probes on a frozen clock, fed through the app's own
message path, and an app whose probes are a real engine (nothing else polling)."""

from __future__ import annotations

from collections.abc import Sequence

from support import FakeClock, demo_sources

from spark_tui.ui.app import SparkApp, make_app
from spark_tui.models.settings import Config
from spark_tui.models.probes import ProbeSpec
from spark_tui.ui.messages import ProbesReported
from spark_tui.core.demo.probes import DemoProbes
from spark_tui.core.services.engine import ProbeEngine


def demo_app(clock: FakeClock) -> tuple[SparkApp, DemoProbes]:
    """The demo machine and demo services on `clock`; nothing runs until the test feeds it."""
    probes = DemoProbes(clock=clock)
    return make_app(sources=demo_sources(clock), start_polling=False, probes=probes), probes


def feed_demo_probes(app: SparkApp, probes: DemoProbes, checks: int = 0, step: float = 2.0) -> None:
    """The demo's history, then `checks` more rounds of checks `step` seconds apart."""
    app.post_message(ProbesReported(tuple(probes.replay())))
    for _ in range(checks):
        probes.clock.advance(step)  # type: ignore[attr-defined]
        app.post_message(ProbesReported(tuple(probes.check())))


def engine_app(specs: Sequence[ProbeSpec], config: Config | None = None) -> SparkApp:
    """An app probing `specs` with the real engine; GPU, system and containers stay idle
    (start the engine with `app.probes.start()` inside run_test)."""
    return make_app(config, sources=demo_sources(FakeClock()), start_polling=False, probes=ProbeEngine(specs))


