"""The runner's contract with the UI: event order, ticks, guards, a sampler beside the run."""

from __future__ import annotations

import csv
import time
from collections import Counter
from pathlib import Path

import pytest
from servers.bench_servers import ApiServer

from spark_tui.core.bench.plan import GIB, BenchPlan
from spark_tui.core.bench.runner import run_benchmark
from spark_tui.core.bench.saved_runs import read_throughput
from spark_tui.models.bench import (
    CellFinished,
    CellStarted,
    MachineReading,
    Notice,
    RequestsFinished,
    RunFinished,
    RunStarted,
    Tick,
)


def test_events_come_in_order_with_ticks_and_machine_readings(tmp_path: Path) -> None:
    events: list[object] = []
    readings = iter(range(1000))

    def sampler() -> MachineReading:
        n = next(readings)
        return MachineReading(taken_at=time.time(), gpu_util_pct=50.0 + n % 2, gpu_power_w=100.0, gpu_temp_c=60.0, mem_available_bytes=100 * GIB, mem_used_bytes=20 * GIB)

    with ApiServer("openai", delay_s=0.002) as server:
        plan = BenchPlan("embed", "openai", server.url, batch_sizes=(2,), concurrencies=(1, 2), duration_s=1.2, warmup_requests=1)
        result = run_benchmark(plan, events.append, machine_sampler=sampler, results_dir=str(tmp_path))
    kinds = [type(e) for e in events if not isinstance(e, (Tick, RequestsFinished, Notice))]
    assert kinds == [RunStarted, CellStarted, CellFinished, CellStarted, CellFinished, RunFinished]
    ticks = [e for e in events if isinstance(e, Tick)]
    measured = [t for t in ticks if t.cell is not None and t.requests_per_s > 0]
    assert len(ticks) >= 2 and measured
    assert all(t.machine is not None and t.machine.gpu_power_w == 100.0 for t in ticks[1:])
    assert measured[-1].p50_s is not None and measured[-1].items_per_s == measured[-1].requests_per_s * 2
    records = [r for e in events if isinstance(e, RequestsFinished) for r in e.records]
    measured_records = [r for r in records if not r.warmup]
    assert len(measured_records) == sum(c.requests for c in result.cells)
    cell = result.cells[0]
    assert cell.machine is not None and cell.machine.gpu_power_mean == 100.0 and cell.machine.mem_available_min == 100 * GIB
    rows = Path(result.run_dir or "", "timeseries.csv").read_text().splitlines()
    assert rows[0].startswith("t_s,span_s,cell,payload") and len(rows) - 1 >= len(ticks) - 1


def test_timeseries_rows_hold_one_cell_each(tmp_path: Path) -> None:
    # cells end between two ticks: the second a cell ends in is split, its part a row of its own
    with ApiServer("openai", delay_s=0.002) as server:
        plan = BenchPlan("embed", "openai", server.url, batch_sizes=(2,), concurrencies=(1, 2), duration_s=1.2, warmup_requests=1)
        result = run_benchmark(plan, results_dir=str(tmp_path))
    run_dir = Path(result.run_dir or "")
    with open(run_dir / "timeseries.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    items_in_rows: Counter[int] = Counter()
    for row in rows:
        if row["cell"]:
            items_in_rows[int(row["cell"])] += int(row["items"])
    items_in_cells = {c.spec.index: round((c.items_per_s or 0) * c.elapsed_s) for c in result.cells}
    assert dict(items_in_rows) == items_in_cells
    spans = [float(row["span_s"]) for row in rows]
    assert any(span < 0.99 for span in spans[1:]) and sum(spans) == pytest.approx(float(rows[-1]["t_s"]), abs=0.01)
    points = read_throughput(run_dir)
    assert {p.cell for p in points} >= {0, 1} and max(p.items_per_s for p in points) < 2 * max(c.items_per_s or 0 for c in result.cells)


def test_memory_floor_aborts_the_run_and_keeps_results(tmp_path: Path) -> None:
    available = iter([64 * GIB, 64 * GIB] + [2 * GIB] * 1000)

    def sampler() -> MachineReading:
        return MachineReading(taken_at=time.time(), mem_available_bytes=next(available))

    with ApiServer("openai", delay_s=0.002) as server:
        plan = BenchPlan("embed", "openai", server.url, batch_sizes=(1,), concurrencies=(1, 2), duration_s=20, warmup_requests=0)
        started = time.monotonic()
        result = run_benchmark(plan, machine_sampler=sampler, results_dir=str(tmp_path))
    assert time.monotonic() - started < 10
    assert result.status == "aborted"
    assert "available memory fell to 2.0 GiB, below the 8 GiB floor" in (result.reason or "")
    assert result.cells[0].status == "cancelled" and result.cells[0].ok > 0
    assert '"status": "aborted"' in Path(result.run_dir or "", "run.json").read_text()


def test_a_failing_listener_or_sampler_does_not_stop_the_run(tmp_path: Path) -> None:
    calls = []

    def listener(event: object) -> None:
        calls.append(event)
        raise RuntimeError("the UI fell over")

    def sampler() -> MachineReading:
        raise OSError("NVML went away")

    with ApiServer("openai") as server:
        plan = BenchPlan("embed", "openai", server.url, batch_sizes=(1,), concurrencies=(1,), requests=5)
        result = run_benchmark(plan, listener, machine_sampler=sampler, results_dir=str(tmp_path))
    assert result.status == "completed"
    assert isinstance(calls[-1], RunFinished)
    assert any(isinstance(e, Notice) and "machine readings failed" in e.message for e in calls)
