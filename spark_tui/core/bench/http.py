"""A lean HTTP/1.1 keep-alive client for the load generator: one connection per closed-loop worker.

Why not httpx: measured on loopback, httpx.AsyncClient spends 1.5 ms of CPU per request at
concurrency 1 and 3.6 ms at 16 (pool bookkeeping); aiohttp 0.2 ms; this client ~0.05 ms.
A runner that costs milliseconds per request measures itself, not the server
(bench/accuracy.py keeps that honest). Requests are serialised once (`PreparedRequest`) and
replayed; responses are read with Content-Length, chunked encoding, or to EOF.

Answers are received by a BufferedProtocol: the kernel writes them straight into one buffer per
connection, grown to fit the largest answer and reused. asyncio.StreamReader copies every chunk
into its buffer, copies the answer out again and pauses and resumes the socket around its 1 MiB
limit: 7 ms of CPU for a 5.6 MB answer (64 texts × 4096 dimensions) against 0.9 ms here.

Streamed answers (`Connection.stream`: SSE for OpenAI-style and llama.cpp servers, NDJSON for
Ollama) are split into events as they come, each stamped with the time its last byte arrived:
the protocol stamps every read as the event loop hands it over (`buffer_updated`), so how late
the reading task runs afterwards does not move a token's time.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from spark_tui.models.bench import ErrorClass

USER_AGENT = b"spark-tui-bench"
_HEAD_LIMIT = 1 << 20  # a head (status line and headers) longer than this is not HTTP
_CHUNK = 1 << 16  # free room offered to the kernel for each read
MAX_ANSWER = 1 << 30  # a Content-Length over this is refused before anything is read


class TransportError(Exception):
    """No usable HTTP answer: the message is for the user."""

    def __init__(self, error: ErrorClass, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message


@dataclass(frozen=True)
class Endpoint:
    """Where the server is: scheme, host, port and the path prefix every request goes under."""

    scheme: str
    host: str
    port: int
    base_path: str  # "" or "/prefix", never a trailing slash

    @classmethod
    def parse(cls, url: str) -> Endpoint:
        text = url.strip()
        if "://" not in text:
            text = "http://" + text
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"invalid URL {url!r}: {exc}") from None
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"invalid URL {url!r}: only http:// and https:// are supported")
        if not parts.hostname:
            raise ValueError(f"invalid URL {url!r}: no host name")
        if parts.query or parts.fragment:
            raise ValueError(f"invalid URL {url!r}: give the server's base URL without ?query or #fragment")
        return cls(
            scheme=parts.scheme,
            host=parts.hostname,
            port=port or (443 if parts.scheme == "https" else 80),
            base_path=parts.path.rstrip("/"),
        )

    @property
    def origin(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}" + ("" if self.port == default else f":{self.port}")

    def url(self, path: str = "") -> str:
        return self.origin + self.base_path + path

    @property
    def host_header(self) -> bytes:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return (host if self.port == default else f"{host}:{self.port}").encode("idna")


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """A request serialised once, sent many times."""

    method: str
    path: str  # below the endpoint's base path, e.g. "/v1/embeddings"
    wire: bytes

    @property
    def expects_body(self) -> bool:
        return self.method != "HEAD"


def prepare(
    endpoint: Endpoint,
    method: str,
    path: str,
    body: bytes = b"",
    content_type: str | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> PreparedRequest:
    target = (endpoint.base_path + path).encode("utf-8")
    lines = [b"%s %s HTTP/1.1" % (method.encode("ascii"), target), b"host: " + endpoint.host_header, b"user-agent: " + USER_AGENT, b"accept: */*"]
    if content_type is not None:
        lines.append(b"content-type: " + content_type.encode("latin-1"))
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(b"content-length: %d" % len(body))
    for name, value in headers:
        lines.append(name.encode("latin-1") + b": " + value.encode("latin-1"))
    return PreparedRequest(method, path, b"\r\n".join(lines) + b"\r\n\r\n" + body)


class Response:
    """An answer; headers are parsed only when asked for (the load generator rarely needs them)."""

    __slots__ = ("_head", "_headers", "body", "reason", "status")

    def __init__(self, status: int, reason: str, head: bytes, body: bytes) -> None:
        self.status = status
        self.reason = reason
        self.body = body
        self._head = head
        self._headers: dict[str, str] | None = None

    @property
    def headers(self) -> dict[str, str]:
        """Header names in lower case."""
        if self._headers is None:
            self._headers = _parse_headers(self._head)
        return self._headers

    def __repr__(self) -> str:
        return f"Response({self.status} {self.reason}, {len(self.body)} bytes)"


class StreamResponse(Response):
    """A streamed answer: its events (SSE `data:` blocks or NDJSON lines, framing left in) and the
    perf_counter time each one's last byte arrived. A non-2xx answer is read whole into `body`
    instead, with no events. `rest` holds bytes after the last separator (a stream cut short, or
    a final NDJSON line without its newline)."""

    __slots__ = ("events", "finished_at", "rest", "sent_at", "times")

    def __init__(self, status: int, reason: str, head: bytes, body: bytes, events: list[bytes], times: list[float],
                 sent_at: float, finished_at: float, rest: bytes = b"") -> None:
        super().__init__(status, reason, head, body)
        self.events = events
        self.times = times
        self.sent_at = sent_at
        self.finished_at = finished_at
        self.rest = rest

    def __repr__(self) -> str:
        return f"StreamResponse({self.status} {self.reason}, {len(self.events)} events)"


class Connection:
    """One keep-alive connection, reopened on demand. Not shared between concurrent tasks."""

    def __init__(self, endpoint: Endpoint, *, connect_timeout: float = 10.0) -> None:
        self.endpoint = endpoint
        self.connect_timeout = connect_timeout
        self._inbox: _Inbox | None = None
        self._used = False  # carried a request already: the server may have closed it since
        self._expired = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._deadline: float | None = None  # loop time by which the request in flight must be answered
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._meanwhile: Callable[[], None] | None = None

    async def send(self, request: PreparedRequest, timeout: float, meanwhile: Callable[[], None] | None = None) -> Response:
        """Send and read the whole answer within `timeout` seconds; raises TransportError.

        `meanwhile` runs once, as soon as the request is written, before its answer is awaited
        (or when it cannot be written): work done there costs no latency.

        The timeout costs next to nothing per request (at thousands a second that matters, see
        bench/accuracy.py): each request only sets a deadline, and one timer per connection,
        re-armed when it fires, aborts the connection once a deadline has passed.
        """
        return await self._run(request, timeout, meanwhile, self._exchange)

    async def stream(self, request: PreparedRequest, timeout: float, meanwhile: Callable[[], None] | None = None, *,
                     separator: bytes = b"\n\n", on_event: Callable[[bytes, float], None] | None = None) -> StreamResponse:
        """Send and read a streamed answer within `timeout` seconds (the whole stream, not the
        first byte); raises TransportError. The body is cut into events at `separator` (b"\n\n"
        for server-sent events, b"\n" for NDJSON; CRLF line ends count as LF), each with the time
        its last byte arrived; `on_event(event, time)` sees each one as soon as it is read."""

        async def exchange(request: PreparedRequest) -> StreamResponse:
            return await self._exchange_stream(request, separator, on_event)

        return await self._run(request, timeout, meanwhile, exchange)  # type: ignore[return-value]

    async def _run(self, request: PreparedRequest, timeout: float, meanwhile: Callable[[], None] | None,
                   exchange: Callable[[PreparedRequest], Any]) -> Response:
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        self._expired = False
        deadline = self._deadline = loop.time() + timeout
        if self._timer is None or self._timer_at > deadline:
            self._arm(deadline)
        self._meanwhile = meanwhile
        try:
            if self._inbox is not None:
                reused = self._used
                try:
                    return await exchange(request)
                except _StaleConnection:
                    self.close()
                    if not reused or self._expired:
                        raise TransportError("connection", "the server closed the connection without answering") from None
                # a kept-alive connection the server had already closed: one fresh attempt
            await self._open(min(self.connect_timeout, timeout))
            try:
                return await exchange(request)
            except _StaleConnection:
                self.close()
                raise TransportError("connection", "the server closed the connection without answering") from None
        except TransportError:
            self.close()
            if self._expired:
                raise TransportError("timeout", f"no answer within {timeout:g} s") from None
            raise
        except asyncio.CancelledError:
            self.close()
            raise
        finally:
            self._deadline = None
            self._run_meanwhile()

    def _run_meanwhile(self) -> None:
        meanwhile, self._meanwhile = self._meanwhile, None
        if meanwhile is not None:
            meanwhile()

    def _arm(self, at: float) -> None:
        assert self._loop is not None
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        self._timer = self._loop.call_at(at, self._check_deadline)

    def _check_deadline(self) -> None:
        self._timer = None
        deadline = self._deadline
        if deadline is None:
            return  # nothing in flight: the next request arms the timer again
        if self._loop is not None and self._loop.time() < deadline:
            self._arm(deadline)  # a later request is in flight: wait for its deadline
            return
        self._expired = True
        if self._inbox is not None:
            self._inbox.abort()

    async def _open(self, timeout: float) -> None:
        context = ssl.create_default_context() if self.endpoint.scheme == "https" else None
        try:
            async with asyncio.timeout(timeout):
                loop = asyncio.get_running_loop()
                _, self._inbox = await loop.create_connection(lambda: _Inbox(loop), self.endpoint.host, self.endpoint.port, ssl=context)
        except TimeoutError:
            raise TransportError("connection", f"cannot connect to {self.endpoint.origin}: no answer within {timeout:g} s") from None
        except socket.gaierror as exc:
            raise TransportError("connection", f"cannot resolve host {self.endpoint.host!r}: {exc.strerror or exc}") from None
        except ConnectionRefusedError:
            raise TransportError("connection", f"cannot connect to {self.endpoint.origin}: connection refused — is the service running?") from None
        except ssl.SSLError as exc:
            raise TransportError("connection", f"TLS handshake with {self.endpoint.origin} failed: {exc.reason or exc}") from None
        except OSError as exc:
            raise TransportError("connection", f"cannot connect to {self.endpoint.origin}: {exc.strerror or exc}") from None
        self._used = False

    async def _exchange(self, request: PreparedRequest) -> Response:
        if self._expired:
            raise TransportError("timeout", "timed out")
        reader = self._inbox
        assert reader is not None
        self._used = True
        got_head = False
        try:
            await reader.write(request.wire)
            self._run_meanwhile()
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError as exc:
                if not exc.partial:
                    raise _StaleConnection from None
                raise TransportError("bad_response", "the server closed the connection in the middle of its answer") from None
            got_head = True
            status, reason = _parse_status(head)
            while 100 <= status < 200:  # interim answers (100-continue) come before the real one
                head = await reader.readuntil(b"\r\n\r\n")
                status, reason = _parse_status(head)
            lower = head.lower()
            length_at = lower.find(b"\r\ncontent-length:")
            if length_at >= 0 and status not in (204, 304) and request.method != "HEAD" and b"\r\ntransfer-encoding:" not in lower:
                # the usual answer, read without further ado
                end = lower.find(b"\r\n", length_at + 17)
                try:
                    size = int(lower[length_at + 17 : end if end >= 0 else None])
                except ValueError:
                    size = -1
                if size < 0:
                    raise TransportError("bad_response", "invalid Content-Length in the answer")
                body = await reader.readexactly(_checked_size(size))
            else:
                body = await self._read_body(reader, request, status, lower)
        except (ConnectionResetError, BrokenPipeError):
            if not got_head:
                raise _StaleConnection from None
            raise TransportError("connection", f"the connection to {self.endpoint.origin} was reset") from None
        except asyncio.IncompleteReadError:
            raise TransportError("bad_response", "the server closed the connection in the middle of its answer") from None
        except asyncio.LimitOverrunError:
            raise TransportError("bad_response", "the answer is not valid HTTP (a header line is too long)") from None
        except OSError as exc:
            raise TransportError("connection", f"connection to {self.endpoint.origin} failed: {exc.strerror or exc}") from None
        if b"\r\nconnection: close" in lower:
            self.close()
        return Response(status, reason, head, body)

    async def _exchange_stream(self, request: PreparedRequest, separator: bytes, on_event: Callable[[bytes, float], None] | None) -> StreamResponse:
        if self._expired:
            raise TransportError("timeout", "timed out")
        reader = self._inbox
        assert reader is not None
        self._used = True
        got_head = False
        reader.stamping(True)
        try:
            sent_at = time.perf_counter()
            await reader.write(request.wire)
            self._run_meanwhile()
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError as exc:
                if not exc.partial:
                    raise _StaleConnection from None
                raise TransportError("bad_response", "the server closed the connection in the middle of its answer") from None
            got_head = True
            status, reason = _parse_status(head)
            while 100 <= status < 200:
                head = await reader.readuntil(b"\r\n\r\n")
                status, reason = _parse_status(head)
            lower = head.lower()
            if not 200 <= status < 300:  # an error: read whole, as any answer
                reader.stamping(False)
                body = await self._read_body(reader, request, status, lower)
                response = StreamResponse(status, reason, head, body, [], [], sent_at, time.perf_counter())
            else:
                response = await self._read_events(reader, request, status, reason, head, lower, separator, on_event, sent_at)
        except (ConnectionResetError, BrokenPipeError):
            if not got_head:
                raise _StaleConnection from None
            raise TransportError("connection", f"the connection to {self.endpoint.origin} was reset") from None
        except asyncio.IncompleteReadError:
            raise TransportError("bad_response", "the server closed the connection in the middle of its answer") from None
        except asyncio.LimitOverrunError:
            raise TransportError("bad_response", "the answer is not valid HTTP (a header line is too long)") from None
        except OSError as exc:
            raise TransportError("connection", f"connection to {self.endpoint.origin} failed: {exc.strerror or exc}") from None
        finally:
            if self._inbox is not None:
                self._inbox.stamping(False)
        if b"\r\nconnection: close" in lower:
            self.close()
        return response

    async def _read_events(self, reader: _Inbox, request: PreparedRequest, status: int, reason: str, head: bytes, lower: bytes,
                           separator: bytes, on_event: Callable[[bytes, float], None] | None, sent_at: float) -> StreamResponse:
        events: list[bytes] = []
        times: list[float] = []
        pending = b""
        chunked = b"chunked" in (_header_value(lower, b"transfer-encoding") or b"")
        length_text = None if chunked else _header_value(lower, b"content-length")
        left = -1  # bytes of a Content-Length body still to come; -1: chunked or to the end
        if length_text is not None:
            try:
                left = _checked_size(int(length_text))
            except ValueError:
                raise TransportError("bad_response", f"invalid Content-Length {length_text.decode('latin-1')!r}") from None
        if status in (204, 304) or not request.expects_body:
            return StreamResponse(status, reason, head, b"", events, times, sent_at, time.perf_counter())
        last_t = sent_at
        while True:
            if chunked:
                data = reader.take_chunk()
                if data is None:
                    await reader.more()
                    continue
                if not data:
                    break  # the last chunk
            else:
                data = reader.take_held(left)
                if not data:
                    if left == 0:
                        break
                    try:
                        await reader.more()
                    except asyncio.IncompleteReadError:
                        if left > 0:
                            raise
                        self.close()  # no framing: the stream ran to the end of the connection
                        break
                    continue
                if left > 0:
                    left -= len(data)
            t = reader.arrival()
            last_t = t
            if b"\r" in data:
                data = data.replace(b"\r\n", b"\n")
            if pending:
                data = pending + data
                pending = b""
            if data.endswith(separator) and data.find(separator) == len(data) - len(separator):
                events.append(data)  # the usual case: one whole event per read
                times.append(t)
                if on_event is not None:
                    on_event(data, t)
                continue
            start = 0
            size = len(separator)
            while True:
                at = data.find(separator, start)
                if at < 0:
                    pending = data[start:]
                    break
                event = data[start : at + size]
                start = at + size
                if event.strip():
                    events.append(event)
                    times.append(t)
                    if on_event is not None:
                        on_event(event, t)
            if left == 0:
                break
        return StreamResponse(status, reason, head, b"", events, times, sent_at, last_t, pending)

    async def _read_body(self, reader: _Inbox, request: PreparedRequest, status: int, lower_head: bytes) -> bytes:
        if not request.expects_body or status in (204, 304):
            return b""
        encoding = _header_value(lower_head, b"transfer-encoding")
        if encoding is not None and b"chunked" in encoding:
            return await _read_chunked(reader)
        length = _header_value(lower_head, b"content-length")
        if length is not None:
            try:
                size = int(length)
            except ValueError:
                raise TransportError("bad_response", f"invalid Content-Length {length.decode('latin-1')!r}") from None
            return await reader.readexactly(_checked_size(size))
        body = await reader.read()  # no framing: the body runs to the end of the connection
        self.close()
        return body

    def close(self) -> None:
        if self._inbox is not None:
            self._inbox.close()
        self._inbox = None
        self._used = False
        if self._timer is not None and self._deadline is None:
            self._timer.cancel()  # idle: no timer left behind on a loop that may be closing
            self._timer = None


class _StaleConnection(Exception):
    pass


class _Inbox(asyncio.BufferedProtocol):
    """One connection's transport and the answers it receives, read like an asyncio.StreamReader
    (readuntil, readexactly, read, with the same exceptions) without its copies.

    The buffer is never resized in place (the event loop may still hold a view of it): it is
    compacted by a same-length slice assignment or replaced by a larger one. It keeps the size of
    the largest answer so far, so a run holds about concurrency × that size.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray(_CHUNK)
        self._start = 0  # first byte not yet read
        self._end = 0  # one past the last byte received
        self._want = 0  # bytes a reader waits for, counted from _start: room for them is made at once
        self._eof = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None  # set while the transport's write buffer is full
        # arrival stamps while a stream is read: (bytes received in all, perf_counter) per read
        self._stamps: list[tuple[int, float]] | None = None
        self._received = 0  # bytes received since stamping began
        self._taken = 0  # bytes taken since stamping began

    # --- the event loop's side

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        room = max(self._start + self._want - self._end, _CHUNK)
        if len(self._buffer) - self._end < room:
            self._make_room(room)
        return memoryview(self._buffer)[self._end :]

    def buffer_updated(self, nbytes: int) -> None:
        self._end += nbytes
        stamps = self._stamps
        if stamps is not None:
            self._received += nbytes
            stamps.append((self._received, time.perf_counter()))
        self._wake()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self._error = exc
        self._wake()
        writable, self._writable = self._writable, None
        if writable is not None and not writable.done():
            writable.set_result(None)

    def pause_writing(self) -> None:
        if self._writable is None:
            self._writable = self._loop.create_future()

    def resume_writing(self) -> None:
        writable, self._writable = self._writable, None
        if writable is not None and not writable.done():
            writable.set_result(None)

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _make_room(self, room: int) -> None:
        held = self._end - self._start
        if self._start and held + room <= len(self._buffer):
            self._buffer[:held] = self._buffer[self._start : self._end]
        else:
            bigger = bytearray(held + max(room, _CHUNK))
            with memoryview(self._buffer) as view:
                bigger[:held] = view[self._start : self._end]
            self._buffer = bigger
        self._start, self._end = 0, held

    # --- the connection's side

    async def write(self, data: bytes) -> None:
        if self._error is not None:
            raise self._error
        if self._transport is None or self._transport.is_closing():
            raise ConnectionResetError("the connection is closed")
        self._transport.write(data)
        if self._writable is not None:
            await self._writable
            if self._error is not None:
                raise self._error

    async def _more(self) -> None:
        """Wait for bytes after the ones held; raises when none can come."""
        if self._error is not None:
            raise self._error
        if self._eof:
            raise asyncio.IncompleteReadError(self._take(self._end - self._start), None)
        self._waiter = self._loop.create_future()
        await self._waiter

    def _take(self, size: int) -> bytes:
        with memoryview(self._buffer) as view:
            data = bytes(view[self._start : self._start + size])
        self._start += size
        self._taken += size
        if self._start == self._end:
            self._start = self._end = 0
        return data

    # --- streamed bodies

    def stamping(self, on: bool) -> None:
        """Stamp each read with its arrival time (on), or stop. Bytes already held when stamping
        starts count as arrived then."""
        if not on:
            self._stamps = None
            return
        held = self._end - self._start
        self._received = held
        self._taken = 0
        self._stamps = [(held, time.perf_counter())] if held else []

    def arrival(self) -> float:
        """When the last byte taken so far arrived (stamps older than it are dropped)."""
        stamps = self._stamps
        if not stamps:
            return time.perf_counter()
        taken = self._taken
        i = 0
        while i < len(stamps) - 1 and stamps[i][0] < taken:
            i += 1
        if i:
            del stamps[:i]
        return stamps[0][1]

    async def more(self) -> None:
        await self._more()

    def take_held(self, limit: int = -1) -> bytes:
        """Whatever is held (at most `limit` bytes when limit >= 0), without waiting."""
        size = self._end - self._start
        if limit >= 0:
            size = min(size, limit)
        return self._take(size) if size else b""

    def take_chunk(self) -> bytes | None:
        """The data of the next chunk of a chunked body when it is held whole (b"" for the last
        chunk, its trailers consumed), else None: read more and ask again."""
        buffer, start, end = self._buffer, self._start, self._end
        line_end = buffer.find(b"\r\n", start, end)
        if line_end < 0:
            if end - start > 4096:
                raise TransportError("bad_response", "invalid chunked encoding in the answer")
            return None
        try:
            size = int(buffer[start:line_end].split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise TransportError("bad_response", "invalid chunked encoding in the answer") from None
        data_at = line_end + 2
        if size == 0:
            if end - data_at >= 2 and buffer[data_at : data_at + 2] == b"\r\n":
                self._advance(data_at + 2 - start)
                return b""
            trailers_end = buffer.find(b"\r\n\r\n", data_at - 2, end)
            if trailers_end < 0:
                return None
            self._advance(trailers_end + 4 - start)
            return b""
        _checked_size(size)
        if end - data_at < size + 2:
            self._want = data_at - start + size + 2  # room for the whole chunk is made at once
            return None
        self._want = 0
        with memoryview(buffer) as view:
            data = bytes(view[data_at : data_at + size])
        self._advance(data_at - start + size + 2)
        return data

    def _advance(self, size: int) -> None:
        self._start += size
        self._taken += size
        if self._start == self._end:
            self._start = self._end = 0

    async def readuntil(self, separator: bytes) -> bytes:
        searched = self._start
        while True:
            at = self._buffer.find(separator, searched, self._end)
            if at >= 0:
                return self._take(at + len(separator) - self._start)
            if self._end - self._start > _HEAD_LIMIT:
                raise asyncio.LimitOverrunError("separator not found within the limit", self._end - self._start)
            searched = max(self._start, self._end - len(separator) + 1)
            try:
                await self._more()
            except asyncio.IncompleteReadError as exc:
                raise asyncio.IncompleteReadError(exc.partial, None) from None

    async def readexactly(self, size: int) -> bytes:
        self._want = size
        try:
            while self._end - self._start < size:
                try:
                    await self._more()
                except asyncio.IncompleteReadError as exc:
                    raise asyncio.IncompleteReadError(exc.partial, size) from None
        finally:
            self._want = 0
        return self._take(size)

    async def read(self) -> bytes:
        """Everything until the peer closes the connection."""
        while not self._eof:
            await self._more()
        if self._error is not None:
            raise self._error
        return self._take(self._end - self._start)

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


def _parse_status(head: bytes) -> tuple[int, str]:
    end = head.find(b"\r\n")
    line = head[:end] if end >= 0 else head
    parts = line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
        raise TransportError("bad_response", f"not an HTTP answer: {line[:60].decode('latin-1')!r}")
    try:
        status = int(parts[1])
    except ValueError:
        raise TransportError("bad_response", f"invalid HTTP status line {line[:60].decode('latin-1')!r}") from None
    return status, parts[2].decode("latin-1") if len(parts) > 2 else ""


def _header_value(lower_head: bytes, name: bytes) -> bytes | None:
    at = lower_head.find(b"\r\n" + name + b":")
    if at < 0:
        return None
    start = at + len(name) + 3
    end = lower_head.find(b"\r\n", start)
    return lower_head[start : end if end >= 0 else None].strip()


def _parse_headers(head: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return headers


def _checked_size(size: int) -> int:
    if size > MAX_ANSWER:
        raise TransportError("bad_response", f"the answer says it is {size / (1 << 30):.1f} GiB long (over {MAX_ANSWER >> 30} GiB): not read")
    return size


async def _read_chunked(reader: _Inbox) -> bytes:
    parts: list[bytes] = []
    while True:
        line = await reader.readuntil(b"\r\n")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise TransportError("bad_response", "invalid chunked encoding in the answer") from None
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(_checked_size(size)))
        await reader.readexactly(2)


def multipart_form(fields: list[tuple[str, str]], files: list[tuple[str, str, str, bytes]]) -> tuple[str, bytes]:
    """multipart/form-data: (name, value) fields and (name, filename, content type, data) files."""
    boundary = "spark-tui-" + secrets.token_hex(12)
    out = bytearray()
    for name, value in fields:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value.encode() + b"\r\n"
    for name, filename, content_type, data in files:
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode() + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", bytes(out)
