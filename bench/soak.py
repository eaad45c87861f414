"""Soak (issue #13): the dashboard (demo, 0.1 s refresh) in a pty for a while, switching screens
every few seconds; RSS and CPU reported per period. Memory should level off after the first
minute (growth under 5 MB) and CPU stay flat.

    .venv/bin/python bench/soak.py [--minutes 30] [--switch-every 3] [--period 60]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pty_support import Terminal, cpu_seconds, spark_tui_exe  # noqa: E402

# Screen keys and what each screen draws once it is up.
SCREENS = [(b"c", rb"Containers"), (b"s", rb"Services"), (b"h", rb"Runs|runs"), (b"d", rb"Utilization\s+\d+%")]


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--switch-every", type=float, default=3.0, help="seconds between screen switches")
    parser.add_argument("--period", type=float, default=60.0, help="seconds per reported line")
    parser.add_argument("--size", default="160x48")
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor", XDG_CONFIG_HOME=f"/tmp/spark-tui-soak-{os.getpid()}")
    for name in ("COLUMNS", "LINES", "SPARK_TUI_CONFIG"):
        env.pop(name, None)
    rows: list[tuple[float, float, float, int]] = []
    missed = 0
    with Terminal([spark_tui_exe(), "--demo", "--interval", "0.1"], size, env) as term:  # type: ignore[arg-type]
        term.wait_for([rb"Utilization\s+\d+%"], timeout=30)
        pid = term.proc.pid
        start = time.perf_counter()
        period_start, cpu_start = start, cpu_seconds(pid)
        switches = 0
        print(f"{'minute':>6} {'RSS MB':>8} {'CPU %':>6} {'switches':>8}", flush=True)
        print(f"{0:>6.1f} {rss_mb(pid):>8.1f} {'':>6} {'':>8}", flush=True)
        for key, expect in itertools.cycle(SCREENS):
            now = time.perf_counter()
            if now - start >= args.minutes * 60:
                break
            try:
                term.key(key, expect, timeout=5)
            except RuntimeError:
                missed += 1  # counted, not fatal: a soak reports, the figures say the rest
            switches += 1
            term.drain(args.switch_every)
            now = time.perf_counter()
            if now - period_start >= args.period:
                cpu_now = cpu_seconds(pid)
                cpu = (cpu_now - cpu_start) / (now - period_start) * 100
                rows.append(((now - start) / 60, rss_mb(pid), cpu, switches))
                print(f"{rows[-1][0]:>6.1f} {rows[-1][1]:>8.1f} {cpu:>6.1f} {switches:>8}", flush=True)
                period_start, cpu_start, switches = now, cpu_now, 0
    if len(rows) >= 2:
        growth = rows[-1][1] - rows[0][1]
        cpus = [row[2] for row in rows]
        print(f"RSS growth after the first period: {growth:+.1f} MB; CPU {min(cpus):.0f}–{max(cpus):.0f}%; screens that did not appear within 5 s: {missed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
