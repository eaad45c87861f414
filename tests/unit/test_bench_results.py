"""The run directory: written as the run goes, read back whole, torn or killed."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from spark_tui.core.bench.report import cell_notes, summary_cells, summary_headers
from spark_tui.core.bench.results import RunStore, runs_dir
from spark_tui.core.bench.saved_runs import compare_runs, iter_records, list_runs, load_run, resolve_run
from spark_tui.core.bench.stats import summarize_cell
from spark_tui.models.bench import CellSpec, CellSummary, MachineReading, RequestRecord, ServerInfo

CELLS = (CellSpec(0, "text", 1, 1, 5.0, None), CellSpec(1, "text", 8, 1, 5.0, None))


def record(cell: int, t: float, ok: bool = True) -> RequestRecord:
    return RequestRecord(cell, t, 0.01, ok, 8 if cell else 1, 200 if ok else 503, None if ok else "5xx", None if ok else "down", tokens=10)


def make_run(base: Path, *, finish: bool) -> RunStore:
    store = RunStore.create(base, "embed", "tei")
    store.start({"kind": "embed", "adapter": "tei", "url": "http://h"}, {"hostname": "x"}, CELLS, started_at=1_700_000_000.0)
    store.set_server(ServerInfo("tei", "http://h", True, model="bge", max_batch=32))
    first = [record(0, 1 + i / 10) for i in range(10)]
    for r in first:
        store.add_record(r)
    store.add_second(1.0, CELLS[0], 10, 10, 100, 0, 0.01, 0.012, MachineReading(0, gpu_power_w=99.5, mem_available_bytes=10))
    store.set_summaries([summarize_cell(CELLS[0], first, 1.0)])
    for i in range(5):
        store.add_record(record(1, 3 + i / 10, ok=i != 4))
    store.flush()
    if finish:
        store.finish("completed", None, 1_700_000_100.0)
        store.close()
    return store


def test_files_are_complete_and_load_back(tmp_path: Path) -> None:
    store = make_run(tmp_path, finish=True)
    run = load_run(store.directory)
    assert (run.status, run.kind, run.adapter, run.server.model if run.server else None) == ("completed", "embed", "tei", "bge")
    assert [s.spec.index for s in run.summaries] == [0]  # a completed run's summaries are taken as saved
    assert run.best_items_per_s == pytest.approx(10.0)
    assert run.problem is None
    assert len(list(iter_records(store.directory))) == 15
    with open(store.directory / "timeseries.csv", newline="") as f:
        row = next(csv.DictReader(f))
    assert (row["cell"], row["gpu_power_w"], row["gpu_util_pct"], row["p99_ms"]) == ("0", "99.5", "", "12")
    with open(store.directory / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["status"] == "ok" and float(rows[0]["items_per_s"]) == 10.0
    assert json.loads((store.directory / "run.json").read_text())["started"] == "2023-11-14T22:13:20+00:00"


def test_a_killed_run_is_interrupted_and_its_last_cell_rebuilt(tmp_path: Path) -> None:
    store = make_run(tmp_path, finish=False)
    doc = json.loads((store.directory / "run.json").read_text())
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()
    doc["pid"] = int(dead)
    (store.directory / "run.json").write_text(json.dumps(doc))
    with open(store.directory / "requests.jsonl", "ab") as f:
        f.write(b'{"cell":1,"t":9.0,"lat')  # torn by the kill
    run = load_run(store.directory)
    assert run.status == "interrupted" and "ended before the run finished" in (run.reason or "")
    rebuilt = run.summaries[1]
    assert (rebuilt.spec.index, rebuilt.status, rebuilt.ok, rebuilt.errors) == (1, "cancelled", 4, {"5xx": 1})
    assert rebuilt.items_per_s == pytest.approx(32 / 0.41, rel=0.01)
    (listed,) = list_runs(tmp_path)  # `bench runs` and `compare` see the same best rate
    assert listed.best_items_per_s == run.best_items_per_s == rebuilt.items_per_s


def test_the_best_rate_never_comes_from_a_failed_cell() -> None:
    from spark_tui.core.bench.saved_runs import SavedRun

    def cell(index: int, status: str, rate: float) -> CellSummary:
        return CellSummary(CellSpec(index, "text", 8, 1, 5.0, None), status, requests=10, ok=5, items_per_s=rate)  # type: ignore[arg-type]

    run = SavedRun("r", Path("/x"), "completed", None, None, None, summaries=(cell(0, "ok", 100.0), cell(1, "failed", 15_729.0), cell(2, "degraded", 120.0)))
    assert run.best_items_per_s == 120.0
    assert SavedRun("r", Path("/x"), "completed", None, None, None, summaries=(cell(0, "failed", 9.0),)).best_items_per_s is None


def test_summary_csv_carries_the_adapters_own_figures(tmp_path: Path) -> None:
    store = RunStore.create(tmp_path, "parse", "omniparser")
    spec = CellSpec(0, "4k", 1, 1, 5.0, None)
    records = [RequestRecord(0, 1.0 + i, 0.5, True, 1, 200, extra={"elements": 20 + i, "status": "success"}) for i in range(3)]
    store.set_summaries([summarize_cell(spec, records, 3.0)])
    store.close()
    with open(store.directory / "summary.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert (row["elements_mean"], row["status_counts"], row["latency_mean_ms"], row["latency_p90_ms"]) == ("21", "success:3", "500", "500")
    assert list(row)[-1] == "reason"


def test_a_running_run_of_this_process_stays_running(tmp_path: Path) -> None:
    store = make_run(tmp_path, finish=False)
    assert load_run(store.directory).status == "running"
    assert json.loads((store.directory / "run.json").read_text())["pid"] == os.getpid()


def test_damaged_runs_are_listed_with_their_problem(tmp_path: Path) -> None:
    good = make_run(tmp_path, finish=True)
    (tmp_path / "20990101-000000-embed-x-0000").mkdir()
    broken = tmp_path / "20990101-000001-embed-x-0001"
    broken.mkdir()
    (broken / "run.json").write_text("{not json")
    listed = list_runs(tmp_path)
    assert [r.run_id for r in listed] == [broken.name, "20990101-000000-embed-x-0000", good.run_id]
    assert "unreadable" in (listed[0].problem or "") and listed[1].problem == "run.json is missing"
    assert list_runs(tmp_path / "none") == []


def test_compare_and_resolve(tmp_path: Path) -> None:
    a = load_run(make_run(tmp_path, finish=True).directory)
    b_store = make_run(tmp_path, finish=True)
    b = load_run(b_store.directory)
    (row,) = compare_runs(a, b)
    assert (row.batch, row.items_per_s_ratio, row.p99_ratio) == (1, pytest.approx(1.0), pytest.approx(1.0))
    assert resolve_run(b_store.run_id, tmp_path) == b_store.directory
    assert resolve_run(b_store.run_id[-4:], tmp_path) == b_store.directory
    with pytest.raises(ValueError, match="matches 2 runs"):
        resolve_run("2", tmp_path)
    with pytest.raises(ValueError, match="no saved run 'zzz'"):
        resolve_run("zzz", tmp_path)


def test_default_location_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert runs_dir() == tmp_path / "spark-tui" / "runs"
    with pytest.raises(OSError, match="cannot save results in"):
        RunStore.create("/proc/nope", "embed", "tei")


def test_report_rows() -> None:
    spec = CellSpec(2, "4k", 1, 2, 5.0, None)
    summary = summarize_cell(spec, [RequestRecord(2, 1.0, 0.5, True, 1, 200, tokens=5, tokens_estimated=True)], 2.0)
    row = summary_cells(summary)
    assert dict(zip(summary_headers("frames"), row, strict=True)) | {} == {
        "#": "3", "payload": "4k", "batch": "1", "conc": "2", "status": "ok", "req/s": "0.50", "frames/s": "0.5", "tok/s": "~2",
        "mean ms": "500.0", "p50 ms": "500.0", "p90 ms": "500.0", "p95 ms": "500.0", "p99 ms": "500.0", "max ms": "500.0", "errors": "0/1", "GPU %": "n/a", "GPU W": "n/a",
        "min avail GiB": "n/a"}
    assert "server ms" not in summary_headers("frames", [summary])  # no server reported its time
    timed = summarize_cell(spec, [RequestRecord(2, 1.0, 0.5, True, 1, 200, server_s=0.125)], 2.0)
    headers = summary_headers("frames", [summary, timed])
    assert headers[headers.index("max ms") + 1] == "server ms"
    assert dict(zip(headers, summary_cells(timed, [summary, timed]), strict=True))["server ms"] == "125.0"
    assert dict(zip(headers, summary_cells(summary, [summary, timed]), strict=True))["server ms"] == "n/a"
    skipped = CellSummary(spec, "skipped", "batch 64 is over the server's limit of 32 items per request")
    assert cell_notes([summary, skipped]) == ["cell 3 (4k b=1 c=2) skipped: batch 64 is over the server's limit of 32 items per request"]


def test_compare_keeps_the_sweeps_order_when_only_b_ran_a_cell() -> None:
    """#14: cells only B ran were appended after A's; they sit where the sweep puts them."""
    from spark_tui.core.bench.saved_runs import SavedRun
    from spark_tui.models.bench import CellSpec, CellSummary

    def summary(index: int, batch: int, concurrency: int) -> CellSummary:
        return CellSummary(spec=CellSpec(index, "text", batch, concurrency, 5.0, None), status="ok", requests=10, ok=10)

    def run(name: str, cells: list[tuple[int, int]]) -> SavedRun:
        summaries = tuple(summary(i, batch, conc) for i, (batch, conc) in enumerate(cells))
        return SavedRun(name, Path(name), "completed", None, None, None, summaries=summaries)

    a = run("a", [(1, 1), (1, 8), (8, 1)])
    b = run("b", [(1, 1), (1, 4), (1, 8), (8, 1), (8, 4)])
    order = [(row.batch, row.concurrency) for row in compare_runs(a, b)]
    assert order == [(1, 1), (1, 4), (1, 8), (8, 1), (8, 4)]
    assert [row.a is not None for row in compare_runs(a, b)] == [True, False, True, True, False]
