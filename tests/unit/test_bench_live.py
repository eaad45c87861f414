"""A run as the live screen sees it: events folded into progress, per-second throughput, notices."""

from __future__ import annotations

from spark_tui.bench.live import LiveRun
from spark_tui.bench.plan import BenchPlan
from spark_tui.models.bench import (
    CellFinished,
    CellStarted,
    CellSummary,
    Notice,
    RequestsDigest,
    RunFinished,
    RunResult,
    RunStarted,
    ServerInfo,
    Tick,
)

PLAN = BenchPlan("embed", "tei", "http://127.0.0.1:8080", batch_sizes=(1, 8), concurrencies=(1,), duration_s=10)


def tick(t: float, cell: int | None, items: float, progress: float = 0.5, errors: int = 0) -> Tick:
    return Tick(t, cell, 1.0, progress, 0.25, items, items, None, errors, errors, 10, 0.01, 0.02, None)


def started(live: LiveRun) -> None:
    live.apply(RunStarted("run-1", "/runs/run-1", ServerInfo("tei", PLAN.url, True, max_batch=4), PLAN.cells()))


def test_a_run_folds_into_progress_series_and_cells() -> None:
    live = LiveRun(PLAN, clock=lambda: 100.0)
    assert live.phase == "starting" and [c.state for c in live.cells.values()] == ["pending", "pending"]
    started(live)
    assert live.phase == "running" and live.run_dir == "/runs/run-1"
    live.apply(CellStarted(PLAN.cells()[0], 2))
    assert live.current_cell is not None and live.current_cell.state == "running"
    parts = live.apply(RequestsDigest(0, 0.7, 30, 30, 30))
    assert "plot" in parts and live.open_items == 30
    live.apply(tick(1.0, 0, 42.0, progress=0.1))
    assert live.open_items == 0 and [p.items_per_s for p in live.seconds] == [42.0]
    assert live.cells[0].progress == 0.1 and live.cells[0].items_per_s == 42.0
    assert live.eta_s() == 0.9 * 10 + 10
    summary = CellSummary(PLAN.cells()[0], "ok", requests=300, ok=300, items_per_s=40.0)
    live.apply(CellFinished(summary))
    assert live.cells[0].state == "done" and live.summaries == [summary] and live.current is None


def test_errors_become_notices_when_they_first_appear_in_a_cell() -> None:
    live = LiveRun(PLAN, clock=lambda: 100.0)
    started(live)
    live.apply(CellStarted(PLAN.cells()[1], 2))
    parts = live.apply(RequestsDigest(1, 0.3, 2, 0, 0, 0, {"413": 2}, {"413": "batch size 8 > maximum allowed batch size 4"}))
    assert "notices" in parts
    assert live.notices[-1].level == "error"
    assert "cell 2 (text b=8 c=1): batch too large (HTTP 413) — batch size 8 > maximum allowed batch size 4" == live.notices[-1].message
    live.apply(RequestsDigest(1, 0.6, 1, 0, 0, 0, {"413": 1}, {"413": "again"}))
    assert len(live.notices) == 1 and live.errors == {"413": 3} and live.error_line() == "3× HTTP 413"
    live.apply(CellFinished(CellSummary(PLAN.cells()[1], "failed", "every request failed", requests=3, errors={"413": 3})))
    assert "cell 2 (text b=8 c=1) failed: every request failed" in live.notices[-1].message
    live.apply(Notice("warning", "memory is low"))
    assert live.notices[-1].message == "memory is low"


def test_the_end_marks_every_cell_and_says_where_results_are() -> None:
    live = LiveRun(PLAN, clock=lambda: 100.0)
    started(live)
    cells = (CellSummary(PLAN.cells()[0], "cancelled"),)
    live.apply(RunFinished(RunResult("run-1", "/runs/run-1", "cancelled", "cancelled; 1 of 2 cells measured", None, cells, 1.0, 5.0)))
    assert not live.running and live.run_progress == 1.0 and live.eta_s() == 0.0
    assert [c.state for c in live.cells.values()] == ["done", "not run"]
    assert live.notices[-1].message == "run cancelled: cancelled; 1 of 2 cells measured · results in /runs/run-1"
    assert live.notices[-1].level == "warning"


def test_a_server_problem_is_a_notice() -> None:
    live = LiveRun(PLAN)
    live.apply(RunStarted("r", None, ServerInfo("tei", PLAN.url, False, problem="cannot connect: connection refused"), PLAN.cells()))
    assert live.notices[-1].level == "error" and "connection refused" in live.notices[-1].message
