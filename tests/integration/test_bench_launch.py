"""The dashboard's benchmark process: events over a pipe, cancel, a killed process, a closed pipe."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

from servers.bench_servers import ApiServer

from spark_tui.core.bench.events import StreamRequest
from spark_tui.core.bench.launch import ChildRun
from spark_tui.core.bench.plan import BenchPlan
from spark_tui.core.bench.saved_runs import load_run
from spark_tui.models.bench import CellFinished, CellStarted, RequestsDigest, RunFinished, RunStarted, Tick

WAIT_S = 30


class Listener:
    def __init__(self) -> None:
        self.events: list[object] = []
        self.finished = threading.Event()
        self.ticked = threading.Event()

    def __call__(self, event: object) -> None:
        self.events.append(event)
        if isinstance(event, Tick) and event.cell is not None and event.requests_per_s > 0:
            self.ticked.set()
        if isinstance(event, RunFinished):
            self.finished.set()

    @property
    def result(self):  # type: ignore[no-untyped-def]
        assert isinstance(self.events[-1], RunFinished)
        return self.events[-1].result


def start(plan: BenchPlan, tmp_path: Path) -> tuple[ChildRun, Listener]:
    listener = Listener()
    run = ChildRun(StreamRequest(plan, results_dir=str(tmp_path)), listener)
    run.start()
    return run, listener


def test_a_run_streams_its_events_and_ends_with_the_result(tmp_path: Path) -> None:
    with ApiServer("openai", delay_s=0.002) as server:
        plan = BenchPlan("embed", "openai", server.url, batch_sizes=(2,), concurrencies=(1, 2), duration_s=1.2, warmup_requests=1)
        run, listener = start(plan, tmp_path)
        assert listener.finished.wait(WAIT_S)
    kinds = [type(e) for e in listener.events if not isinstance(e, (Tick, RequestsDigest))]
    assert kinds == [RunStarted, CellStarted, CellFinished, CellStarted, CellFinished, RunFinished]
    digests = [e for e in listener.events if isinstance(e, RequestsDigest)]
    assert sum(d.warmup for d in digests) >= 1 and sum(d.requests for d in digests if d.cell >= 0) == sum(c.requests for c in listener.result.cells)
    assert listener.result.status == "completed" and not run.running
    assert run.process is not None and run.process.wait(5) == 0
    assert json.loads(Path(listener.result.run_dir, "run.json").read_text())["status"] == "completed"


def test_cancel_keeps_what_was_measured(tmp_path: Path) -> None:
    with ApiServer("openai", delay_s=0.002) as server:
        plan = BenchPlan("embed", "openai", server.url, batch_sizes=(1,), concurrencies=(1, 2), duration_s=30, warmup_requests=0)
        run, listener = start(plan, tmp_path)
        assert listener.ticked.wait(WAIT_S)
        run.cancel()
        assert listener.finished.wait(10)
    result = listener.result
    assert result.status == "cancelled" and result.cells[0].status == "cancelled" and result.cells[0].requests > 0
    saved = load_run(result.run_dir)
    assert saved.status == "cancelled" and saved.summaries[0].requests == result.cells[0].requests
    assert run.process is not None and run.process.wait(5) == 130


def test_a_killed_process_still_ends_the_run_with_what_is_on_disk(tmp_path: Path) -> None:
    with ApiServer("openai", delay_s=0.002) as server:
        plan = BenchPlan("embed", "openai", server.url, batch_sizes=(1,), concurrencies=(1,), duration_s=30, warmup_requests=0)
        run, listener = start(plan, tmp_path)
        assert listener.ticked.wait(WAIT_S)
        assert run.process is not None
        os.kill(run.process.pid, signal.SIGKILL)
        assert listener.finished.wait(10)
    result = listener.result
    assert result.status == "interrupted" and "killed by signal 9" in (result.reason or "")
    assert result.run_dir and result.cells and result.cells[0].requests > 0  # rebuilt from requests.jsonl


def test_the_run_stops_when_the_dashboard_is_gone(tmp_path: Path) -> None:
    with ApiServer("openai", delay_s=0.002) as server:
        plan = BenchPlan("embed", "openai", server.url, batch_sizes=(1,), concurrencies=(1,), duration_s=30, warmup_requests=0)
        run, listener = start(plan, tmp_path)
        assert listener.ticked.wait(WAIT_S)
        assert run.process is not None and run.process.stdin is not None
        run.process.stdin.close()  # what the pipe looks like when the dashboard died
        assert listener.finished.wait(10)
    assert listener.result.status == "cancelled"


def test_stop_at_exit_cancels_and_waits_for_the_results(tmp_path: Path) -> None:
    with ApiServer("openai", delay_s=0.002) as server:
        plan = BenchPlan("embed", "openai", server.url, batch_sizes=(1,), concurrencies=(1,), duration_s=30, warmup_requests=0)
        run, listener = start(plan, tmp_path)
        assert listener.ticked.wait(WAIT_S)
        run.stop(timeout=5)
        assert run.process is not None and run.process.poll() is not None
    runs = list(tmp_path.iterdir())
    assert len(runs) == 1 and load_run(runs[0]).status == "cancelled"


def test_a_run_that_cannot_start_says_why(tmp_path: Path) -> None:
    plan = BenchPlan("embed", "openai", "http://127.0.0.1:9", batch_sizes=(0,))  # never validated before the process
    run, listener = start(plan, tmp_path)
    assert listener.finished.wait(WAIT_S)
    assert listener.result.status == "failed" and listener.result.reason == "batch size 0 is out of range (1 to 4096)"


def test_the_cli_streams_events_as_json_lines(tmp_path: Path) -> None:
    import subprocess
    import sys

    from spark_tui.core.bench.events import decode_event

    with ApiServer("openai", delay_s=0.002) as server:
        proc = subprocess.run(
            [sys.executable, "-m", "spark_tui", "bench", "embed", "--url", server.url, "--adapter", "openai", "--batch", "1",
             "--concurrency", "1", "--duration", "1", "--warmup", "0", "--events", "--out", str(tmp_path)],
            capture_output=True, timeout=60,
        )
    assert proc.returncode == 0, proc.stderr
    events = [decode_event(line) for line in proc.stdout.splitlines()]
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)
    assert events[-1].result.status == "completed" and any(isinstance(e, RequestsDigest) for e in events)


PARENT = """
import sys, time
from spark_tui.core.bench.events import StreamRequest
from spark_tui.core.bench.launch import ChildRun
from spark_tui.core.bench.plan import BenchPlan

plan = BenchPlan("embed", "openai", sys.argv[1], batch_sizes=(1,), concurrencies=(1,), duration_s=60, warmup_requests=0)
run = ChildRun(StreamRequest(plan, results_dir=sys.argv[2]), lambda event: None)
run.start()
print(run.process.pid, flush=True)
time.sleep(120)
"""


def _gone(pid: int) -> bool:
    """Exited: no such process, or a zombie nobody reaps (a container's init may not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_dashboard_killed_with_sigkill_leaves_its_run_saved(tmp_path: Path) -> None:
    """kill -9 of the process that started the run (the dashboard): the child sees its pipes close,
    stops, and leaves a cancelled run with every request it had finished."""
    import subprocess
    import sys
    import time

    from spark_tui.core.bench.saved_runs import iter_records

    with ApiServer("openai", delay_s=0.002) as server:
        parent = subprocess.Popen([sys.executable, "-c", PARENT, server.url, str(tmp_path)], stdout=subprocess.PIPE, text=True)
        try:
            child = int(parent.stdout.readline())  # type: ignore[union-attr]
            deadline = time.monotonic() + WAIT_S
            while not any(tmp_path.glob("*/requests.jsonl")) or not next(tmp_path.glob("*/requests.jsonl")).stat().st_size:
                assert time.monotonic() < deadline, "the run never recorded a request"
                time.sleep(0.05)
            parent.kill()
            parent.wait(10)
            deadline = time.monotonic() + 15
            while not _gone(child):
                assert time.monotonic() < deadline, "the benchmark outlived the dashboard that started it"
                time.sleep(0.05)
        finally:
            if parent.poll() is None:
                parent.kill()
                parent.wait()
            if parent.stdout is not None:
                parent.stdout.close()
    [run_dir] = list(tmp_path.iterdir())
    saved = load_run(run_dir)
    assert saved.status == "cancelled", saved.status
    answered = sum(1 for r in iter_records(run_dir) if r.cell == 0 and r.ok)
    # the cell's window closes at the cancel: the one request in flight then is on disk, not in the figures
    assert 0 < saved.summaries[0].requests <= answered <= saved.summaries[0].requests + 1
