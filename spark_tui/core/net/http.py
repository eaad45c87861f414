"""The one lean HTTP/1.1 client core: the wire, for the probes (core/net/lean_http.py) and the
benchmark (core/bench/http.py), which differ only in what they do with an answer.

Why not httpx: a health check or a benchmark request is a status line, a few headers and a body,
and httpx spends ~0.9 ms of CPU on each (client, pool, h11 and anyio layers; 1.5-3.6 ms under
load); this costs ~0.05 ms. A client that costs milliseconds measures itself, not the server.

Answers are received by a BufferedProtocol (`Inbox`): the kernel writes them straight into one
buffer per connection, grown to fit the largest answer and reused. asyncio.StreamReader copies
every chunk into its buffer, copies the answer out again and pauses and resumes the socket
around its 1 MiB limit: 7 ms of CPU for a 5.6 MB answer (64 texts × 4096 dimensions) against
0.9 ms here. Framing: Content-Length, chunked, read-to-close; 1xx answers skipped.

Nothing here has a timeout: the caller's deadline aborts the connection or cancels the read.
Errors are OSError (connect, reset) or HttpError, whose message is for the user.
"""

from __future__ import annotations

import asyncio
import re
import time
import zlib
from collections.abc import Iterable
from typing import Literal, Protocol

MAX_HEAD_BYTES = 64 * 1024  # a head (status line and headers) longer than this is not HTTP
MAX_ANSWER = 1 << 30  # the largest body read unless the caller says less: a bigger one is refused
_CHUNK = 1 << 16  # free room offered to the kernel for each read
_STATUS_LINE = re.compile(rb"HTTP/1\.([01]) (\d{3})(?: ([^\r\n]*))?")
_NO_BODY = (204, 304)
_TRANSFER_ENCODING = b"\r\ntransfer-encoding:"
_CONNECTION = b"\r\nconnection:"
_NEEDLES = {b"transfer-encoding": _TRANSFER_ENCODING, b"connection": _CONNECTION, b"content-length": b"\r\ncontent-length:"}
Failure = Literal["connection", "timeout", "bad_response"]  # as the benchmark counts failures


# --- errors -------------------------------------------------------------------------------------


class HttpError(Exception):
    """No usable HTTP answer. `message` is for the user; `error` says which kind of failure
    ("connection", "timeout" or "bad_response", as the benchmark counts them)."""

    error: Failure = "bad_response"

    def __init__(self, message: str, error: Failure | None = None) -> None:
        super().__init__(message)
        self.message = message
        if error is not None:
            self.error = error


class ClosedWithoutAnswer(HttpError):
    """The connection ended before a single byte of an answer arrived (on a kept-alive
    connection: the server had closed it, worth one more try on a fresh one)."""

    error: Failure = "connection"

    def __init__(self) -> None:
        super().__init__("the server closed the connection without answering")


class CutShort(HttpError):
    """The server closed the connection in the middle of its answer."""

    def __init__(self, detail: str = "") -> None:
        super().__init__("the server closed the connection in the middle of its answer" + detail)


class NotHttp(HttpError):
    """The bytes that came back are not an HTTP/1.x answer."""

    def __init__(self, why: str) -> None:
        super().__init__("not HTTP: " + why)


class BodyTooLarge(HttpError):
    def __init__(self, status: int, limit: int) -> None:
        words = f"{limit >> 30} GiB" if limit % (1 << 30) == 0 else f"{limit // 1024**2} MiB"
        super().__init__(f"answer too large (over {words})")
        self.status = status


class UndecodableBody(HttpError):
    pass


class Progress(Protocol):
    """Where a caller tracks how far an exchange got (for "timed out after 2.0 s <phase>"):
    "waiting for an answer", "reading the headers" (some arrived, not all), "reading the answer"
    (the body, `received` bytes of it so far). The callers set the phases before these."""

    phase: str
    received: int


# --- the request --------------------------------------------------------------------------------


def encode_request(method: str, target: bytes, host_header: bytes, headers: Iterable[tuple[str, str]], body: bytes = b"") -> bytes:
    """The request's bytes, serialised once and sent as often as needed: the headers as given,
    and a Content-Length where a body is, or is expected."""
    lines = [b"%s %s HTTP/1.1" % (method.encode("ascii"), target or b"/"), b"Host: " + host_header]
    lines += [name.encode("latin-1") + b": " + value.encode("latin-1") for name, value in headers]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(b"content-length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


# --- the connection -----------------------------------------------------------------------------


class Inbox(asyncio.BufferedProtocol):
    """One connection's transport and the answers it receives: heads, chunks and bodies are taken
    from its buffer as they are whole (`take_head`, `take_chunk`, `readexactly`), `more` waits for
    the next read (asyncio.IncompleteReadError at the end, as a StreamReader says it).

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
        self.answered = False  # a byte arrived since the last write
        self.idle_since = 0.0  # monotonic time the last answer was read whole (for keep-alive expiry)
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
        self.answered = True
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

    # --- the reader's side

    @property
    def ended(self) -> bool:
        """The peer closed its side, or the connection is gone."""
        return self._eof

    @property
    def held(self) -> int:
        """Bytes received and not read yet."""
        return self._end - self._start

    async def write(self, data: bytes) -> None:
        self.answered = False
        if self._error is not None:
            raise self._error
        if self._transport is None or self._transport.is_closing():
            raise ConnectionResetError("the connection is closed")
        self._transport.write(data)
        if self._writable is not None:
            await self._writable
            if self._error is not None:
                raise self._error

    async def more(self) -> None:
        """Wait for bytes after the ones held; raises IncompleteReadError (with the bytes held)
        when none can come, or the connection's error."""
        if self._error is not None:
            raise self._error
        if self._eof:
            raise asyncio.IncompleteReadError(self._take(self._end - self._start), None)
        self._waiter = self._loop.create_future()
        await self._waiter

    def _take(self, size: int) -> bytes:
        with memoryview(self._buffer) as view:
            data = bytes(view[self._start : self._start + size])
        self._advance(size)
        return data

    def _advance(self, size: int) -> None:
        self._start += size
        self._taken += size
        if self._start == self._end:
            self._start = self._end = 0

    def take_held(self, limit: int = -1) -> bytes:
        """Whatever is held (at most `limit` bytes when limit >= 0), without waiting."""
        size = self._end - self._start
        if limit >= 0:
            size = min(size, limit)
        return self._take(size) if size else b""

    def take_head(self) -> bytes | None:
        """The head (status line and headers, with the blank line after them) when it is held
        whole, else None. Raises NotHttp when what is held cannot be the start of an answer."""
        buffer, start, end = self._buffer, self._start, self._end
        at = buffer.find(b"\r\n\r\n", start, end)
        if at >= 0:
            return self._take(at + 4 - start)
        if end > start and not b"HTTP/".startswith(buffer[start : min(start + 5, end)]):
            raise NotHttp(no_status_line(buffer[start : start + 60]))
        if end - start > MAX_HEAD_BYTES:
            raise NotHttp(f"headers over {MAX_HEAD_BYTES // 1024} KiB")
        return None

    def take_chunk(self, status: int, limit: int) -> bytes | None:
        """The data of the next chunk of a chunked body when it is held whole (b"" for the last
        chunk, its trailers consumed), else None: read more and ask again. A chunk over `limit`
        bytes is refused before it is read."""
        buffer, start, end = self._buffer, self._start, self._end
        line_end = buffer.find(b"\r\n", start, end)
        if line_end < 0:
            if end - start > 4096:
                raise NotHttp(f"bad chunk size {quoted(buffer[start : start + 60])}")
            return None
        try:
            size = int(buffer[start:line_end].split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise NotHttp(f"bad chunk size {quoted(buffer[start : start + 60])}") from None
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
        if size > limit:
            raise BodyTooLarge(status, limit)
        if end - data_at < size + 2:
            self._want = data_at - start + size + 2  # room for the whole chunk is made at once
            return None
        self._want = 0
        with memoryview(buffer) as view:
            data = bytes(view[data_at : data_at + size])
        self._advance(data_at - start + size + 2)
        return data

    async def readexactly(self, size: int, progress: Progress | None = None) -> bytes:
        if self._end - self._start >= size:  # the usual small answer: it came with its head
            return self._take(size)
        self._want = size
        try:
            while self._end - self._start < size:
                if progress is not None:
                    progress.received = self._end - self._start
                try:
                    await self.more()
                except asyncio.IncompleteReadError as exc:
                    raise asyncio.IncompleteReadError(exc.partial, size) from None
        finally:
            self._want = 0
        return self._take(size)

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

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()
        self._eof = True

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
        self._eof = True


async def connect(host: str, port: int, ssl: object = None) -> Inbox:
    loop = asyncio.get_running_loop()
    _, inbox = await loop.create_connection(lambda: Inbox(loop), host, port, ssl=ssl)  # type: ignore[arg-type]
    return inbox


# --- the answer ---------------------------------------------------------------------------------


async def read_head(inbox: Inbox, progress: Progress | None = None) -> tuple[bytes, bytes, int, str]:
    """(head, minor version, status, reason) of the next final answer: 1xx answers (100-continue,
    Early Hints) are skipped. ClosedWithoutAnswer when the connection ends before any byte."""
    while True:
        while (head := inbox.take_head()) is None:
            if progress is not None and inbox.held:
                progress.phase = "reading the headers"
            try:
                await inbox.more()
            except asyncio.IncompleteReadError as exc:
                if not exc.partial:
                    raise ClosedWithoutAnswer() from None
                raise CutShort("'s headers") from None
        minor, status, reason = parse_status(head)
        if not 100 <= status < 200:
            return head, minor, status, reason


async def read_body(inbox: Inbox, status: int, lower_head: bytes, expects_body: bool = True, limit: int = MAX_ANSWER,
                    progress: Progress | None = None) -> tuple[bytes, bool]:
    """The body after `lower_head` (the head in lower case), and whether it was framed (else it
    ran to the end of the connection)."""
    if not expects_body or status in _NO_BODY:
        return b"", True
    if _TRANSFER_ENCODING in lower_head and b"chunked" in (header_value(lower_head, b"transfer-encoding") or b""):
        parts: list[bytes] = []
        size_so_far = 0
        while True:
            data = inbox.take_chunk(status, limit - size_so_far)
            if data is None:
                try:
                    await inbox.more()
                except asyncio.IncompleteReadError:
                    raise CutShort() from None
                continue
            if not data:
                return b"".join(parts), True
            parts.append(data)
            size_so_far += len(data)
            if progress is not None:
                progress.received = size_so_far
    length = header_value(lower_head, b"content-length")
    if length is not None:
        size = content_length(length)
        if size > limit:
            raise BodyTooLarge(status, limit)
        try:
            return await inbox.readexactly(size, progress), True
        except asyncio.IncompleteReadError as exc:
            raise CutShort(f" (after {len(exc.partial)} of {size} bytes)") from None
    while True:  # no framing: the body runs until the server closes
        if inbox.held > limit:
            raise BodyTooLarge(status, limit)
        if progress is not None:
            progress.received = inbox.held
        try:
            await inbox.more()
        except asyncio.IncompleteReadError as exc:
            if len(exc.partial) > limit:
                raise BodyTooLarge(status, limit) from None
            return exc.partial, False


def keeps_alive(minor: bytes, lower_head: bytes) -> bool:
    """Whether the server keeps the connection open after this answer (framed bodies only)."""
    if _CONNECTION not in lower_head:
        return minor == b"1"
    connection = header_value(lower_head, b"connection")
    if minor == b"1":
        return connection is None or b"close" not in connection
    return connection is not None and b"keep-alive" in connection


def content_length(text: bytes) -> int:
    try:
        size = int(text)
    except ValueError:
        try:
            size = int(text.split(b",", 1)[0])  # "5, 5": a proxy joined repeated headers
        except ValueError:
            size = -1
    if size < 0:
        raise NotHttp(f"bad Content-Length {text.decode('latin-1')!r}")
    return size


def parse_status(head: bytes) -> tuple[bytes, int, str]:
    """(minor version, status, reason) from the status line."""
    end = head.find(b"\r\n")
    line = head[:end] if end >= 0 else head
    match = _STATUS_LINE.fullmatch(line)
    if match is None:
        raise NotHttp(f"bad status line {quoted(line)}" if head.startswith(b"HTTP/") else no_status_line(head))
    reason = match[3]
    return match[1], int(match[2]), reason.decode("latin-1") if reason else ""


def header_value(lower_head: bytes, name: bytes) -> bytes | None:
    """The value of header `name` (lower case) in a head already in lower case: a scan, no parse."""
    at = lower_head.find(_NEEDLES.get(name) or b"\r\n" + name + b":")
    if at < 0:
        return None
    start = at + len(name) + 3
    end = lower_head.find(b"\r\n", start)
    return lower_head[start : end if end >= 0 else None].strip()


def parse_headers(head: bytes, strict: bool = True) -> dict[str, str]:
    """Header names in lower case; repeated headers joined with ", ", folded lines unfolded.
    A line that is not a header is NotHttp when `strict`, else skipped."""
    headers: dict[str, str] = {}
    name = ""
    for line in head.split(b"\r\n")[1:]:
        if not line:
            continue
        if line[:1] in (b" ", b"\t") and name:  # obsolete line folding
            headers[name] += " " + line.strip().decode("latin-1")
            continue
        raw_name, colon, value = line.partition(b":")
        if not colon or not raw_name or raw_name != raw_name.strip():
            if strict:
                raise NotHttp(f"bad header line {quoted(line)}")
            continue
        name = raw_name.decode("latin-1").lower()
        text = value.strip().decode("latin-1")
        headers[name] = f"{headers[name]}, {text}" if name in headers else text
    return headers


def parse_head(head: bytes) -> tuple[bytes, int, dict[str, str]]:
    """(minor version, status, headers) from the status line and header lines."""
    minor, status, _reason = parse_status(head)
    return minor, status, parse_headers(head)


def decode_body(body: bytes, encoding: str) -> bytes:
    """gzip and deflate (the encodings a server may use unasked); anything else is an error."""
    for coding in reversed([c.strip() for c in encoding.lower().split(",") if c.strip()]):
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
