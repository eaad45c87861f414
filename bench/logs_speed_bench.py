"""Logs at speed (issue #13): a real container writing ~10,000 coloured lines a second while its
logs screen is open in a pty. Reports key→screen latency (open search, type, close) and the
app's RSS over the run (the view keeps a ring of 10,000 lines: memory must level off).

    .venv/bin/python bench/logs_speed_bench.py [--rate 10000] [--seconds 30] [--runs 3]

Needs dockerd and the local/busybox image. The container is removed afterwards.
"close search" is the Escape key: Textual waits ESCDELAY (100 ms unless set) after an ESC byte
to tell the key from the start of an escape sequence, so that figure includes those 100 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pty_support import Terminal, cpu_seconds  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
IMAGE = "local/busybox"
BATCH = 1000  # lines per burst; the sleep between bursts sets the rate


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_writer(rate: int) -> str:
    # Each burst: BATCH numbered lines with SGR colour (the sanitiser's slow path), then a pause
    # sized for `rate` lines a second (the burst itself takes a few ms in busybox).
    pause_us = max(0, int(BATCH / rate * 1_000_000) - 8_000)
    script = (
        "E=$(printf '\\033'); "
        f"n=0; while :; do seq $n $((n+{BATCH - 1})) | "
        'sed "s/.*/$E[32mINFO$E[0m request & served in $E[1m12ms$E[0m by worker-3/"; '
        f"n=$((n+{BATCH})); usleep {pause_us}; done"
    )
    name = f"sparktui-logbench-{os.getpid()}"
    return subprocess.run(
        ["docker", "run", "-d", "--rm", "--name", name, "--label", "sparktui.bench=logs", IMAGE, "sh", "-c", script],
        capture_output=True, text=True, check=True,
    ).stdout.strip()


def measured_rate(container: str, seconds: float = 3.0) -> float:
    """Lines a second the container really writes (docker logs --since, counted here)."""
    since = time.time()
    time.sleep(seconds)
    out = subprocess.run(["docker", "logs", "--since", f"{since:.3f}", "--until", f"{since + seconds:.3f}", container],
                         capture_output=True, timeout=60).stdout
    return out.count(b"\n") / seconds


def one_run(container: str, seconds: float, size: tuple[int, int]) -> dict[str, object]:
    env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor", PYTHONPATH=str(ROOT))
    for name in ("COLUMNS", "LINES", "SPARK_TUI_CONFIG"):
        env.pop(name, None)
    command = [sys.executable, str(ROOT / "bench" / "tui_screen.py"), "logs", container, "--tail", "500"]
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {"open search": [], "type (filter 10k lines)": [], "close search": []}
    rss: list[tuple[float, float]] = []
    with Terminal(command, size, env) as term:
        term.wait_for(rb"served in 12ms", timeout=30)
        start = time.perf_counter()
        cpu0 = cpu_seconds(term.proc.pid)
        next_sample = start
        query = 0
        while time.perf_counter() - start < seconds:
            now = time.perf_counter()
            if now >= next_sample:
                rss.append((now - start, rss_mb(term.proc.pid)))
                next_sample += 1.0
            by_kind["open search"].append(term.key(b"/", rb"search the logs", timeout=5))
            query = (query + 1) % 10
            by_kind["type (filter 10k lines)"].append(term.key(str(query).encode(), f"lines match “{query}”".encode(), timeout=5))
            by_kind["close search"].append(term.key(b"\x1b", rb"lines \(last 500 at open\)", timeout=5))
            term.drain(0.3)
        elapsed = time.perf_counter() - start
        cpu = (cpu_seconds(term.proc.pid) - cpu0) / elapsed * 100
        rss.append((elapsed, rss_mb(term.proc.pid)))
    latencies = [value for values in by_kind.values() for value in values]
    ordered = sorted(latencies)
    return {
        "keys": len(latencies),
        "median_ms": statistics.median(latencies) * 1000,
        "p95_ms": ordered[int(0.95 * (len(ordered) - 1))] * 1000,
        "max_ms": ordered[-1] * 1000,
        "cpu_pct": cpu,
        "rss": rss,
        "kinds": {kind: statistics.median(values) * 1000 for kind, values in by_kind.items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=int, default=10_000, help="lines a second the container writes")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--size", default="160x48")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    container = start_writer(args.rate)
    try:
        rate = measured_rate(container)
        print(f"container writes {rate:,.0f} lines/s (asked {args.rate:,})")
        runs = [one_run(container, args.seconds, size) for _ in range(args.runs)]  # type: ignore[arg-type]
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True)
    for index, run in enumerate(runs, 1):
        rss = run["rss"]
        first, peak, last = rss[0][1], max(v for _, v in rss), rss[-1][1]  # type: ignore[index]
        after10 = next((v for t, v in rss if t >= 10), last)  # type: ignore[misc]
        print(
            f"run {index}: {run['keys']} keys  key→screen median {run['median_ms']:.0f} ms  p95 {run['p95_ms']:.0f} ms  "
            f"max {run['max_ms']:.0f} ms  CPU {run['cpu_pct']:.0f}%  RSS {first:.0f} → {after10:.0f} (10 s) → {last:.0f} MB (peak {peak:.0f})"
        )
        print("        median by key: " + ", ".join(f"{kind} {ms:.0f} ms" for kind, ms in run["kinds"].items())  # type: ignore[attr-defined]
              + f" (of which ESCDELAY {os.environ.get('ESCDELAY', '100')} ms)")
    medians = [run["median_ms"] for run in runs]
    p95s = [run["p95_ms"] for run in runs]
    cpus = [run["cpu_pct"] for run in runs]
    peaks = [max(v for _, v in run["rss"]) for run in runs]  # type: ignore[attr-defined]
    print(
        f"median of runs: key→screen median {statistics.median(medians):.0f} ms, p95 {statistics.median(p95s):.0f} ms, "  # type: ignore[type-var]
        f"app CPU {statistics.median(cpus):.0f}%, peak RSS {statistics.median(peaks):.0f} MB"  # type: ignore[type-var]
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
