"""Keeps the container list current from the engine's events, and survives the engine going away.

    watcher = ContainerWatcher(engine)
    for listing in watcher.updates():      # in a thread worker; blocks between changes
        post_message(ContainersChanged(listing))
    ...
    watcher.stop()                         # from any thread: updates() returns promptly

A full list is read on (re)connect and every `reconcile_s` (events can be missed across a
reconnect); between those, only the containers an event names are re-read. When the engine
goes away the listing keeps the last known containers with `complete=False` and an engine
status that says why and when the next attempt is; reconnection backs off 1, 2, 4 … 30 s.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import docker.errors

from spark_tui.core.masking import mask_text
from spark_tui.models.containers import ContainerListing
from spark_tui.core.docker.containers import ContainerCatalog
from spark_tui.core.docker.engine import Backoff, DockerEngine, DockerUnavailable
from spark_tui.core.docker.events import ContainerEvent, EventStream

_STOP = object()
_POKE = object()


@dataclass(frozen=True)
class _StreamEnded:
    error: Exception | None


class ContainerWatcher:
    def __init__(
        self,
        engine: DockerEngine,
        reconcile_s: float = 30.0,
        coalesce_s: float = 0.05,
        backoff: Backoff | None = None,
        catalog: ContainerCatalog | None = None,
    ) -> None:
        self.engine = engine
        self.catalog = catalog or ContainerCatalog(engine)
        self.reconcile_s = reconcile_s
        self.coalesce_s = coalesce_s
        self.backoff = backoff or Backoff(first=1.0, cap=30.0)
        self._queue: queue.Queue[tuple[int, object]] = queue.Queue()
        self._stopped = threading.Event()
        self._generation = 0
        self._stream: EventStream | None = None
        self._lock = threading.Lock()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def stop(self) -> None:
        """End `updates()` soon; safe from any thread, idempotent."""
        self._stopped.set()
        self._queue.put((-1, _STOP))
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.close()

    def poke(self) -> None:
        """Re-read the full list now (or retry the engine now when it is down)."""
        self._queue.put((-1, _POKE))

    def run(self, deliver: Callable[[ContainerListing], None]) -> None:
        """`updates()` with a callback: blocks until stop()."""
        for listing in self.updates():
            deliver(listing)

    def updates(self) -> Iterator[ContainerListing]:
        try:
            while not self._stopped.is_set():
                try:
                    stream = self._open_stream()
                    listing = self.catalog.refresh()
                except (DockerUnavailable, docker.errors.APIError) as exc:
                    self._engine_failed(exc)
                    self._close_stream()
                    delay = self.backoff.next_delay()
                    self.engine.set_retry_in(delay)
                    yield self.catalog.listing(complete=False)
                    if self._wait(delay) is _STOP:
                        return
                    continue
                self.backoff.reset()
                yield listing
                yield from self._follow(stream)
                self._close_stream()
        finally:
            self._close_stream()

    def _engine_failed(self, exc: Exception) -> None:
        """An engine that answers with a server error is treated like one that went away."""
        if isinstance(exc, docker.errors.APIError):
            words = exc.explanation if isinstance(exc.explanation, str) and exc.explanation else str(exc)
            self.engine.mark_down(DockerUnavailable(self.engine.host, f"the Docker daemon at {self.engine.host} answered with an error: {mask_text(words)}"))

    # -- inside one connection ---------------------------------------------------------------

    def _follow(self, stream: EventStream) -> Iterator[ContainerListing]:
        generation = self._generation
        threading.Thread(target=self._pump, args=(stream, generation), name="docker-events", daemon=True).start()
        next_reconcile = time.monotonic() + self.reconcile_s
        while not self._stopped.is_set():
            item = self._next(generation, max(0.0, next_reconcile - time.monotonic()))
            try:
                if item is _STOP:
                    return
                if isinstance(item, _StreamEnded):
                    if self._stopped.is_set():
                        return
                    self.engine.mark_down(item.error or ConnectionResetError("the event stream ended"))
                    yield self.catalog.listing(complete=False)
                    return
                if item is None or item is _POKE:
                    listing = self.catalog.refresh()
                    next_reconcile = time.monotonic() + self.reconcile_s
                    if listing.changed or listing.removed or item is _POKE:
                        yield listing
                    continue
                if isinstance(item, ContainerEvent):
                    listing = self._apply(self._coalesce(item, generation))
                    if listing.changed or listing.removed:
                        yield listing
            except (DockerUnavailable, docker.errors.APIError) as exc:
                self._engine_failed(exc)
                yield self.catalog.listing(complete=False)
                return

    def _coalesce(self, first: ContainerEvent, generation: int) -> list[ContainerEvent]:
        """The first event and whatever follows within `coalesce_s`: a burst becomes one update."""
        events = [first]
        deadline = time.monotonic() + self.coalesce_s
        while len(events) < 1000:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                gen, item = self._queue.get(timeout=remaining)
            except queue.Empty:
                break
            if isinstance(item, ContainerEvent) and gen == generation:
                events.append(item)
            elif gen in (generation, -1):
                self._queue.put((gen, item))  # a control item: handle it after this batch
                break
        return events

    def _apply(self, events: list[ContainerEvent]) -> ContainerListing:
        destroyed = {e.container_id for e in events if e.verb == "destroy"}
        touched = [e.container_id for e in events if e.container_id not in destroyed]
        gone = self.catalog.forget(destroyed)
        updated = self.catalog.update(touched)
        return self.catalog.listing(updated.changed, gone.removed | updated.removed)

    def _next(self, generation: int, timeout: float) -> object | None:
        """The next item for this connection; None when `timeout` passed."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                gen, item = self._queue.get(timeout=remaining)
            except queue.Empty:
                return None
            if gen in (generation, -1):
                return item  # older generations: leftovers of a closed stream

    def _wait(self, delay: float) -> object | None:
        """Sleep between reconnection attempts; stop() or poke() cuts it short."""
        deadline = time.monotonic() + delay
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            try:
                gen, item = self._queue.get(timeout=remaining)
            except queue.Empty:
                return None
            if item is _STOP or item is _POKE:
                return item

    def _pump(self, stream: EventStream, generation: int) -> None:
        for event in stream:
            self._queue.put((generation, event))
        self._queue.put((generation, _StreamEnded(stream.error)))

    def _open_stream(self) -> EventStream:
        stream = EventStream(self.engine)
        with self._lock:
            self._generation += 1
            self._stream = stream
            stopped = self._stopped.is_set()
        if stopped:
            stream.close()
        return stream

    def _close_stream(self) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()
