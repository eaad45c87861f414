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
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
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
                    return await self._exchange(request)
                except _StaleConnection:
                    self.close()
                    if not reused or self._expired:
                        raise TransportError("connection", "the server closed the connection without answering") from None
                # a kept-alive connection the server had already closed: one fresh attempt
            await self._open(min(self.connect_timeout, timeout))
            try:
                return await self._exchange(request)
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
        if self._start == self._end:
            self._start = self._end = 0
        return data

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
