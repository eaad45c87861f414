"""spark-tui as `python -m spark_tui` runs it (this machine, the real Docker engine), with one
container's logs or inspect screen opened at start, for pty tests and benches:

    python bench/tui_screen.py logs CONTAINER_ID [--tail N] [--config PATH]
    python bench/tui_screen.py inspect CONTAINER_ID

The screen is opened the way the containers screen's `l` / `i` opens it (same class, same
session and backend); only the cursor walk to the row is skipped, since other containers on
the machine decide which row it is.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spark_tui.config import load_config  # noqa: E402
from spark_tui.core.docker.containers import container_from_inspect  # noqa: E402
from spark_tui.core.polling import run_in_daemon_thread  # noqa: E402
from spark_tui.models.settings import Config  # noqa: E402
from spark_tui.ui.app import make_app  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("screen", choices=("logs", "inspect"))
    parser.add_argument("container")
    parser.add_argument("--tail", type=int, default=500)
    parser.add_argument("--config", type=Path)
    args = parser.parse_args()
    config = load_config(args.config) if args.config else Config()
    app = make_app(config)

    async def open_screen(pilot: object) -> None:
        backend = app.containers.backend
        container = container_from_inspect(await run_in_daemon_thread(lambda: backend.inspect(args.container)))
        if args.screen == "logs":
            from spark_tui.ui.containers.logs import LogsScreen

            await app.push_screen(LogsScreen(app.session, container, backend, args.tail))
        else:
            from spark_tui.ui.containers.inspect import InspectScreen

            await app.push_screen(InspectScreen(app.session, container, backend))

    app.run(auto_pilot=open_screen)
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main())
