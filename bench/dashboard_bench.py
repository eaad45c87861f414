"""Measures the dashboard as a user runs it: time to first full frame, idle CPU, peak RSS.

Runs `spark-tui --demo` in a pseudo-terminal (as over SSH), several times, and prints medians.
  python bench/dashboard_bench.py [--runs 3] [--seconds 30] [--size 160x48] [-- extra spark-tui args]
"""

from __future__ import annotations

import argparse
import os
import pty
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import termios
import fcntl
import time

ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\x1b\][^\x07]*\x07")
FULL_FRAME = [rb"Utilization\s+\d+%", rb"Used\s+\d+\.\d", rb"Cortex-X925", rb"sampled \d\d:\d\d:\d\d"]
# Keys and what the screen shows once they took effect.
KEY_CHECKS = [(b"p", rb"PAUSED"), (b"p", rb"DEMO"), (b"?", rb"Reading memory"), (b"\x1b", rb"Utilization")]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def peak_rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def key_latency(master: int, key: bytes, expect: bytes, timeout: float = 2.0) -> float:
    """Seconds from writing a key to the pty until the screen shows `expect`."""
    while select.select([master], [], [], 0.05)[0]:
        os.read(master, 65536)  # drain what was already drawn
    started = time.perf_counter()
    os.write(master, key)
    seen = b""
    while time.perf_counter() - started < timeout:
        if select.select([master], [], [], 0.01)[0]:
            seen += ANSI.sub(b"", os.read(master, 65536))
            if re.search(expect, seen):
                return time.perf_counter() - started
    raise RuntimeError(f"key {key!r}: {expect!r} did not appear within {timeout} s")


def one_run(command: list[str], size: tuple[int, int], seconds: float) -> dict[str, float]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor")
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    screen = b""
    first_frame = None
    cpu_start = None
    measure_from = None
    deadline = started + 10 + seconds + 5
    try:
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if first_frame is None:
                    screen += ANSI.sub(b"", chunk)
                    if all(re.search(p, screen) for p in FULL_FRAME):
                        first_frame = time.perf_counter() - started
                        measure_from = time.perf_counter() + 5  # let start-up settle
            if measure_from and cpu_start is None and time.perf_counter() >= measure_from:
                cpu_start = (time.perf_counter(), cpu_seconds(proc.pid))
            if cpu_start and time.perf_counter() - cpu_start[0] >= seconds:
                break
        if first_frame is None or cpu_start is None:
            raise RuntimeError(f"no full frame within the time limit; saw: {screen[-400:]!r}")
        wall = time.perf_counter() - cpu_start[0]
        cpu = (cpu_seconds(proc.pid) - cpu_start[1]) / wall * 100
        per_key: dict[bytes, list[float]] = {}
        for _ in range(5):
            for key, expect in KEY_CHECKS:
                per_key.setdefault(key + b" " + expect, []).append(key_latency(master, key, expect))
                time.sleep(0.3)
        latencies = [x for values in per_key.values() for x in values]
        for name, values in per_key.items():
            print(f"  key {name.decode(errors='replace')!r}: median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms")
        rss = peak_rss_mb(proc.pid)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        os.close(master)
    return {"first_frame_s": first_frame, "cpu_pct": cpu, "peak_rss_mb": rss, "key_ms": statistics.median(latencies) * 1000, "key_max_ms": max(latencies) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--size", default="160x48")
    parser.add_argument("extra", nargs="*", help="extra spark-tui arguments")
    args = parser.parse_args()
    width, height = (int(x) for x in args.size.split("x"))
    exe = shutil.which("spark-tui") or os.path.join(os.path.dirname(sys.executable), "spark-tui")
    command = [exe, "--demo", *args.extra]
    results = []
    for run in range(args.runs):
        result = one_run(command, (width, height), args.seconds)
        results.append(result)
        print(
            f"run {run + 1}: first frame {result['first_frame_s']:.2f} s, idle CPU {result['cpu_pct']:.2f}% of one core, "
            f"peak RSS {result['peak_rss_mb']:.1f} MB, key to screen median {result['key_ms']:.0f} ms (max {result['key_max_ms']:.0f} ms)",
            flush=True,
        )
    print(
        f"median of {args.runs} at {args.size}, {args.seconds:g} s: "
        f"first frame {statistics.median(r['first_frame_s'] for r in results):.2f} s · "
        f"idle CPU {statistics.median(r['cpu_pct'] for r in results):.2f}% · "
        f"peak RSS {statistics.median(r['peak_rss_mb'] for r in results):.1f} MB · "
        f"key to screen {statistics.median(r['key_ms'] for r in results):.0f} ms (worst {max(r['key_max_ms'] for r in results):.0f} ms)"
    )


if __name__ == "__main__":
    main()
