"""The containers screen with 200 containers, as a user runs it: key to screen, the app's own CPU,
and what the app adds to dockerd's CPU.

    .venv/bin/python bench/containers_ui_bench.py [--containers 200] [--projects 4] [--runs 3] [--seconds 30] [--size 160x48]

Creates N busybox containers, as a Spark's fleet looks: --projects Compose projects of 10
running containers each (a web service ×4 with a published port and a healthcheck, workers ×4
with a memory limit, a `gpu` profile's llm ×2 started, an `ocr` profile left down: so the app
reads each project's model with `docker compose config` and draws the profiles panel), and the
rest loose (sparktui-bench-<random>-NNN). Everything carries the label sparktui.bench=<prefix>
and is removed at the end, also on Ctrl-C. Then, several times: starts `spark-tui` against the
real engine in a pseudo-terminal (as over SSH), opens the containers screen, and measures

  * the app's CPU on the containers screen at the default refresh (budget <= 5% of one core),
  * dockerd's CPU in the same window minus its CPU in an equal window with the app not running,
  * key press to screen on the containers screen (budget <= 100 ms): logs open/close, the
    dashboard and back, help.

Prints each run and the medians. The machine is shared while the team works: the lead
re-measures on a quiet one.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import docker  # noqa: E402
from containers_bench import create_containers, dockerd_pid, remove_containers  # noqa: E402
from pty_support import ANSI, Terminal, cpu_seconds, spark_tui_exe  # noqa: E402

SETTLE_S = 5.0  # after the screen is full: the first stats and compose reads are done


CONTAINERS_SCREEN = rb"Containers \xc2\xb7 \d+ running of (\d+)"
PROFILES_SHOWN = rb"(\d+) profiles"  # the profiles panel's subtitle, once the models are read
PER_PROJECT = 10  # running containers in each compose project

# A project as a Spark runs them: a healthchecked web service with ports, workers, a GPU
# profile that is up and one that is down. {name} and {prefix} are filled in.
COMPOSE_PROJECT = """
name: {name}
x-common: &common
  image: local/busybox
  stop_signal: SIGKILL
  labels: {{sparktui.bench: "{prefix}"}}
services:
  web:
    <<: *common
    command: ["sh", "-c", "mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www"]
    ports: ["127.0.0.1::8080"]
    deploy: {{replicas: 4}}
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
      interval: 10s
      timeout: 2s
      retries: 3
  worker:
    <<: *common
    command: ["sleep", "86400"]
    mem_limit: 64m
    deploy: {{replicas: 4}}
  llm:
    <<: *common
    command: ["sleep", "86400"]
    profiles: [gpu]
    depends_on: [worker]
    deploy: {{replicas: 2, resources: {{limits: {{memory: 128m}}}}}}
  ocr:
    <<: *common
    command: ["sleep", "86400"]
    profiles: [ocr]
"""


# A container's row: a loose one or a Compose project's service (web-1, worker-2, llm-1).
ROW = rb"sparktui-bench-[0-9a-f]+-\d{3}|(?:web|worker|llm)-\d "

# Keys pressed on the containers screen and what shows once they took effect.
KEY_CHECKS = [
    (b"\x1b[6~", ROW),  # page down: the table scrolls, rows drawn again
    (b"\x1b[5~", ROW),  # page up
    (b"l", rb"Logs \xc2\xb7"),
    (b"\x1b", rb"Containers \xc2\xb7"),
    (b"d", rb"NVML|Utilization|Cortex"),
    (b"c", rb"Containers \xc2\xb7"),
    (b"?", rb"Reading memory"),
    (b"\x1b", rb"sparktui-bench-"),  # the rows the help covered are drawn again
]


def compose(project: Path, *args: str) -> None:
    subprocess.run(["docker", "compose", "-p", project.parent.name, "-f", str(project), *args], check=True, capture_output=True, timeout=300)


def create_projects(directory: Path, prefix: str, count: int) -> list[Path]:
    """`count` compose projects (PER_PROJECT running containers each), their files in `directory`."""
    files = []
    for n in range(count):
        name = f"{prefix}-p{n}"
        file = directory / name / "compose.yaml"
        file.parent.mkdir(parents=True)
        file.write_text(COMPOSE_PROJECT.format(name=name, prefix=prefix))
        files.append(file)
        compose(file, "--profile", "gpu", "up", "-d")
    return files


def remove_projects(files: list[Path]) -> None:
    for file in files:
        try:
            compose(file, "--profile", "*", "down", "-t", "0", "--remove-orphans")
        except subprocess.SubprocessError as exc:
            print(f"  could not remove project {file.parent.name}: {exc}", flush=True)


def wait_for_screen(term: Terminal, wanted: list[tuple[bytes, int]], timeout: float) -> None:
    """Read the pty until each (pattern, at_least) shows a count >= at_least."""
    seen = b""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if select.select([term.master], [], [], 0.1)[0]:
            seen = (seen + ANSI.sub(b"", os.read(term.master, 65536)))[-200_000:]
            if all(max(map(int, re.findall(pattern, seen)), default=-1) >= at_least for pattern, at_least in wanted):
                return
    raise RuntimeError(f"the containers screen did not show {wanted!r} within {timeout:.0f} s; saw {seen[-300:]!r}")


def one_run(command: list[str], size: tuple[int, int], seconds: float, count: int, profiles: int, dockerd: int | None) -> dict[str, float]:
    idle = None
    if dockerd is not None:  # dockerd on its own, same length as the measured window
        d0, w0 = cpu_seconds(dockerd), time.perf_counter()
        time.sleep(seconds)
        idle = (cpu_seconds(dockerd) - d0) / (time.perf_counter() - w0)
    with Terminal(command, size) as term:
        time.sleep(1.0)
        os.write(term.master, b"c")
        wait_for_screen(term, [(CONTAINERS_SCREEN, count), (PROFILES_SHOWN, profiles)], timeout=60)
        term.drain(SETTLE_S)
        d0, w0 = cpu_seconds(dockerd) if dockerd else 0.0, time.perf_counter()
        app_cpu = term.idle_cpu(seconds)
        wall = time.perf_counter() - w0
        dockerd_added = None
        if dockerd is not None and idle is not None:
            dockerd_added = ((cpu_seconds(dockerd) - d0) / wall - idle) * 100
        latencies: dict[bytes, list[float]] = {}
        for _ in range(5):
            for key, expect in KEY_CHECKS:
                latencies.setdefault(key + b" " + expect, []).append(term.key(key, expect, timeout=5.0))
                term.drain(0.3)
    for name, values in latencies.items():
        print(f"  key {name.decode(errors='replace')!r}: median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms")
    flat = [v for values in latencies.values() for v in values]
    return {
        "app_cpu": app_cpu,
        "dockerd_added": float("nan") if dockerd_added is None else dockerd_added,
        "key_ms": statistics.median(flat) * 1000,
        "key_max_ms": max(flat) * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--containers", type=int, default=200, help="containers created in all (compose projects included)")
    parser.add_argument("--projects", type=int, default=4, help=f"compose projects among them, {PER_PROJECT} containers each")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--size", default="160x48")
    args = parser.parse_args()
    width, height = (int(x) for x in args.size.split("x"))
    exe = spark_tui_exe()
    client = docker.from_env(timeout=120)
    prefix = f"sparktui-bench-{secrets.token_hex(3)}"
    pid = dockerd_pid()
    existing = len(client.containers.list(all=True))
    projects = min(args.projects, args.containers // PER_PROJECT)
    loose = args.containers - projects * PER_PROJECT
    directory = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    files: list[Path] = []
    print(f"creating {args.containers} containers ({projects} compose projects of {PER_PROJECT}, {loose} loose; {prefix}-*)…", flush=True)
    try:
        files = create_projects(directory, prefix, projects)
        create_containers(client, prefix, loose)
        total = existing + args.containers
        results = []
        for run in range(args.runs):
            result = one_run([exe], (width, height), args.seconds, total, 2 * projects, pid)
            results.append(result)
            print(
                f"run {run + 1}: app CPU {result['app_cpu']:.2f}% of one core, dockerd added {result['dockerd_added']:.2f}%, "
                f"key to screen median {result['key_ms']:.0f} ms (max {result['key_max_ms']:.0f} ms)",
                flush=True,
            )
        print(
            f"median of {args.runs} with {total} containers at {args.size}, {args.seconds:g} s on the containers screen: "
            f"app CPU {statistics.median(r['app_cpu'] for r in results):.2f}% of one core · "
            f"dockerd added {statistics.median(r['dockerd_added'] for r in results):.2f}% · "
            f"key to screen {statistics.median(r['key_ms'] for r in results):.0f} ms (worst {max(r['key_max_ms'] for r in results):.0f} ms)"
        )
    finally:
        print("removing the containers…", flush=True)
        remove_projects(files)
        remove_containers(client, prefix)
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
