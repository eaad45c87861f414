"""A run as the live screen sees it: events folded into progress, per-second throughput, notices;
and the cell table's columns."""

from __future__ import annotations

from spark_tui.core.bench.live import LiveRun
from spark_tui.core.bench.plan import BenchPlan
from spark_tui.models.bench import (
    CellFinished,
    CellSpec,
    CellStarted,
    CellSummary,
    LatencyStats,
    MachineStats,
    Notice,
    RequestsDigest,
    RunFinished,
    RunResult,
    RunStarted,
    ServerInfo,
    Tick,
    WarmupTick,
)
from spark_tui.ui.bench.cell_table import COLUMNS, compact, fitting_columns, ms, summary_values, table_columns

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


def test_a_waiting_warm_up_shows_until_it_is_answered_or_the_run_starts() -> None:
    live = LiveRun(PLAN)
    assert live.apply(WarmupTick(3.0, 120.0, 1, 2)) == {"progress"}
    assert live.phase == "starting" and live.warmup is not None and "model loading?" in live.warmup.text()
    assert live.apply(RequestsDigest(-1, 3.1, 0, 0, 0, warmup=1)) == {"progress"} and live.warmup is None
    live.apply(WarmupTick(1.0, 120.0, 2, 2))
    started(live)
    assert live.warmup is None


# --- the cell table's columns (spark_tui.ui.bench.cell_table) ----------------------------------

ALL_KEYS = [c.key for c in COLUMNS]


def keys(columns) -> list[str]:  # type: ignore[no-untyped-def]
    return [c.key for c in columns]


def test_a_wide_table_shows_every_column_and_a_narrow_one_drops_the_least_telling_first() -> None:
    assert keys(fitting_columns(200, "texts")) == ALL_KEYS
    assert keys(fitting_columns(200, "texts", one_payload=True)) == [k for k in ALL_KEYS if k != "payload"]
    at_120 = keys(fitting_columns(120, "texts", one_payload=True))
    assert at_120 == [k for k in ALL_KEYS if k not in ("payload", "p95", "rps", "max")]
    # several payloads: the payload column stays (it tells the rows apart), tok/s gives way
    assert keys(fitting_columns(120, "frames")) == [k for k in ALL_KEYS if k not in ("p95", "rps", "max", "tokens")]
    narrow = keys(fitting_columns(80, "texts", one_payload=True))
    assert narrow == ["index", "batch", "conc", "status", "items", "p50", "p90", "p99", "errors"]
    assert keys(fitting_columns(20, "texts", one_payload=True)) == ["index", "batch", "conc", "status", "items", "p50", "p99", "errors"]
    # a batch column of one value says nothing per row: it goes before mean
    assert keys(fitting_columns(80, "texts", one_payload=True, one_batch=True)) == \
        ["index", "conc", "status", "items", "mean", "p50", "p90", "p99", "errors"]


def test_final_figures_are_measured_so_a_bordered_80_column_table_keeps_more() -> None:
    spec = PLAN.cells()[0]
    done = summary_values(CellSummary(spec, "ok", requests=945, ok=945, items_per_s=378.2, requests_per_s=47.27))
    assert keys(fitting_columns(76, "texts", one_payload=True)) == ["index", "batch", "conc", "status", "items", "p50", "p90", "p99", "errors"]
    assert "mean" in keys(fitting_columns(76, "texts", one_payload=True, rows=[done]))


def parse_summary(index: int, payload: str, batch: int, concurrency: int, **figures) -> CellSummary:  # type: ignore[no-untyped-def]
    latency = LatencyStats(100, 0.41, 0.40, 0.52, 0.55, 0.61, 0.7, 0.3)
    return CellSummary(CellSpec(index, payload, batch, concurrency, 20.0, None), "ok", requests=100, ok=100, items_per_s=2.4,
                       requests_per_s=2.4, latency=latency, server_time=LatencyStats(100, 0.35, 0.351, 0.4, 0.41, 0.45, 0.5, 0.3),
                       machine=MachineStats(20, gpu_util_mean=80, gpu_power_mean=90, mem_available_min=70 * 1024**3), **figures)


def test_the_server_time_and_the_adapter_figures_get_columns_where_they_fit() -> None:
    omni = [parse_summary(i, payload, 1, c, extra_means={"elements": 87.25})
            for i, (payload, c) in enumerate((p, c) for p in ("1080p", "1440p", "4k") for c in (1, 2))]
    columns = table_columns(omni)
    assert [c.key for c in columns if c not in COLUMNS] == ["server", "extra.elements"]
    values = summary_values(omni[0], columns)
    assert (values["server"], values["extra.elements"], values["mean"], values["p90"]) == ("351", "87.2", "410", "520")
    rows = [summary_values(s, columns) for s in omni]
    fit = lambda width: keys(fitting_columns(width, "frames", columns=columns, one_batch=True, rows=rows))  # noqa: E731
    assert fit(80) == ["index", "payload", "conc", "status", "items", "mean", "p50", "p90", "p99", "errors"]
    assert fit(120) == ["index", "payload", "conc", "status", "items", "mean", "p50", "p90", "p99", "errors", "extra.elements", "gpu",
                        "power", "avail"]
    assert {"server", "extra.elements", "max", "rps"} <= set(fit(160))
    # docling: documents (always the batch size) stay out; the status labels are counted
    docling = [parse_summary(0, "pdf", 4, 1, extra_means={"documents": 4.0, "polls": 2.0}, extra_counts={"status": {"success": 40}})]
    columns = table_columns(docling)
    assert [c.key for c in columns if c not in COLUMNS] == ["server", "extra.polls", "counts.status"]
    assert summary_values(docling[0], columns)["counts.status"] == "success:40"
    assert [str(c.header) for c in columns if c.key == "extra.polls"] == ["polls"]
    assert "tokens" not in [c.key for c in columns]  # parse runs count no tokens: no tok/s column of n/a
    assert "tokens" in [c.key for c in table_columns()]  # until a cell says so


def test_figures_are_compact() -> None:
    assert [compact(v) for v in (None, 55.8, 9_870, 54_800, 212_400, 2_593_337, 25_930_000)] == \
        ["n/a", "55.8", "9,870", "54.8k", "212k", "2.59M", "25.9M"]
    assert [ms(v) for v in (None, 0.0036, 0.0255, 0.1066, 1.2345)] == ["n/a", "3.6", "25.5", "107", "1,234"]
    estimated = CellSummary(PLAN.cells()[0], "ok", tokens_per_s=212_400, tokens_estimated=True)
    assert summary_values(estimated)["tokens"] == "~212k"
