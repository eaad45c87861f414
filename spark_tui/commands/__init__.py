"""Headless commands; each module registers its parser with `register(subparsers)`."""

from __future__ import annotations

from rich.console import Console

PIPED_WIDTH = 200


def output_console() -> Console:
    """stdout; piped output gets wide lines instead of columns squeezed (and cut) to 80."""
    console = Console(highlight=False)
    return console if console.is_terminal else Console(highlight=False, width=PIPED_WIDTH)
