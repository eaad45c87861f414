"""Headless commands; each module registers its parser with `register(subparsers)`.

JSON output, one convention for every command: each section is an object whose figures sit
beside a `sources` map saying where each came from (keys are field paths within the section,
`[]` standing for every element of a list), in the words the tables use; `notes` says what
was left out or simulated. External text in JSON is as it came; the tables clean it.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.text import Text

if TYPE_CHECKING:
    from spark_tui.core.demo.fleet import DemoFleet

PIPED_WIDTH = 200
DEMO_STATE_FILE = "demo-state.json"


def output_console() -> Console:
    """stdout; piped output gets wide lines instead of columns squeezed (and cut) to 80."""
    console = Console(highlight=False)
    return console if console.is_terminal else Console(highlight=False, width=PIPED_WIDTH)


def write_json(document: Any) -> None:
    """One JSON document on stdout (msgspec encodes dataclasses, enums and dicts alike)."""
    import msgspec

    sys.stdout.buffer.write(msgspec.json.format(msgspec.json.encode(document), indent=2) + b"\n")


def demo_state_path() -> Path:
    from spark_tui.paths import state_dir

    return state_dir() / DEMO_STATE_FILE


@functools.cache
def demo_fleet() -> DemoFleet:
    """The simulated Spark's containers for this command, every section reading the same one;
    changes (`--demo profile up`) persist for the next command in the state file."""
    from spark_tui.core.demo.fleet import DemoFleet

    return DemoFleet(state_path=demo_state_path())


def demo_state_note() -> str:
    fleet = demo_fleet()
    if fleet.problem:
        return f"simulated (--demo): {fleet.problem}; the change lasted only for this command"
    return f"simulated (--demo): the change is kept in {demo_state_path()} for later --demo commands (delete it to start afresh)"


def seconds_arg(most: float) -> Callable[[str], float]:
    """An argparse `type=`: a number of seconds from 0.1 to `most`."""

    def seconds(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
        if not 0.1 <= value <= most:
            raise argparse.ArgumentTypeError(f"expected 0.1 to {most:g} seconds, got {text}")
        return value

    return seconds


def plain(text: object) -> Text:
    """External text for a table cell: never read as markup, its control characters shown as
    stand-ins (spark_tui.core.untrusted.clean)."""
    from spark_tui.core.untrusted import clean

    return Text(clean(str(text)))


def with_sources(data: Any, sources: dict[str, str], notes: tuple[str, ...] | list[str] | None = None) -> dict[str, Any]:
    """A section for JSON: its fields, `sources` beside them, and `notes` when given (a field of
    the data that is already called notes stays)."""
    import msgspec

    document = msgspec.to_builtins(data)
    document["sources"] = sources
    if notes is not None and "notes" not in document:
        document["notes"] = list(notes)
    return document
