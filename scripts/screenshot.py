"""Writes docs/screenshot.svg: the demo (a simulated DGX Spark mid-inference, its containers,
profiles, services and its model servers' load), as in the README.

  .venv/bin/python scripts/screenshot.py [--size 150x44] [--out docs/screenshot.svg]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from containers_support import feed_containers  # noqa: E402
from probe_support import feed_demo_probes  # noqa: E402
from support import FakeClock, demo_sources, feed  # noqa: E402

from spark_tui.ui.app import make_app  # noqa: E402
from spark_tui.core.demo.docker import DemoDocker  # noqa: E402
from spark_tui.core.demo.inference import DemoInference  # noqa: E402
from spark_tui.core.demo.probes import DemoProbes  # noqa: E402


async def capture(size: tuple[int, int], seconds: int) -> str:
    clock = FakeClock()
    docker = DemoDocker(clock=clock, pace_s=0.01)
    probes = DemoProbes(clock=clock)
    inference = DemoInference(clock=clock, wall_clock=clock)
    app = make_app(sources=demo_sources(clock), start_polling=False, containers=docker, probes=probes, inference=inference)
    async with app.run_test(size=size) as pilot:
        for _ in range(seconds):  # the machine and the model servers sampled each simulated second, in step
            feed(app, app.sources, clock, 1)
            await app.inference.poll()
        await feed_containers(pilot, app, docker, machine_seconds=0)
        feed_demo_probes(app, probes, checks=3)
        await pilot.pause(1.5)  # the dashboard draws probe results with the next frame, at the latest after 1.2 s
        return app.export_screenshot(title="spark-tui --demo")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="150x44")
    parser.add_argument("--seconds", type=int, default=150, help="simulated seconds of history")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshot.svg"))
    args = parser.parse_args()
    os.environ["TZ"] = "UTC"
    time.tzset()
    width, height = (int(x) for x in args.size.split("x"))
    Path(args.out).write_text(asyncio.run(capture((width, height), args.seconds)))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
