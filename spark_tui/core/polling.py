"""Runs a blocking sample function on a cadence without ever stacking calls.

The next call starts only after the previous one returned, so a slow source stretches its
interval instead of piling up work. Each poller's calls run in a daemon thread of its own: a
call that hangs forever (a wedged driver, a dead socket) holds that thread and never blocks
the event loop, the other pollers or the app's exit.
"""

from __future__ import annotations

import asyncio
import math
import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_BACKOFF_S = 30.0


async def wait_for_event(event: asyncio.Event, timeout: float) -> bool:
    """Wait until `event` is set or `timeout` seconds pass; True when it was set."""
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        return False
    return True


def _settle_from_thread(loop: asyncio.AbstractEventLoop, future: asyncio.Future, fn: Callable[[], T]) -> None:
    """Run `fn` here (a worker thread) and hand its result or exception to `future` on `loop`."""

    def settle(setter: Callable, value: object) -> None:
        if not future.done():  # not cancelled meanwhile
            setter(value)

    try:
        value = fn()
    except BaseException as exc:  # handed to the awaiting coroutine, not lost
        setter, value = future.set_exception, exc
    else:
        setter = future.set_result
    try:
        loop.call_soon_threadsafe(settle, setter, value)
    except RuntimeError:
        return  # the loop closed while the call ran (the app quit): nobody waits for it


async def run_in_daemon_thread(fn: Callable[[], T]) -> T:
    """Run a one-off blocking call in a new daemon thread (an action, a preview)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    name = f"call-{getattr(fn, '__qualname__', 'call')}"
    threading.Thread(target=_settle_from_thread, args=(loop, future, fn), name=name, daemon=True).start()
    return await future


class CallThread:
    """One daemon thread that runs blocking calls one after another, for a caller that never
    has two in flight (a poller). A thread started per call costs the process a clone, a
    handshake that wakes the event loop, and a new thread's start-up, each second for each
    poller; on a virtual machine that is a measurable part of the dashboard's idle CPU."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    async def run(self, fn: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
            self._thread.start()
        self._calls.put((loop, future, fn))
        return await future

    def _serve(self) -> None:
        while True:
            _settle_from_thread(*self._calls.get())


def next_due(started: float, interval: float) -> float:
    """When a call that started at `started` is next due: the next multiple of `interval` on the
    monotonic clock at least half an interval on. Pollers of one interval thus sample at the same
    moments, so their timers wake the event loop once and their samples land in one frame."""
    return (math.floor((started + interval / 2) / interval) + 1) * interval


class Poller(Generic[T]):
    """Calls `sample` every `interval` seconds and hands each result to `deliver`.

    Errors go to `on_error` and the poller retries with exponential backoff (at most 30 s).
    `pause()` stops after the call in flight; `poke()` samples now.
    """

    def __init__(
        self,
        name: str,
        sample: Callable[[], T],
        deliver: Callable[[T], None],
        on_error: Callable[[BaseException], None],
        interval: float = 1.0,
    ) -> None:
        self.name = name
        self.interval = interval
        self._sample = sample
        self._deliver = deliver
        self._on_error = on_error
        self._running = asyncio.Event()
        self._running.set()
        self._wake = asyncio.Event()
        self._thread = CallThread(f"poll-{name}")
        self.failures = 0
        self.in_flight_since: float | None = None  # monotonic start of the call under way

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()
        self._wake.set()

    def poke(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            await self._running.wait()
            started = time.monotonic()
            self.in_flight_since = started
            try:
                value = await self._thread.run(self._sample)
            except Exception as exc:
                self.failures += 1
                self._on_error(exc)
                delay = min(MAX_BACKOFF_S, self.interval * 2**self.failures)
            else:
                self.failures = 0
                self._deliver(value)
                delay = max(0.0, next_due(started, self.interval) - time.monotonic())
            finally:
                self.in_flight_since = None
            self._wake.clear()
            await wait_for_event(self._wake, delay)  # poked, or the interval elapsed: sample again
