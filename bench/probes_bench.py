"""Probe engine under load: 50 probes at a 1 s interval, 10 of them against hung services.

Measures, over --seconds (default 30) and --runs (default 3), medians printed at the end:
- the engine's CPU as % of one core (this process only: the services run in a child process);
- for every healthy probe, the largest gap between two of its reports (should stay ~1 s);
- event-loop lag: how late a 20 ms ticker on the same loop runs (what a UI sharing the loop
  feels), over 10 s after the CPU window.

    .venv/bin/python bench/probes_bench.py [--seconds 30] [--runs 3] [--healthy 40] [--hung 10]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loopback_services  # noqa: E402

from spark_tui.models.probes import ProbeChecked, ProbeEvent, ProbeSpec, ProbeState  # noqa: E402
from spark_tui.core.services.engine import ProbeEngine  # noqa: E402

LAG_WINDOW_S = 10.0


# -- the services, in a child process ----------------------------------------------------------


async def serve(healthy: int, hung: int) -> None:
    _servers, ports = await loopback_services.start(healthy, hung)
    print(json.dumps(ports), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until the parent closes stdin


# -- the measurement ---------------------------------------------------------------------------


def specs(ports: dict[str, list[int]], interval: float) -> list[ProbeSpec]:
    out = [
        ProbeSpec(name=f"ok{i}", kind="http-json", url=f"http://127.0.0.1:{port}/health", interval=interval, json_field="status", expect_value="ok")
        for i, port in enumerate(ports["healthy"])
    ]
    out += [ProbeSpec(name=f"hung{i}", kind="http", url=f"http://127.0.0.1:{port}/health", interval=interval) for i, port in enumerate(ports["hung"])]
    return out


async def measure(probe_specs: list[ProbeSpec], seconds: float) -> dict[str, float]:
    reports: dict[str, list[float]] = defaultdict(list)
    states: dict[str, ProbeState] = {}

    def on_event(event: ProbeEvent) -> None:
        if isinstance(event, ProbeChecked):
            reports[event.status.name].append(time.monotonic())
            states[event.status.name] = event.status.state

    lags: list[float] = []

    async def ticker() -> None:
        period = 0.02
        expected = time.monotonic() + period
        while True:
            await asyncio.sleep(max(0.0, expected - time.monotonic()))
            lags.append(time.monotonic() - expected)
            expected += period

    engine = ProbeEngine(probe_specs, on_event)
    engine_task = asyncio.create_task(engine.run())
    await asyncio.sleep(2.0)  # warm-up: connections opened, first hung timeouts behind us
    cpu0, wall0 = time.process_time(), time.monotonic()
    await asyncio.sleep(seconds)
    cpu1, wall1 = time.process_time(), time.monotonic()
    # then the loop lag, in a window of its own: the 50 Hz ticker costs CPU it should not bill
    tick_task = asyncio.create_task(ticker())
    await asyncio.sleep(LAG_WINDOW_S)
    tick_task.cancel()
    engine.stop()
    await engine_task

    healthy = [s.name for s in probe_specs if s.name.startswith("ok")]
    gaps = []
    for name in healthy:
        times = [t for t in reports[name] if wall0 <= t <= wall1]
        gaps.extend(b - a for a, b in itertools.pairwise(times))
    window_lags = sorted(lags)
    return {
        "cpu_pct": 100 * (cpu1 - cpu0) / (wall1 - wall0),
        "max_gap_s": max(gaps) if gaps else float("nan"),
        "healthy_up": sum(states.get(n) is ProbeState.UP for n in healthy),
        "hung_down": sum(states.get(s.name) is ProbeState.DOWN for s in probe_specs if s.name.startswith("hung")),
        "reports_per_s": sum(len([t for t in reports[n] if wall0 <= t <= wall1]) for n in healthy) / (wall1 - wall0),
        "lag_p99_ms": 1000 * window_lags[int(0.99 * (len(window_lags) - 1))] if window_lags else float("nan"),
        "lag_max_ms": 1000 * window_lags[-1] if window_lags else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--healthy", type=int, default=40)
    parser.add_argument("--hung", type=int, default=10)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.healthy, args.hung))
        return

    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--healthy", str(args.healthy), "--hung", str(args.hung)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        ports = json.loads(child.stdout.readline())
        probe_specs = specs(ports, args.interval)
        print(f"{len(probe_specs)} probes ({args.healthy} healthy, {args.hung} hung) at {args.interval:g} s, {args.seconds:g} s per run")
        runs = []
        for run in range(1, args.runs + 1):
            result = asyncio.run(measure(probe_specs, args.seconds))
            runs.append(result)
            print(
                f"run {run}: CPU {result['cpu_pct']:.1f}% of one core · max gap between reports of a healthy probe "
                f"{result['max_gap_s']:.2f} s · {result['reports_per_s']:.1f} healthy reports/s · "
                f"up {result['healthy_up']:.0f}/{args.healthy}, hung down {result['hung_down']:.0f}/{args.hung} · "
                f"loop lag p99 {result['lag_p99_ms']:.1f} ms, max {result['lag_max_ms']:.1f} ms"
            )
        median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        print(
            f"median: CPU {median['cpu_pct']:.1f}% of one core · max gap {median['max_gap_s']:.2f} s · "
            f"loop lag p99 {median['lag_p99_ms']:.1f} ms, max {median['lag_max_ms']:.1f} ms"
        )
    finally:
        if child.stdin:
            child.stdin.close()
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=5)


if __name__ == "__main__":
    main()
