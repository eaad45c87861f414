"""Measures the dashboard as a user runs it: time to first full frame, idle CPU, peak RSS.

Runs `spark-tui --demo` in a pseudo-terminal (as over SSH), several times, and prints medians.
  python bench/dashboard_bench.py [--runs 3] [--seconds 30] [--size 160x48] [-- extra spark-tui args]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pty_support import Terminal, peak_rss_mb, spark_tui_exe  # noqa: E402

FULL_FRAME = [rb"Utilization\s+\d+%", rb"Used\s+\d+\.\d", rb"Cortex-X925", rb"sampled \d\d:\d\d:\d\d"]
# Keys and what the screen shows once they took effect.
KEY_CHECKS = [(b"p", rb"PAUSED"), (b"p", rb"DEMO"), (b"?", rb"Reading memory"), (b"\x1b", rb"Utilization")]
SETTLE_S = 5.0  # after the first full frame, before the CPU window


def one_run(command: list[str], size: tuple[int, int], seconds: float) -> dict[str, float]:
    started = time.perf_counter()
    with Terminal(command, size) as term:
        term.wait_for(FULL_FRAME, timeout=10)
        first_frame = time.perf_counter() - started
        term.drain(SETTLE_S)
        cpu = term.idle_cpu(seconds)
        per_key: dict[bytes, list[float]] = {}
        for _ in range(5):
            for key, expect in KEY_CHECKS:
                per_key.setdefault(key + b" " + expect, []).append(term.key(key, expect))
                time.sleep(0.3)
        rss = peak_rss_mb(term.proc.pid)
    latencies = [x for values in per_key.values() for x in values]
    for name, values in per_key.items():
        print(f"  key {name.decode(errors='replace')!r}: median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms")
    return {"first_frame_s": first_frame, "cpu_pct": cpu, "peak_rss_mb": rss, "key_ms": statistics.median(latencies) * 1000, "key_max_ms": max(latencies) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--size", default="160x48")
    parser.add_argument("extra", nargs="*", help="extra spark-tui arguments")
    args = parser.parse_args()
    width, height = (int(x) for x in args.size.split("x"))
    command = [spark_tui_exe(), "--demo", *args.extra]
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
