"""A container's logs: the last N lines, then (optionally) new ones as they come, secrets masked.

    follower = LogFollower(engine, container.id, tail=500)
    for batch in follower.batches():      # thread worker; a burst arrives as one list
        post_message(LogLinesArrived(batch))
    follower.stop()                       # any thread; batches() ends promptly

Built for a container writing 10,000 lines a second (bench/logs_speed_bench.py). docker-py reads
the logs stream one frame at a time (two urllib3 reads of a few bytes per line, each through the
HTTP chunk decoder): half of the reader's CPU at that rate, and CPU a Python thread spends is
GIL time taken from the UI. So the body is read here in large reads (everything the socket has,
up to READ_BYTES), and the HTTP chunks, Docker's 8-byte frame headers and the lines are cut with
bytes.find/split over each read. Lines are handed on a read's worth at a time, and `batches()`
delivers them at most every `max_wait_s`, keeping only the newest `max_lines` when the consumer
is slower than the container: memory stays bounded whatever the container writes.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import datetime
from struct import unpack_from
from typing import Any

import docker.errors
from docker.types.daemon import CancellableStream

from spark_tui.core.masking import mask_text
from spark_tui.core.untrusted import clean, log_line
from spark_tui.models.containers import LogLine
from spark_tui.core.docker.containers import CONTAINER_ID, ContainerActionError, parse_docker_time
from spark_tui.core.docker.engine import DockerEngine, DockerUnavailable, describe_docker_error
from spark_tui.core.docker.log_buffer import LogBuffer, compile_query  # noqa: F401 - SDK-free home, re-exported

log = logging.getLogger(__name__)

_TIMESTAMP = re.compile(rb"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) ")
MAX_LINE_BYTES = 64 * 1024  # a line longer than this is cut (a binary blob in a log)
READ_BYTES = 256 * 1024  # one read of the stream: ~3,000 lines of a busy log
MAX_CHUNK_LINE = 1024  # an HTTP chunk-size line longer than this is not HTTP


class LogStreamError(ValueError):
    """The engine's answer is not the chunked, framed stream it should be."""


# -- cutting the stream -------------------------------------------------------------------------


class _Dechunker:
    """HTTP/1.1 chunked transfer coding undone over reads of any size (http.client and urllib3
    undo it one chunk per call, and dockerd writes one chunk per log line)."""

    def __init__(self) -> None:
        self._pending = b""
        self._left = 0  # bytes of the current chunk still to come
        self._crlf = False  # the CRLF after a chunk's data is next
        self.done = False  # the last (empty) chunk was read

    def feed(self, data: bytes) -> bytes:
        buf = self._pending + data if self._pending else data
        pos, end, out = 0, len(buf), []
        while pos < end and not self.done:
            if self._left:
                take = min(self._left, end - pos)
                out.append(buf[pos : pos + take])
                pos += take
                self._left -= take
                self._crlf = not self._left
            elif self._crlf:
                if end - pos < 2:
                    break
                if buf[pos : pos + 2] != b"\r\n":
                    raise LogStreamError("a chunk of the log stream did not end with CRLF")
                pos += 2
                self._crlf = False
            else:
                newline = buf.find(b"\r\n", pos)
                if newline < 0:
                    if end - pos > MAX_CHUNK_LINE:
                        raise LogStreamError("the log stream is not chunked as announced")
                    break
                try:
                    size = int(buf[pos:newline].split(b";", 1)[0], 16)
                except ValueError:
                    raise LogStreamError("the log stream is not chunked as announced") from None
                if size < 0:
                    raise LogStreamError("the log stream is not chunked as announced")
                pos = newline + 2
                self._left = size
                self.done = size == 0
        self._pending = buf[pos:]
        return b"".join(out)


class _Demuxer:
    """Docker's multiplexed stream (a container without a TTY): an 8-byte header (stream, 0, 0, 0,
    big-endian length) before each payload. Payloads are passed on as they arrive, even in parts,
    so a huge frame never has to sit in memory whole."""

    def __init__(self) -> None:
        self._pending = b""
        self._left = 0

    def feed(self, data: bytes) -> bytes:
        buf = self._pending + data if self._pending else data
        pos, end, out = 0, len(buf), []
        while pos < end:
            if self._left:
                take = min(self._left, end - pos)
                out.append(buf[pos : pos + take])
                pos += take
                self._left -= take
            elif end - pos >= 8:
                self._left = unpack_from(">L", buf, pos + 4)[0]
                pos += 8
            else:
                break
        self._pending = buf[pos:]
        return b"".join(out)


class _LineCutter:
    """Bytes to lines; a line that grows past MAX_LINE_BYTES without a newline is let out as is."""

    def __init__(self) -> None:
        self._partial = b""

    def feed(self, data: bytes) -> list[bytes]:
        if self._partial:
            data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()
        if len(self._partial) >= MAX_LINE_BYTES:
            lines.append(self._partial)
            self._partial = b""
        return lines

    def finish(self) -> list[bytes]:
        rest, self._partial = self._partial, b""
        return [rest] if rest else []


# -- one line ----------------------------------------------------------------------------------

# Docker stamps every line in UTC ("2026-11-23T09:02:05.787390123Z"): lines a second apart share
# their first 19 bytes, so the datetime of that second is parsed once (the full parse is ~8 µs, a
# line's whole budget at 10,000 lines a second) and each line only adds its microseconds.
_last_second: tuple[bytes, datetime | None] = (b"", None)


def _parse_stamp(stamp: bytes) -> datetime | None:
    global _last_second
    if len(stamp) >= 20 and stamp[-1:] == b"Z" and (len(stamp) == 20 or stamp[19:20] == b"."):
        second = stamp[:19]
        cached = _last_second  # one read: other followers' threads may replace it meanwhile
        if cached[0] == second:
            base = cached[1]
        else:
            base = parse_docker_time(second.decode() + "Z")
            _last_second = (second, base)
        if base is None:
            return None
        fraction = stamp[20:-1]  # digits, by _TIMESTAMP
        return base.replace(microsecond=int(fraction[:6].ljust(6, b"0"))) if fraction else base
    return parse_docker_time(stamp.decode())


def split_log_line(container_id: str, raw: bytes, timestamps: bool = True) -> LogLine:
    stamp = None
    if timestamps:
        match = _TIMESTAMP.match(raw)
        if match:
            stamp = _parse_stamp(match[1])
            raw = raw[match.end() :]
    # Secrets first (masking reads the raw line), then the sanitiser: colour kept as spans,
    # every other escape and control shown as a stand-in (a log must not retitle the terminal).
    text, spans = log_line(mask_text(raw[:MAX_LINE_BYTES].decode("utf-8", errors="replace")))
    return LogLine(container_id=container_id, text=text, timestamp=stamp, spans=spans)


def lines_from_chunks(container_id: str, chunks: Iterable[bytes], timestamps: bool = True) -> Iterator[LogLine]:
    """Cut a stream of byte chunks (payloads, or the raw bytes of a TTY container) into lines."""
    cutter = _LineCutter()
    for chunk in chunks:
        for raw in cutter.feed(chunk):
            yield split_log_line(container_id, raw, timestamps)
    for raw in cutter.finish():
        yield split_log_line(container_id, raw, timestamps)


# -- the follower ------------------------------------------------------------------------------


def _body_reads(response: Any) -> Iterator[bytes]:
    """The response body in large reads, the HTTP chunking undone.

    The fast way reads http.client's buffered socket file directly (docker-py itself reaches the
    same object to find the socket): read1 returns whatever has arrived, up to READ_BYTES, in one
    call. A transport without it is read through urllib3, which undoes the chunking itself.
    """
    http_response = getattr(response.raw, "_fp", None)
    reader = getattr(http_response, "fp", None)
    if http_response is None or not hasattr(reader, "read1"):
        yield from response.raw.stream(READ_BYTES, decode_content=False)
        return
    dechunker = _Dechunker() if getattr(http_response, "chunked", False) else None
    while True:
        data = reader.read1(READ_BYTES)
        if not data:
            return
        if dechunker is None:
            yield data
            continue
        body = dechunker.feed(data)
        if body:
            yield body
        if dechunker.done:
            return


class LogFollower:
    """Tail and optionally follow one container's logs. `error` says why it ended early;
    `dropped` counts lines skipped because the consumer fell more than `max_lines` behind."""

    def __init__(self, engine: DockerEngine, container_id: str, tail: int = 500, follow: bool = True, timestamps: bool = True) -> None:
        if not CONTAINER_ID.match(container_id or ""):
            raise ContainerActionError(f"not a container id: {clean(repr(container_id))}")
        self.engine = engine
        self.container_id = container_id
        self.tail = tail
        self.follow = follow
        self.timestamps = timestamps
        self.error: str | None = None
        self.dropped = 0
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

    def _open(self) -> CancellableStream:
        """The logs request, answered: the body as byte reads, closable from any thread."""

        def request(client: Any) -> CancellableStream:
            api = client.api
            # The same request docker-py's APIClient.logs makes, read our way (see _body_reads).
            tty = bool((api.inspect_container(self.container_id).get("Config") or {}).get("Tty"))
            params = {
                "stdout": 1, "stderr": 1, "follow": int(self.follow), "timestamps": int(self.timestamps),
                "tail": "all" if self.tail is None or self.tail < 0 else self.tail,
            }  # fmt: skip
            response = api._get(api._url("/containers/{0}/logs", self.container_id), params=params, stream=True)
            api._raise_for_status(response)
            # A follow may sit idle for hours: no read timeout on its socket (docker-py does the same).
            api._disable_socket_timeout(api._get_raw_response_socket(response))
            reads = _body_reads(response)
            if not tty:
                demuxer = _Demuxer()
                reads = (payload for data in reads if (payload := demuxer.feed(data)))
            return CancellableStream(reads, response)

        try:
            return self.engine.call(request)
        except docker.errors.NotFound:
            raise ContainerActionError(f"no logs for {self.container_id[:12]}: the container no longer exists") from None
        except docker.errors.APIError as exc:
            raise ContainerActionError(f"no logs for {self.container_id[:12]}: {clean(mask_text(str(exc.explanation or exc)))}") from None

    def line_batches(self) -> Iterator[list[LogLine]]:
        """Blocking: the lines each read of the stream brought, as one list per read.

        Raises ContainerActionError / DockerUnavailable if the logs cannot be opened.
        """
        stream = self._open()
        with self._lock:
            self._stream = stream
        if self._stopped.is_set():
            stream.close()
            return
        cid, stamps = self.container_id, self.timestamps
        cutter = _LineCutter()
        try:
            for data in stream:
                if self._stopped.is_set():
                    return
                raws = cutter.feed(data)
                if raws:
                    yield [split_log_line(cid, raw, stamps) for raw in raws]
            if not self._stopped.is_set():
                rest = cutter.finish()
                if rest:
                    yield [split_log_line(cid, raw, stamps) for raw in rest]
        except Exception as exc:  # the connection broke mid-stream, or the stream made no sense
            if not self._stopped.is_set():
                self.error = describe_docker_error(exc, self.engine.host).reason
        finally:
            try:
                stream.close()
            except OSError as exc:  # stop() closed it already
                log.debug("closing a log stream: %r", exc)

    def lines(self) -> Iterator[LogLine]:
        """Blocking. Raises ContainerActionError / DockerUnavailable if the logs cannot be opened."""
        for batch in self.line_batches():
            yield from batch

    def batches(self, max_lines: int = 10_000, max_wait_s: float = 0.1) -> Iterator[list[LogLine]]:
        """Lines grouped by arrival, a batch at most every `max_wait_s` after its first line came.

        A batch holds at most `max_lines`, the newest: lines that arrive while the consumer is
        busy wait here, and once more than `max_lines` wait the oldest are dropped (counted in
        `dropped`), so a consumer slower than the container neither falls further behind nor
        lets memory grow. The first batch holds the tail. Errors opening the logs are raised
        here, in the caller.
        """
        waiting: deque[LogLine] = deque(maxlen=max_lines)
        ready = threading.Condition()
        state: dict[str, Any] = {"done": False, "failure": None, "since": None}

        def pump() -> None:
            try:
                for batch in self.line_batches():
                    with ready:
                        overflow = len(waiting) + len(batch) - max_lines
                        if overflow > 0:
                            self.dropped += overflow
                        waiting.extend(batch)
                        if state["since"] is None:
                            state["since"] = time.monotonic()
                            ready.notify()
            except (ContainerActionError, DockerUnavailable) as exc:
                state["failure"] = exc
            finally:
                with ready:
                    state["done"] = True
                    ready.notify()

        threading.Thread(target=pump, name=f"logs-{self.container_id[:12]}", daemon=True).start()
        while True:
            with ready:
                while not waiting and not state["done"] and not self._stopped.is_set():
                    ready.wait(0.5)
                if waiting and not state["done"] and not self._stopped.is_set():
                    due = state["since"] + max_wait_s - time.monotonic()
                    if due > 0:
                        ready.wait(due)  # woken early only by the end of the stream
                if self._stopped.is_set():
                    return
                batch = list(waiting)
                waiting.clear()
                state["since"] = None
                done, failure = state["done"], state["failure"]
            if batch:
                yield batch
            if done:
                if failure is not None:
                    raise failure
                return
