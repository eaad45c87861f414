"""Runs a blocking sample function on a cadence without ever stacking calls.

The next call starts only after the previous one returned, so a slow source stretches its
interval instead of piling up work. Each call runs in a daemon thread: a call that hangs
forever (a wedged driver, a dead socket) holds one thread and never blocks the event loop
or the app's exit.
"""

from __future__ import annotations

import asyncio
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


async def run_in_daemon_thread(fn: Callable[[], T]) -> T:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(setter: Callable, value: object) -> None:
        if not future.done():
            setter(value)

    def hand_over(setter: Callable, value: object) -> None:
        try:
            loop.call_soon_threadsafe(settle, setter, value)
        except RuntimeError:
            return  # the loop closed while the call ran (the app quit): nobody waits for it

    def target() -> None:
        try:
            value = fn()
        except BaseException as exc:  # handed to the awaiting coroutine, not lost
            hand_over(future.set_exception, exc)
        else:
            hand_over(future.set_result, value)

    threading.Thread(target=target, name=f"poll-{getattr(fn, '__qualname__', 'call')}", daemon=True).start()
    return await future


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
                value = await run_in_daemon_thread(self._sample)
            except Exception as exc:
                self.failures += 1
                self._on_error(exc)
                delay = min(MAX_BACKOFF_S, self.interval * 2**self.failures)
            else:
                self.failures = 0
                self._deliver(value)
                delay = max(0.0, self.interval - (time.monotonic() - started))
            finally:
                self.in_flight_since = None
            self._wake.clear()
            await wait_for_event(self._wake, delay)  # poked, or the interval elapsed: sample again
