"""The whole app probing 50 services at a 1 s interval, 10 of them hung, as a user runs it.

Runs `spark-tui --config <50 probes>` in a pseudo-terminal (as over SSH; the real machine's
GPU and system sources) with the services in a child process, several times, and prints
medians of:
- the app's CPU (% of one core, all its threads) with the Services screen showing, and with
  the dashboard showing (probes still running behind it);
- key press to screen: `?` opens the help, esc closes it, `d` and `s` switch screens;
- the largest gap between two checks of a healthy service, seen by the service itself.

    .venv/bin/python bench/services_ui_bench.py [--runs 3] [--seconds 20] [--healthy 40] [--hung 10]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loopback_services  # noqa: E402
from pty_support import Terminal, spark_tui_exe  # noqa: E402



# -- the services, in a child process: they note when each check arrives ------------------------


def serve(healthy: int, hung: int) -> None:
    arrivals: dict[int, list[float]] = {}

    async def main() -> None:
        _servers, ports = await loopback_services.start(healthy, hung, arrivals)
        print(json.dumps(ports), flush=True)
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            start, end = (float(x) for x in line.split())  # "start end": the largest gap per port in that window
            gaps = {}
            for port in ports["healthy"]:
                times = [t for t in arrivals.get(port, []) if start <= t <= end]
                gaps[port] = max((b - a for a, b in itertools.pairwise(times)), default=float("inf"))
            print(json.dumps(gaps), flush=True)

    asyncio.run(main())


# -- the app in a pseudo-terminal ----------------------------------------------------------


# No Docker: containers running on the machine would add discovered probes to the counts and
# rows this bench waits for and moves through.
NO_DOCKER = ["[docker]", 'host = "unix:///nonexistent/spark-tui-bench/docker.sock"', ""]


def write_config(path: Path, ports: dict[str, list[int]], interval: float) -> None:
    lines = list(NO_DOCKER)
    for n, port in enumerate(ports["healthy"]):
        lines += ["[[probes]]", f'name = "ok{n}"', 'kind = "http-json"', f'url = "http://127.0.0.1:{port}/health"',
                  'json_field = "status"', 'expect_value = "ok"', f"interval = {interval}", ""]
    for n, port in enumerate(ports["hung"]):
        lines += ["[[probes]]", f'name = "hung{n}"', 'kind = "http"', f'url = "http://127.0.0.1:{port}/health"', f"interval = {interval}", ""]
    path.write_text("\n".join(lines))


SERVICES_TITLE = rb"Services \xc2\xb7 \d+ up"
# Keys and what the screen shows once they took effect, starting on the Services screen with
# the cursor on hung0: moving the cursor redraws two rows and the detail line; the others
# repaint a whole screen.
KEYS = [
    (b"\x1b[B", rb"hung1 \xc2\xb7 HTTP"),  # down
    (b"\x1b[A", rb"hung0 \xc2\xb7 HTTP"),  # up
    (b"?", rb"Reading memory"),
    (b"\x1b", SERVICES_TITLE),
    (b"d", rb"Used\s+\d"),
    (b"s", SERVICES_TITLE),
]
NAMES = {b"\x1b[B": "down", b"\x1b[A": "up", b"?": "?", b"\x1b": "esc", b"d": "d", b"s": "s"}


def one_run(command: list[str], size: tuple[int, int], seconds: float, healthy: int, hung: int, child: subprocess.Popen) -> dict[str, float]:
    term = Terminal(command, size)
    try:
        term.wait_for(rb"sampled \d\d:\d\d:\d\d", 20)
        os.write(term.master, b"s")
        term.wait_for(rb"Services \xc2\xb7 %d up \xc2\xb7 %d down" % (healthy, hung) if hung else rb"Services \xc2\xb7 %d up" % healthy, 20)
        time.sleep(3)  # settle: connections open, hung checks in their rhythm
        window_start = time.time()
        services_cpu = term.idle_cpu(seconds)
        window_end = time.time()
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(f"{window_start} {window_end}\n")
        child.stdin.flush()
        max_gap = max(json.loads(child.stdout.readline()).values())
        latencies: dict[bytes, list[float]] = defaultdict(list)
        for _ in range(5):
            for key, expect in KEYS:
                latencies[key].append(term.key(key, expect))
                time.sleep(0.3)
        os.write(term.master, b"d")
        term.wait_for(rb"Used\s+\d", 5)
        time.sleep(2)
        dashboard_cpu = term.idle_cpu(seconds)
    finally:
        term.close()
    every = [x for values in latencies.values() for x in values]
    for key, values in latencies.items():
        print(f"  key {NAMES[key]}: median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms")
    in_screen = latencies[b"\x1b[B"] + latencies[b"\x1b[A"]
    return {
        "services_cpu": services_cpu,
        "dashboard_cpu": dashboard_cpu,
        "cursor_ms": statistics.median(in_screen) * 1000,
        "cursor_max_ms": max(in_screen) * 1000,
        "key_ms": statistics.median(every) * 1000,
        "key_max_ms": max(every) * 1000,
        "max_gap_s": max_gap,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--healthy", type=int, default=40)
    parser.add_argument("--hung", type=int, default=10)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--size", default="160x48")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.healthy, args.hung)
        return
    width, height = (int(x) for x in args.size.split("x"))
    exe = spark_tui_exe()
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--healthy", str(args.healthy), "--hung", str(args.hung)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout is not None
        ports = json.loads(child.stdout.readline())
        with tempfile.TemporaryDirectory(prefix="spark-tui-bench-") as tmp:
            config = Path(tmp) / "config.toml"
            write_config(config, ports, args.interval)
            command = [exe, "--config", str(config)]
            print(f"{args.healthy + args.hung} probes ({args.healthy} healthy, {args.hung} hung) at {args.interval:g} s; "
                  f"spark-tui in a {args.size} pty; {args.seconds:g} s per CPU window")
            runs = []
            for run in range(1, args.runs + 1):
                result = one_run(command, (width, height), args.seconds, args.healthy, args.hung, child)
                runs.append(result)
                print(
                    f"run {run}: app CPU {result['services_cpu']:.2f}% of one core on the Services screen, "
                    f"{result['dashboard_cpu']:.2f}% on the dashboard · cursor key to screen median {result['cursor_ms']:.0f} ms "
                    f"(max {result['cursor_max_ms']:.0f} ms), any key median {result['key_ms']:.0f} ms "
                    f"(max {result['key_max_ms']:.0f} ms) · largest gap between checks of a healthy service {result['max_gap_s']:.2f} s",
                    flush=True,
                )
    finally:
        if child.stdin:
            child.stdin.close()
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
    median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    print(
        f"median of {args.runs}: app CPU {median['services_cpu']:.2f}% (Services screen), {median['dashboard_cpu']:.2f}% (dashboard) · "
        f"cursor key to screen {median['cursor_ms']:.0f} ms (worst {max(r['cursor_max_ms'] for r in runs):.0f} ms), "
        f"any key {median['key_ms']:.0f} ms (worst {max(r['key_max_ms'] for r in runs):.0f} ms) · "
        f"largest gap between checks of a healthy service {median['max_gap_s']:.2f} s (worst {max(r['max_gap_s'] for r in runs):.2f} s)"
    )


if __name__ == "__main__":
    main()
