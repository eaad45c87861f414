"""What the Services views are built from, without a screen: the words and glyphs, the state the
app keeps, and the demo's services."""

from __future__ import annotations

from spark_tui.core.services import text as text
from spark_tui.models.probes import ProbeAdded, ProbeChecked, ProbeRemoved, ProbeSpec, ProbeState, ProbeStatus
from spark_tui.ui.services.state import ProbesState
from spark_tui.core.demo.probes import DOCLING_READY_AT_S, DemoProbes
from spark_tui.core.services.checks import Outcome
from spark_tui.core.services.track import CheckOutput, ProbeTrack

SPEC = ProbeSpec(name="web", kind="http", url="http://127.0.0.1:8000/")


class Clock:
    def __init__(self, now: float = 1_790_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_sparkline_scales_to_the_highest_answer_and_shows_gaps():
    assert text.sparkline([1.0, 2.0, None, 4.0, 8.0], 5) == "▁▂·▄█"
    assert text.sparkline([5.0, 5.0], 4) == "  ██"  # padded on the left
    assert text.sparkline([None, None], 3) == " ··"
    assert text.sparkline([0.0, 0.0], 2) == "▁▁"
    assert text.sparkline(list(range(1, 101)), 3) == "███"  # only the last checks
    assert text.sparkline([1.0], 0) == ""


def test_words_for_times_are_coarse_so_cells_change_rarely():
    assert [text.ago(s) for s in (None, 3, 15, 59, 61, 7200, 200_000)] == ["", "just now", "10s ago", "50s ago", "1m ago", "2h ago", "2d ago"]
    assert text.for_how_long(5) == "" and text.for_how_long(125) == "for 2m"
    assert [text.latency(v) for v in (None, 0.42, 12.4, 1432.0)] == ["n/a", "0.4 ms", "12 ms", "1.43 s"]
    assert [text.coarse_latency(v) for v in (None, 0.4, 12.4, 1432.0)] == ["—", "<1 ms", "12 ms", "1.4 s"]


def test_latency_summary_counts_the_unanswered():
    assert text.latency_summary([]) == "not checked yet"
    assert text.latency_summary([None, None]) == "no answers in the last 2 checks"
    summary = text.latency_summary([1.0, 2.0, 3.0, None])
    assert summary == "median 2.0 ms · p95 3.0 ms · max 3.0 ms · over 4 checks · 1 unanswered"


def test_problem_is_the_current_error_or_the_last_one_with_its_age():
    track = ProbeTrack(SPEC, 10)
    down = track.record(CheckOutput(Outcome(state=ProbeState.DOWN, error="connection refused"), None), 100.0).status
    assert text.problem(down, 101.0) == "connection refused"
    up = track.record(CheckOutput(Outcome(latency_ms=1.0), None), 110.0).status
    assert text.problem(up, 400.0) == "last: connection refused · 5m ago"
    assert text.problem(ProbeStatus(spec=SPEC), 0.0) == ""
    assert text.source(SPEC) == "config"


def test_state_keeps_one_entry_per_distinct_error_and_reports_changes():
    state = ProbesState(Clock())
    track = ProbeTrack(SPEC, 10)
    events = [ProbeAdded(track.status())]
    events.append(track.record(CheckOutput(Outcome(latency_ms=1.0), None), 1.0))
    for at in (2.0, 3.0, 4.0):  # the same failure three times
        events.append(track.record(CheckOutput(Outcome(state=ProbeState.DOWN, error="HTTP 503"), None), at))
    events.append(track.record(CheckOutput(Outcome(state=ProbeState.DOWN, error="connection refused"), None), 5.0))
    changes = state.apply(events)
    assert [(c.previous, c.current) for c in changes] == [(ProbeState.UP, ProbeState.DOWN)]
    assert [e.error for e in state.errors["web"]] == ["HTTP 503", "connection refused"]
    assert state.summary() == "1 down" and state.take_dirty() == {"web"} and state.take_dirty() == set()
    state.apply([ProbeRemoved("web")])
    assert state.statuses == {} and state.summary() == "no probes"


def test_a_probe_added_with_history_keeps_its_last_error():
    track = ProbeTrack(SPEC, 10)
    track.record(CheckOutput(Outcome(state=ProbeState.DOWN, error="HTTP 502"), None), 1.0)
    track.record(CheckOutput(Outcome(latency_ms=1.0), None), 2.0)
    state = ProbesState(Clock())
    assert state.apply([ProbeAdded(track.status())]) == []
    assert [(e.at, e.error) for e in state.errors["web"]] == [(1.0, "HTTP 502")]


def test_demo_services_are_the_same_for_the_same_clock():
    first = [e.status for e in DemoProbes(clock=Clock()).replay()]
    second = [e.status for e in DemoProbes(clock=Clock()).replay()]
    assert first == second
    by_name = {s.name: s for s in first}
    assert {n: s.state for n, s in by_name.items()} == {
        "postgres": ProbeState.UP, "tei": ProbeState.DEGRADED, "docling": ProbeState.DEGRADED, "omniparser": ProbeState.DOWN,
        "vllm": ProbeState.UP, "ollama": ProbeState.UP, "litellm": ProbeState.UP, "open-webui": ProbeState.UP,
    }
    assert set(by_name["omniparser"].latencies) == {None}
    assert by_name["tei"].result.error.startswith("slow: ")
    assert by_name["ollama"].result.models[0].loaded and by_name["ollama"].result.details["loaded_gpu_bytes"] > 0
    assert by_name["postgres"].spec.display_url == "postgresql://spark:***@127.0.0.1:5432"
    assert by_name["litellm"].last_error == "not ready: HTTP 503: database not connected"


def test_demo_docling_turns_ready_once():
    clock = Clock()
    demo = DemoProbes(clock=clock)
    demo.replay()
    clock.now += DOCLING_READY_AT_S
    changes = []
    for _ in range(3):
        clock.now += 2
        changes += [e.change for e in demo.check("docling") if isinstance(e, ProbeChecked) and e.change]
    assert [c.describe() for c in changes] == ["docling is up (was degraded)"]
    demo.set_probes([])  # the demo's set is fixed
    assert len(demo.statuses()) == 8


def test_the_wide_table_never_shows_less_than_the_narrow_one_at_120_columns():
    from spark_tui.ui.services.table import NARROW, PAD, WIDE, WIDE_FROM, layout

    narrow = layout(NARROW, 118)["detail"]  # "Problem or serves" in a 120-column terminal
    for width in range(WIDE_FROM, WIDE_FROM + 80):
        wide = layout(WIDE, width)
        assert min(wide["serves"], wide["problem"]) >= narrow, width
        assert sum(wide.values()) + 2 * PAD * len(wide) <= width  # and it fits
