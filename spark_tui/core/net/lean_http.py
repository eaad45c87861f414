"""A lean HTTP/1.1 GET over plain http:// for health checks: one keep-alive connection per probe.

Why not httpx here: a health check is a GET, a status line, a few headers and a small body, and
httpx spends ~0.9 ms of CPU on each one in its client, pool, h11 and anyio layers — most of a
5% budget for 50 probes a second. This speaks just enough HTTP/1.1 over an asyncio Protocol
(Content-Length, chunked, read-to-close, 1xx skipped, gzip/deflate) at a fraction of that.
The engine keeps httpx for https:// (TLS, certificates) and for redirects that leave http://.

Nothing here has a timeout of its own: the caller's deadline cancels `get`, which then drops
the connection (its state is unknown). Errors are OSError (connect, reset) or HttpError.
"""

from __future__ import annotations

import asyncio
import re
import time
import zlib
from dataclasses import dataclass
from typing import Protocol

MAX_HEAD_BYTES = 64 * 1024
_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) (\d{3})(?: [^\r\n]*)?")
_NO_BODY = (204, 304)


class HttpError(Exception):
    """The peer did not speak HTTP/1.1 as expected; the message says how."""


class ClosedWithoutAnswer(HttpError):
    """The connection closed before a single byte of an answer arrived."""

    def __init__(self) -> None:
        super().__init__("connection closed without a response")


class NotHttp(HttpError):
    """The bytes that came back are not an HTTP/1.x answer."""


class BodyTooLarge(HttpError):
    def __init__(self, status: int, limit: int) -> None:
        super().__init__(f"answer too large (over {limit // 1024**2} MiB)")
        self.status = status


class UndecodableBody(HttpError):
    pass


class Progress(Protocol):
    """Where the caller tracks how far a check got (for "timed out after 2.0 s <phase>"):
    "connecting", "sending the request", "waiting for an answer", "reading the headers" (some
    arrived, not all), "reading the answer" (the body)."""

    phase: str
    received: int


@dataclass(frozen=True)
class Request:
    """A GET, encoded once per URL and reused for every check."""

    host: str  # to connect to (IPv6 without brackets)
    port: int
    payload: bytes  # the whole request: line and headers


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # names in lower case; repeated headers joined with ", "
    body: bytes


def build_request(host: str, port: int, host_header: bytes, target: bytes, headers: dict[str, str]) -> Request:
    lines = [b"GET " + (target or b"/") + b" HTTP/1.1", b"Host: " + host_header]
    lines += [f"{name}: {value}".encode("latin-1") for name, value in headers.items()]
    return Request(host, port, b"\r\n".join(lines) + b"\r\n\r\n")


class _Connection(asyncio.Protocol):
    """Bytes in, one waiter woken on every arrival, end of stream or loss."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.ended = False  # the peer closed its side, or the connection is gone
        self.error: BaseException | None = None
        self.idle_since = 0.0
        self.answered = False  # a byte arrived since the last request was sent
        self._waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self.answered = True
        self._wake()

    def eof_received(self) -> bool:
        self.ended = True
        self._wake()
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        self.error = exc
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def more(self) -> None:
        """Wait for more bytes or the end; raise when the connection broke."""
        if self.ended:
            if self.error is not None:
                raise self.error
            return
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()
        self.ended = True


class LeanHttp:
    """One probe's keep-alive connection. Not for concurrent use: a probe checks one thing at a time."""

    def __init__(self, keepalive_s: float = 4.0, max_body: int = 4 * 1024 * 1024) -> None:
        self.keepalive_s = keepalive_s
        self.max_body = max_body
        self._connection: _Connection | None = None
        self._address: tuple[str, int] | None = None
        self.connections_made = 0

    async def get(self, request: Request, progress: Progress) -> Response:
        """Send `request` and read the whole answer. A kept-alive connection that turns out to
        be closed by the server (before any byte of an answer) is replaced once."""
        connection = self._reusable((request.host, request.port))
        if connection is not None:
            try:
                return await self._exchange(connection, request, progress)
            except (ClosedWithoutAnswer, ConnectionResetError, BrokenPipeError):
                if connection.answered:  # the server did start answering: that is its answer
                    raise
        connection = await self._connect(request, progress)
        return await self._exchange(connection, request, progress)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _reusable(self, address: tuple[str, int]) -> _Connection | None:
        connection = self._connection
        if connection is None:
            return None
        stale = time.monotonic() - connection.idle_since > self.keepalive_s
        if connection.ended or connection.buffer or stale or self._address != address:
            self.close()
            return None
        return connection

    async def _connect(self, request: Request, progress: Progress) -> _Connection:
        self.close()
        progress.phase = "connecting"
        loop = asyncio.get_running_loop()
        _, connection = await loop.create_connection(_Connection, request.host, request.port)
        self.connections_made += 1
        self._connection, self._address = connection, (request.host, request.port)
        return connection

    async def _exchange(self, connection: _Connection, request: Request, progress: Progress) -> Response:
        done = False
        try:
            response, keep = await self._read_answer(connection, request, progress)
            done = True
        finally:
            if not done:  # cancelled by the deadline, or broken: the connection's state is unknown
                connection.close()
                if self._connection is connection:
                    self._connection = None
        if keep:
            connection.idle_since = time.monotonic()
        else:
            connection.close()
            if self._connection is connection:
                self._connection = None
        return response

    async def _read_answer(self, connection: _Connection, request: Request, progress: Progress) -> tuple[Response, bool]:
        assert connection.transport is not None
        progress.phase = "sending the request"
        connection.answered = False
        connection.transport.write(request.payload)
        progress.phase = "waiting for an answer"
        buffer = connection.buffer
        while True:  # 1xx answers (Early Hints…) come before the real one
            head = await self._head(connection, progress)
            version, status, headers = parse_head(head)
            if not 100 <= status < 200:
                break
        progress.phase, progress.received = "reading the answer", 0
        length = headers.get("content-length")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        keep = version == b"1" and "close" not in headers.get("connection", "").lower()
        if status in _NO_BODY:
            body = b""
        elif chunked:
            body = await self._chunked(connection, status, progress)
        elif length is not None:
            try:
                size = int(length.split(",")[0].strip())
            except ValueError:
                raise NotHttp(f"bad Content-Length {length!r}") from None
            if size > self.max_body:
                raise BodyTooLarge(status, self.max_body)
            while len(buffer) < size:
                if connection.ended:
                    raise HttpError(f"connection closed after {len(buffer)} of {size} bytes")
                await connection.more()
                progress.received = len(buffer)
            body = bytes(buffer[:size])
            del buffer[:size]
        else:  # no framing: the body runs until the server closes
            keep = False
            while not connection.ended:
                await connection.more()
                progress.received = len(buffer)
                if len(buffer) > self.max_body:
                    raise BodyTooLarge(status, self.max_body)
            body = bytes(buffer)
            buffer.clear()
        progress.received = len(body)
        encoding = headers.get("content-encoding", "").strip().lower()
        if encoding and encoding != "identity":
            body = decode_body(body, encoding)
        return Response(status, headers, body), keep and not connection.ended and not buffer

    async def _head(self, connection: _Connection, progress: Progress) -> bytes:
        buffer = connection.buffer
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end >= 0:
                head = bytes(buffer[:end])
                del buffer[: end + 4]
                return head
            if not b"HTTP/".startswith(bytes(buffer[:5])):
                raise NotHttp(no_status_line(buffer))
            if len(buffer) > MAX_HEAD_BYTES:
                raise NotHttp(f"headers over {MAX_HEAD_BYTES // 1024} KiB")
            if connection.ended:
                if not buffer:
                    raise ClosedWithoutAnswer()
                raise HttpError("connection closed in the middle of the answer's headers")
            if buffer:
                progress.phase = "reading the headers"
            await connection.more()

    async def _chunked(self, connection: _Connection, status: int, progress: Progress) -> bytes:
        buffer = connection.buffer
        parts: list[bytes] = []
        size_so_far = 0
        while True:
            line_end = buffer.find(b"\r\n")
            if line_end < 0:
                await self._more_or_fail(connection)
                continue
            try:
                size = int(bytes(buffer[:line_end]).split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise NotHttp(f"bad chunk size {quoted(buffer)}") from None
            if size == 0:
                while (end := _blank_line_end(buffer, line_end)) < 0:
                    await self._more_or_fail(connection)
                del buffer[: end + 2]
                return b"".join(parts)
            if size_so_far + size > self.max_body:
                raise BodyTooLarge(status, self.max_body)
            while len(buffer) < line_end + 2 + size + 2:
                await self._more_or_fail(connection)
            start = line_end + 2
            parts.append(bytes(buffer[start : start + size]))
            del buffer[: start + size + 2]
            size_so_far += size
            progress.received = size_so_far

    async def _more_or_fail(self, connection: _Connection) -> None:
        if connection.ended:
            raise HttpError("connection closed in the middle of a chunked answer")
        await connection.more()


def _blank_line_end(buffer: bytearray, last_chunk_line_end: int) -> int:
    """Where the empty line ending the trailers starts, or -1 while it has not arrived."""
    position = last_chunk_line_end + 2
    while True:
        end = buffer.find(b"\r\n", position)
        if end < 0:
            return -1
        if end == position:
            return end
        position = end + 2


def parse_head(head: bytes) -> tuple[bytes, int, dict[str, str]]:
    """(minor version, status, headers) from the status line and header lines."""
    lines = head.split(b"\r\n")
    match = _STATUS_LINE.fullmatch(lines[0])
    if match is None:
        raise NotHttp(f"bad status line {quoted(lines[0])}" if head.startswith(b"HTTP/") else no_status_line(head))
    headers: dict[str, str] = {}
    name = ""
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t") and name:  # obsolete line folding
            headers[name] += " " + line.strip().decode("latin-1")
            continue
        raw_name, colon, value = line.partition(b":")
        if not colon or not raw_name or raw_name != raw_name.strip():
            raise NotHttp(f"bad header line {quoted(line)}")
        name = raw_name.decode("latin-1").lower()
        text = value.strip().decode("latin-1")
        headers[name] = f"{headers[name]}, {text}" if name in headers else text
    return match[1], int(match[2]), headers


def decode_body(body: bytes, encoding: str) -> bytes:
    """gzip and deflate (the encodings a server may use unasked); anything else is an error."""
    for coding in reversed([c.strip() for c in encoding.split(",") if c.strip()]):
        try:
            if coding in ("gzip", "x-gzip"):
                body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
            elif coding == "deflate":
                try:
                    body = zlib.decompress(body)
                except zlib.error:
                    body = zlib.decompress(body, -zlib.MAX_WBITS)  # raw deflate, as some servers send
            elif coding != "identity":
                raise UndecodableBody(f"content encoding {coding!r} is not supported")
        except zlib.error as exc:
            raise UndecodableBody(f"{coding}: {exc}") from None
    return body


def no_status_line(data: bytes | bytearray) -> str:
    """Why an answer that does not start with "HTTP/" is not one, in words."""
    words = "the answer does not start with an HTTP status line"
    if data[:1] in (b"\x15", b"\x16") and data[1:2] == b"\x03":  # a TLS alert or handshake record
        return f"{words} (looks like TLS: is the URL https?)"
    return f"{words} (it starts with {quoted(data)})"


def quoted(data: bytes | bytearray) -> str:
    """The first line of `data` for an error message: in quotes when it is text, else "binary data"."""
    line = bytes(data[:60]).split(b"\r\n", 1)[0]
    if not line:
        return "an empty line"
    if not all(32 <= byte < 127 or byte == 9 for byte in line):
        return "binary data"
    return '"' + line.decode("ascii") + ("…" if len(line) == 60 else "") + '"'
