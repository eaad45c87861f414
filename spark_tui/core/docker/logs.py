"""A container's logs: the last N lines, then (optionally) new ones as they come, secrets masked.

    follower = LogFollower(engine, container.id, tail=500)
    for batch in follower.batches():      # thread worker; a burst arrives as one list
        post_message(LogLinesArrived(batch))
    follower.stop()                       # any thread; batches() ends promptly
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import docker.errors

from spark_tui.core.masking import mask_text
from spark_tui.core.untrusted import clean, log_line
from spark_tui.models.containers import LogLine
from spark_tui.core.docker.containers import CONTAINER_ID, ContainerActionError, parse_docker_time
from spark_tui.core.docker.engine import DockerEngine, DockerUnavailable, describe_docker_error
from spark_tui.core.docker.log_buffer import LogBuffer, compile_query  # noqa: F401 - SDK-free home, re-exported

log = logging.getLogger(__name__)

_TIMESTAMP = re.compile(rb"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) ")
MAX_LINE_BYTES = 64 * 1024  # a line longer than this is cut (a binary blob in a log)


def split_log_line(container_id: str, raw: bytes, timestamps: bool = True) -> LogLine:
    stamp = None
    if timestamps:
        match = _TIMESTAMP.match(raw)
        if match:
            stamp = parse_docker_time(match[1].decode())
            raw = raw[match.end():]
    # Secrets first (masking reads the raw line), then the sanitiser: colour kept as spans,
    # every other escape and control shown as a stand-in (a log must not retitle the terminal).
    text, spans = log_line(mask_text(raw[:MAX_LINE_BYTES].decode("utf-8", errors="replace")))
    return LogLine(container_id=container_id, text=text, timestamp=stamp, spans=spans)


def lines_from_chunks(container_id: str, chunks: Iterable[bytes], timestamps: bool = True) -> Iterator[LogLine]:
    """Cut a stream of byte chunks (frames, or single bytes for TTY containers) into lines."""
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        if b"\n" not in chunk and len(buffer) < MAX_LINE_BYTES:
            continue
        *complete, buffer = buffer.split(b"\n")
        for raw in complete:
            yield split_log_line(container_id, raw, timestamps)
        if len(buffer) >= MAX_LINE_BYTES:
            yield split_log_line(container_id, buffer, timestamps)
            buffer = b""
    if buffer:
        yield split_log_line(container_id, buffer, timestamps)


class LogFollower:
    """Tail and optionally follow one container's logs. `error` says why it ended early."""

    def __init__(self, engine: DockerEngine, container_id: str, tail: int = 500, follow: bool = True, timestamps: bool = True) -> None:
        if not CONTAINER_ID.match(container_id or ""):
            raise ContainerActionError(f"not a container id: {clean(repr(container_id))}")
        self.engine = engine
        self.container_id = container_id
        self.tail = tail
        self.follow = follow
        self.timestamps = timestamps
        self.error: str | None = None
        self._stream: Any = None
        self._stopped = threading.Event()
        self._lock = threading.Lock()

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            try:
                stream.close()
            except Exception as exc:
                log.debug("closing a log stream: %r", exc)  # already closed by the engine

    def _open(self) -> Any:
        try:
            return self.engine.call(
                lambda c: c.api.logs(
                    self.container_id, stream=True, follow=self.follow, timestamps=self.timestamps, tail=self.tail
                )
            )
        except docker.errors.NotFound:
            raise ContainerActionError(f"no logs for {self.container_id[:12]}: the container no longer exists") from None
        except docker.errors.APIError as exc:
            raise ContainerActionError(f"no logs for {self.container_id[:12]}: {clean(mask_text(str(exc.explanation or exc)))}") from None

    def lines(self) -> Iterator[LogLine]:
        """Blocking. Raises ContainerActionError / DockerUnavailable if the logs cannot be opened."""
        stream = self._open()
        with self._lock:
            self._stream = stream
        if self._stopped.is_set():
            stream.close()
            return
        try:
            for line in lines_from_chunks(self.container_id, stream, self.timestamps):
                if self._stopped.is_set():
                    return
                yield line
        except Exception as exc:  # the connection broke mid-stream
            if not self._stopped.is_set():
                self.error = describe_docker_error(exc, self.engine.host).reason
        finally:
            stream.close()

    def batches(self, max_lines: int = 5_000, max_wait_s: float = 0.1) -> Iterator[list[LogLine]]:
        """Lines grouped by arrival: at most `max_lines`, flushed at least every `max_wait_s`.

        The first batch holds the tail. Errors opening the logs are raised here, in the caller.
        """
        items: queue.Queue[object] = queue.Queue(maxsize=20_000)
        done = object()
        failure: list[BaseException] = []

        def pump() -> None:
            try:
                for line in self.lines():
                    items.put(line)
            except (ContainerActionError, DockerUnavailable) as exc:
                failure.append(exc)
            finally:
                items.put(done)

        threading.Thread(target=pump, name=f"logs-{self.container_id[:12]}", daemon=True).start()
        batch: list[LogLine] = []
        deadline: float | None = None
        while True:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                item = items.get(timeout=timeout if timeout is not None else 0.5)
            except queue.Empty:
                item = None
            if item is done:
                if failure:
                    raise failure[0]
                if batch:
                    yield batch
                return
            if isinstance(item, LogLine):
                batch.append(item)
                if deadline is None:
                    deadline = time.monotonic() + max_wait_s
            if batch and (len(batch) >= max_lines or (deadline is not None and time.monotonic() >= deadline)):
                yield batch
                batch, deadline = [], None
            if self._stopped.is_set() and item is None:
                return

