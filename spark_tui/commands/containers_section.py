"""The containers part of `spark-tui snapshot`: collect_containers and render_containers."""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone

from rich.console import Console
from rich.table import Table
from rich.text import Text

from spark_tui.commands import demo_fleet, plain
from spark_tui.core import format as fmt
from spark_tui.models.settings import Config
from spark_tui.models.containers import Container, ContainersReport, PublishedPort, group_by_project
from spark_tui.core.docker.snapshot import containers_snapshot

STATE_STYLE = {"running": "green", "restarting": "yellow", "paused": "yellow", "exited": "dim", "created": "dim", "dead": "red"}
HEALTH_STYLE = {"healthy": "green", "starting": "yellow", "unhealthy": "bold red"}


def collect_containers(args: argparse.Namespace, config: Config) -> ContainersReport:
    return demo_snapshot(config) if getattr(args, "demo", False) else containers_snapshot(config)


def demo_snapshot(config: Config) -> ContainersReport:
    """`snapshot --demo`: the simulated Spark's containers, as the dashboard's demo shows them."""
    from spark_tui.core.demo.docker import DemoDocker

    docker = DemoDocker(config=config.docker, fleet=demo_fleet())  # the fleet the GPU's processes run in
    containers = docker.containers()
    stats = docker.sample_stats(containers, None)
    return ContainersReport(taken_at=time.time(), engine=docker.status, containers=containers, stats=stats, notes=("simulated containers (--demo)",))


def ports_text(ports: tuple[PublishedPort, ...]) -> str:
    shown = []
    for port in ports:
        host = "" if port.host_ip in ("0.0.0.0", "::") else f"{port.host_ip}:"
        suffix = "" if port.protocol == "tcp" else f"/{port.protocol}"
        shown.append(f"{host}{port.host_port}→{port.container_port}{suffix}")
    return ", ".join(dict.fromkeys(shown))


def state_text(container: Container, now: datetime) -> Text:
    text = plain(container.state)
    text.stylize(STATE_STYLE.get(container.state, ""))
    if container.health:
        text.append_text(Text(f" {plain(container.health)}", style=HEALTH_STYLE.get(container.health, "")))
    if container.state == "running":
        text.append(f" {fmt.duration(container.uptime(now))}", style="dim")
    elif container.exit_code is not None:
        text.append(f" ({container.exit_code})", style="dim")
    return text


def render_containers(console: Console, report: ContainersReport) -> None:
    running = sum(1 for c in report.containers if c.state == "running")
    if not report.engine.up:
        console.print(Text.assemble(("Containers  ", "bold"), plain(report.engine.message)))
        return
    heading = plain(f"Containers · {running} running of {len(report.containers)} · Docker {report.engine.version or fmt.NA}")
    heading.stylize("bold")
    console.print(heading)
    if not report.containers:
        console.print("  none")
        return
    now = datetime.now(timezone.utc)
    table = Table(box=None, padding=(0, 1), pad_edge=True)
    table.add_column("NAME", no_wrap=True, overflow="ellipsis", max_width=40)
    table.add_column("STATE", no_wrap=True)
    table.add_column("CPU", justify="right", no_wrap=True)
    table.add_column("MEMORY", justify="right", no_wrap=True)
    table.add_column("GPU", no_wrap=True)
    table.add_column("PORTS", overflow="fold", min_width=12)
    table.add_column("IMAGE", overflow="ellipsis", min_width=8, max_width=30)
    for group in group_by_project(report.containers):
        project = plain(group.project or "(no compose project)")
        project.stylize("bold")
        table.add_row(project, "", "", "", "", "", "")
        for container in group.containers:
            stats = report.stats.get(container.id)
            gpu = "GPU" if container.gpu else ""
            if stats and stats.gpu_memory is not None:
                gpu = f"GPU {fmt.size(stats.gpu_memory)}"
            table.add_row(
                plain(f"  {container.name}"),
                state_text(container, now),
                fmt.percent(stats.cpu_percent) if stats else "",
                fmt.size(stats.memory_used) if stats else "",
                gpu,
                plain(ports_text(container.ports)),
                plain(container.image),
            )
    console.print(table)
    for note in report.notes:
        line = plain(f"  {note}")
        line.stylize("dim")
        console.print(line)

