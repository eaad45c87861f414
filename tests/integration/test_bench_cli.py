"""`spark-tui bench` as a user runs it: a real process, exit codes, Ctrl-C, and a kill -9 mid-run."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from servers.bench_servers import ApiServer

from spark_tui.core.bench.saved_runs import iter_records, list_runs, load_run


def bench(*args: str, tmp_path: Path) -> list[str]:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    return [sys.executable, "-m", "spark_tui", "bench", *args], env  # type: ignore[return-value]


def run_cli(*args: str, tmp_path: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    argv, env = bench(*args, tmp_path=tmp_path)
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)


def test_json_result_and_exit_zero(tmp_path: Path) -> None:
    with ApiServer("tei") as server:
        proc = run_cli("embed", "--url", server.url, "--adapter", "tei", "--batch", "1,4", "--concurrency", "1,2", "--requests", "5", "--json", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["status"] == "completed"
    assert [c["status"] for c in result["cells"]] == ["ok"] * 4
    run_dir = Path(result["run_dir"])
    assert run_dir.parent == tmp_path / "data" / "spark-tui" / "runs"
    assert "cell 4/4" in proc.stderr and "Traceback" not in proc.stderr


def test_table_names_failed_cells_and_exits_one(tmp_path: Path) -> None:
    with ApiServer("openai", fault="status:503") as server:
        proc = run_cli("embed", "--url", server.url, "--adapter", "openai", "--batch", "2", "--concurrency", "1", "--requests", "12", "--warmup", "0", "--out", str(tmp_path / "o"), tmp_path=tmp_path)
    assert proc.returncode == 1
    assert "failed: every request failed (10× HTTP 5xx): HTTP 503 Service Unavailable" in proc.stdout  # gave up after 10
    assert f"results: {tmp_path / 'o'}" in proc.stdout
    assert "Traceback" not in proc.stderr + proc.stdout


def test_a_silent_warm_up_is_shown_and_ends_the_run_with_exit_one(tmp_path: Path) -> None:
    with ApiServer("openai", fault="hang") as server:
        proc = run_cli("embed", "--url", server.url, "--adapter", "openai", "--timeout", "2", "--warmup-timeout", "1.5", tmp_path=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "warming up: waiting for the first answer (model loading?) 1 s, giving up at 1.5 s" in proc.stderr
    assert "failed: warm-up: no answer within 1.5 s" in proc.stdout and "results: " in proc.stdout


def test_wrong_answers_exit_one_and_give_no_best_rate(tmp_path: Path) -> None:
    with ApiServer("openai", fault="dim_mismatch") as server:
        proc = run_cli("embed", "--url", server.url, "--adapter", "openai", "--batch", "2", "--concurrency", "1", "--requests", "8", tmp_path=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "over the 5% limit (4× bad answers): dimension mismatch" in proc.stdout
    listed = json.loads(run_cli("runs", "--json", tmp_path=tmp_path).stdout)
    assert [(r["status"], r["best_items_per_s"]) for r in listed] == [("failed", None)]


def test_bad_input_is_one_line_and_exit_two(tmp_path: Path) -> None:
    cases = [
        (["embed", "--url", "http://x", "--adapter", "openai", "--batch", "1,x"], "--batch: 'x' is not a whole number"),
        (["embed", "--url", "ftp://x", "--adapter", "openai"], "only http:// and https:// are supported"),
        (["embed", "--url", "http://x", "--adapter", "openai", "--extra-body", "[1]"], "--extra-body must be a JSON object"),
        (["embed", "--url", "http://x", "--adapter", "openai", "--header", "Authorization Bearer hf_abcdefghijklmnopqrstuvwxyz"], "expected 'Name: value'"),
        (["parse", "--url", "http://x", "--adapter", "omniparser", "--batch", "2"], "omniparser takes 1 item per request"),
        (["parse", "--url", "http://x", "--adapter", "docling", "--payload", "xls"], "docling cannot send 'xls'"),
    ]
    for args, message in cases:
        proc = run_cli(*args, tmp_path=tmp_path)
        assert proc.returncode == 2, (args, proc.stderr)
        assert message in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "hf_abc" not in proc.stderr


def start_long_run(tmp_path: Path, server: ApiServer) -> tuple[subprocess.Popen[str], Path]:
    argv, env = bench("embed", "--url", server.url, "--adapter", "openai", "--batch", "2", "--concurrency", "2", "--duration", "60", "--out", str(tmp_path / "runs"), tmp_path=tmp_path)
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    run_dir = None
    for line in proc.stderr:  # progress lines arrive as the run goes; the process ends on its own in 60 s at most
        if line.startswith("saving to "):
            run_dir = Path(line.removeprefix("saving to ").strip())
        if line.startswith("cell 1/1"):
            break
    assert run_dir is not None
    deadline = time.monotonic() + 10
    while not (run_dir / "requests.jsonl").read_bytes().count(b'"warmup":false') and time.monotonic() < deadline:
        time.sleep(0.1)  # requests.jsonl is flushed once a second: nothing to wait on across processes
    return proc, run_dir


def test_ctrl_c_keeps_what_was_measured(tmp_path: Path) -> None:
    with ApiServer("openai", delay_s=0.005) as server:
        proc, run_dir = start_long_run(tmp_path, server)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert f"cancelled: what was measured is saved in {run_dir}" in err
    saved = load_run(run_dir)
    assert saved.status == "cancelled"
    assert saved.summaries[0].status == "cancelled" and saved.summaries[0].ok > 0
    assert "Traceback" not in err


def test_a_killed_run_leaves_readable_results(tmp_path: Path) -> None:
    with ApiServer("openai", delay_s=0.005) as server:
        proc, run_dir = start_long_run(tmp_path, server)
        deadline = time.monotonic() + 10  # the run writes timeseries rows each second: wait for one before the kill
        timeseries = run_dir / "timeseries.csv"
        while not (timeseries.exists() and len(timeseries.read_text().splitlines()) >= 2) and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.kill()
        proc.communicate(timeout=20)
    saved = load_run(run_dir)
    assert saved.status == "interrupted"
    assert "ended before the run finished" in (saved.reason or "")
    assert saved.server is not None and saved.server.adapter == "openai"
    (summary,) = saved.summaries  # rebuilt from requests.jsonl
    assert summary.status == "cancelled" and summary.ok > 0 and summary.items_per_s
    assert sum(1 for r in iter_records(run_dir) if not r.warmup) == summary.requests
    with open(run_dir / "timeseries.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and rows[0]["t_s"]
    with open(run_dir / "summary.csv", newline="") as f:
        assert next(csv.reader(f))[0] == "cell"
    (listed,) = list_runs(tmp_path / "runs")
    assert listed.run_id == run_dir.name and listed.best_items_per_s == summary.items_per_s  # as `compare` shows it
    shown = run_cli("runs", "--out", str(tmp_path / "runs"), tmp_path=tmp_path).stdout
    assert f"{summary.items_per_s:,.1f}" in shown
