"""What the containers data layer costs with 200 containers, for us and for dockerd.

    .venv/bin/python bench/containers_bench.py [--containers 200] [--cycles 15]

Creates N busybox containers (name prefix sparktui-bench-<random>, label sparktui.bench=<prefix>,
removed at the end, also on Ctrl-C), then measures, as medians of several runs:

  * the first full listing (one list + one inspect per container),
  * one steady refresh cycle: the container list (nothing changed: no inspects) plus CPU/memory
    of every running container from cgroups — our CPU time per cycle, and what that is as a
    share of one core at the default refresh (stats every `docker.stats_interval` = 2 s,
    a full list every 30 s; between those only events arrive),
  * dockerd's CPU time during our cycles, against an idle window of the same length,
  * for comparison, dockerd's CPU for one sweep of the stats API (what `docker stats` does).

The machine is shared while the team works, so the lead re-runs this on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import docker  # noqa: E402

from spark_tui.models.settings import DockerConfig  # noqa: E402
from spark_tui.core.docker.stats import ContainerStatsReader  # noqa: E402
from spark_tui.core.docker.containers import ContainerCatalog  # noqa: E402
from spark_tui.core.docker.engine import DockerEngine  # noqa: E402

IMAGE = "local/busybox"
TICKS = os.sysconf("SC_CLK_TCK")


def dockerd_pid() -> int | None:
    try:
        return int(Path("/var/run/docker.pid").read_text().strip())
    except (OSError, ValueError):
        candidates = []  # no readable pid file: look for the process
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "dockerd":
                    candidates.append(int(entry.name))
            except OSError:
                continue
    return min(candidates) if candidates else None


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def create_containers(client: docker.DockerClient, prefix: str, count: int) -> None:
    def one(n: int) -> None:
        client.containers.run(
            IMAGE, ["sleep", "86400"], name=f"{prefix}-{n:03d}", labels={"sparktui.bench": prefix},
            network_mode="none", detach=True, stop_signal="SIGKILL",
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(count)))


def remove_containers(client: docker.DockerClient, prefix: str) -> None:
    mine = client.containers.list(all=True, filters={"label": f"sparktui.bench={prefix}"})

    def one(container) -> None:
        try:
            container.remove(force=True)
        except docker.errors.APIError as exc:
            print(f"could not remove {container.name}: {exc}", file=sys.stderr)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, mine))


def measure(fn, runs: int) -> tuple[float, float]:
    """(median CPU seconds of this process, median wall seconds) per call."""
    cpu, wall = [], []
    for _ in range(runs):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return statistics.median(cpu), statistics.median(wall)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--containers", type=int, default=200)
    parser.add_argument("--cycles", type=int, default=15)
    args = parser.parse_args()

    config = DockerConfig()
    client = docker.from_env(timeout=120)
    prefix = f"sparktui-bench-{secrets.token_hex(3)}"
    pid = dockerd_pid()
    print(f"creating {args.containers} containers ({prefix}-*)…", flush=True)
    started = time.perf_counter()
    try:
        create_containers(client, prefix, args.containers)
        print(f"  created in {time.perf_counter() - started:.1f} s")
        engine = DockerEngine(timeout=60)

        def first_listing() -> None:
            ContainerCatalog(engine).refresh()

        cpu, wall = measure(first_listing, 3)
        print(f"first full listing (list + {args.containers}+ inspects): CPU {cpu * 1000:.0f} ms, wall {wall * 1000:.0f} ms (median of 3)")

        catalog = ContainerCatalog(engine)
        containers = catalog.refresh().containers
        running = [c for c in containers if c.state == "running"]
        reader = ContainerStatsReader(engine)
        reader.sample(running)
        inspections = catalog.inspections

        list_cpu, list_wall = measure(catalog.refresh, args.cycles)
        stats_cpu, stats_wall = measure(lambda: reader.sample(running), args.cycles)
        assert catalog.inspections == inspections, "a steady refresh must not inspect"
        sources = {s.source for s in reader.sample(running).values()}
        print(f"steady container list ({len(containers)} containers, no inspects): CPU {list_cpu * 1000:.1f} ms, wall {list_wall * 1000:.1f} ms")
        print(f"stats of {len(running)} running containers from {'/'.join(sorted(sources)) or 'nothing'}: CPU {stats_cpu * 1000:.1f} ms, wall {stats_wall * 1000:.1f} ms; dockerd stats calls: {reader.api_calls}")
        per_second = stats_cpu / config.stats_interval + list_cpu / 30.0
        print(f"app CPU at the default refresh (stats every {config.stats_interval:.0f} s, full list every 30 s): {per_second * 100:.2f}% of one core")

        if pid is None:
            print("dockerd: pid not found, its CPU is not measured")
            return 0
        def dockerd_cost(fn, calls: int = 10) -> float:
            """dockerd CPU seconds per call of `fn`, minus its idle rate over the same time."""
            idle0, w0 = cpu_seconds(pid), time.perf_counter()
            time.sleep(1.0)
            idle_rate = (cpu_seconds(pid) - idle0) / (time.perf_counter() - w0)
            busy0, w0 = cpu_seconds(pid), time.perf_counter()
            for _ in range(calls):
                fn()
            spent = cpu_seconds(pid) - busy0 - idle_rate * (time.perf_counter() - w0)
            return max(0.0, spent) / calls

        stats_cost = statistics.median(dockerd_cost(lambda: reader.sample(running)) for _ in range(3))
        list_cost = statistics.median(dockerd_cost(catalog.refresh) for _ in range(3))
        added = stats_cost / config.stats_interval + list_cost / 30.0
        print(f"dockerd CPU added by our stats reads: {stats_cost * 1000:.1f} ms per cycle (cgroups: dockerd is not asked)")
        print(f"dockerd CPU per container list call: {list_cost * 1000:.1f} ms; at the default refresh dockerd adds {added * 100:.2f}% of a core for us")

        sample = running[: min(20, len(running))]
        sweeps = []
        for _ in range(3):
            d0 = cpu_seconds(pid)
            for container in sample:
                client.api.stats(container.id, stream=False, one_shot=True)
            sweeps.append((cpu_seconds(pid) - d0) / len(sample))
        per_container = statistics.median(sweeps)
        print(f"for comparison, the stats API: dockerd spends {per_container * 1000:.1f} ms CPU per container per read "
              f"= {per_container * len(running) * 1000:.0f} ms per sweep of {len(running)}, "
              f"{per_container * len(running) / config.stats_interval * 100:.1f}% of a core at one sweep every {config.stats_interval:.0f} s")
        engine.close()
    finally:
        print("removing the containers…", flush=True)
        remove_containers(client, prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
