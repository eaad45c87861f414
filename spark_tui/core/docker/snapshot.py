"""One look at the containers for headless use (`spark-tui snapshot`): blocking, never raises."""

from __future__ import annotations

import time

from spark_tui.models.settings import Config
from spark_tui.models.containers import ContainersReport
from spark_tui.core.docker.stats import ContainerStatsReader
from spark_tui.core.docker.containers import ContainerCatalog
from spark_tui.core.docker.engine import DockerEngine, DockerUnavailable


def containers_snapshot(config: Config | None = None, cpu_window_s: float = 0.5, timeout_s: float = 5.0) -> ContainersReport:
    """Every container with CPU % and memory where cgroups are readable.

    CPU % needs two readings `cpu_window_s` apart (0 leaves it None). An unreachable engine
    gives a report with `engine.state == "down"` and the reason, not an exception.
    """
    config = config or Config()
    engine = DockerEngine(host=config.docker.host, timeout=timeout_s)
    try:
        listing = ContainerCatalog(engine).refresh()
        reader = ContainerStatsReader(engine, api_interval_s=0.0, api_per_cycle=8)
        stats = reader.sample(listing.containers)
        if cpu_window_s > 0 and stats:
            time.sleep(cpu_window_s)
            stats = reader.sample(listing.containers)
        return ContainersReport(taken_at=listing.taken_at, engine=engine.status, containers=listing.containers, stats=stats)
    except DockerUnavailable:
        return ContainersReport(taken_at=time.time(), engine=engine.status)
    finally:
        engine.close()
