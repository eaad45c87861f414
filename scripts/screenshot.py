"""Writes docs/screenshot.svg: the demo (a simulated DGX Spark mid-inference), as in the README.

  .venv/bin/python scripts/screenshot.py [--size 120x36] [--out docs/screenshot.svg]
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

from support import FakeClock, demo_sources, feed  # noqa: E402

from spark_tui.app import make_app  # noqa: E402


async def capture(size: tuple[int, int], seconds: int) -> str:
    clock = FakeClock()
    sources = demo_sources(clock)
    app = make_app(sources=sources, start_polling=False)
    async with app.run_test(size=size) as pilot:
        feed(app, sources, clock, seconds)
        await pilot.pause(0.3)
        return app.export_screenshot(title="spark-tui --demo")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="120x36")
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
