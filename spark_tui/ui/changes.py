"""What a fact changed (`Changed`), and what the domain sessions use of the app (`Host`).

A leaf module: the domain sessions (ui/*/controller.py) and the screens both import it; it
imports neither.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import Flag, auto
from typing import TYPE_CHECKING, Any, Protocol

from textual.message import Message

if TYPE_CHECKING:
    from textual.timer import Timer


class Changed(Flag):
    """What a fact changed, for the screen showing to redraw."""

    NOTHING = 0
    GPU = auto()
    SYSTEM = auto()
    CONTAINERS = auto()  # the list, or an action's state
    STATS = auto()  # containers' CPU / memory / GPU memory
    PROFILES = auto()
    JOB = auto()  # the compose command under way
    TICK = auto()  # a second passed for what counts seconds (compose's elapsed time, Docker's retry countdown)
    PROBES = auto()
    BENCH = auto()  # the benchmark under way (its parts: BenchController.take_parts)
    INFERENCE = auto()  # model servers' figures (InferenceController)

    MACHINE = GPU | SYSTEM


class Host(Protocol):
    """What the domain sessions use of the app."""

    def notify(self, message: str, *, title: str = "", severity: Any = "information", timeout: float | None = None, markup: bool = True) -> None: ...
    def post_message(self, message: Message) -> bool: ...
    def run_worker(self, work: Callable[[], Any] | Awaitable[Any], name: str | None = "", group: str = "default", exit_on_error: bool = True) -> Any: ...
    def set_timer(self, delay: float, callback: Callable[[], Any] | None = None, *, name: str | None = None) -> Timer: ...
    def set_interval(self, interval: float, callback: Callable[[], Any] | None = None, *, name: str | None = None) -> Timer: ...
    def call_after_refresh(self, callback: Callable[..., Any], *args: Any) -> bool: ...
    def redraw(self, changed: Changed) -> None: ...
