"""Which state changes pop up: one notice per batch, a flapping service quiet until it settles.
Checks are fed through ProbeTrack and ProbesState as the app's handler feeds them, on a fake clock."""

from __future__ import annotations

from spark_tui.models.probes import ProbeRemoved, ProbeSpec, ProbeState
from spark_tui.ui.services.state import CALM_S, ChangeNotices, ProbesState
from spark_tui.core.services.checks import Outcome
from spark_tui.core.services.track import CheckOutput, ProbeTrack

T0 = 1_790_000_000.0
UP = CheckOutput(Outcome(latency_ms=1.0, status_code=200), None)
DOWN = CheckOutput(Outcome(state=ProbeState.DOWN, error="HTTP 503: Model is overloaded", status_code=503, latency_ms=1.0), None)


class Services:
    """Probes checked on a fake clock, their events applied as the app applies a batch."""

    def __init__(self, *names: str) -> None:
        self.now = T0
        self.state = ProbesState(lambda: self.now)
        self.notices = ChangeNotices()
        self.tracks = {name: ProbeTrack(ProbeSpec(name=name, kind="http", url=f"http://127.0.0.1:1/{name}"), 10) for name in names}

    def batch(self, step: float, **outputs: CheckOutput) -> str | None:
        """`step` seconds later, one check of each named probe in one batch; the notice's text."""
        self.now += step
        events = [self.tracks[name].record(output, self.now) for name, output in outputs.items()]
        notice = self.notices.take(self.state.apply(events), self.state.statuses, self.now)
        return notice.text if notice else None


def test_a_service_flapping_every_check_pops_up_once_then_once_when_it_settles() -> None:
    services = Services("vllm")
    assert services.batch(0, vllm=UP) is None  # the first check is no change
    notices = [services.batch(2, vllm=DOWN if n % 2 == 0 else UP) for n in range(30)]  # 200/503 alternating for a minute
    assert [n for n in notices if n] == ["vllm is down: HTTP 503: Model is overloaded (was up)"]
    assert services.state.statuses["vllm"].state is ProbeState.UP  # the row still shows each change
    steady = [services.batch(2, vllm=UP) for _ in range(20)]
    assert [(i, n) for i, n in enumerate(steady) if n] == [(14, f"vllm settled: up for {CALM_S:.0f} s after 30 changes")]  # 30 s after the last change


def test_a_service_that_settles_down_says_why() -> None:
    services = Services("tei")
    services.batch(0, tei=UP)
    assert services.batch(2, tei=DOWN) == "tei is down: HTTP 503: Model is overloaded (was up)"
    assert services.batch(2, tei=UP) is None
    assert services.batch(2, tei=DOWN) is None
    assert services.batch(CALM_S - 1, tei=DOWN) is None
    assert services.batch(1, tei=DOWN) == f"tei settled: down for {CALM_S:.0f} s (HTTP 503: Model is overloaded) after 3 changes"
    assert services.batch(CALM_S, tei=UP) == "tei is up (was down)"  # calm again: a change pops up at once


def test_changes_arriving_together_make_one_notice_with_the_worst_severity() -> None:
    names = [f"s{n}" for n in range(6)]
    services = Services(*names)
    services.batch(0, **dict.fromkeys(names, UP))
    services.now += 2
    events = [services.tracks[name].record(DOWN, services.now) for name in names]
    notice = services.notices.take(services.state.apply(events), services.state.statuses, services.now)
    assert notice is not None and notice.state is ProbeState.DOWN
    assert notice.text.splitlines() == [*(f"{n} is down: HTTP 503: Model is overloaded (was up)" for n in names[:4]), "… and 2 more"]


def test_a_removed_probe_is_forgotten() -> None:
    services = Services("web")
    services.batch(0, web=UP)
    services.batch(2, web=DOWN)
    services.batch(2, web=UP)  # quiet: flapping
    services.notices.take(services.state.apply([ProbeRemoved("web")]), services.state.statuses, services.now)
    services.now += CALM_S * 2
    assert services.notices.take([], services.state.statuses, services.now) is None  # no "settled" for a probe that is gone
