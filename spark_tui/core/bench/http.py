"""The load generator's HTTP/1.1 client: one keep-alive connection per closed-loop worker, on the
one HTTP/1.1 core (core/net/http.py; the probes are its other user).

Why not httpx: measured on loopback, httpx.AsyncClient spends 1.5 ms of CPU per request at
concurrency 1 and 3.6 ms at 16 (pool bookkeeping); aiohttp 0.2 ms; this client ~0.05 ms.
A runner that costs milliseconds per request measures itself, not the server
(bench/accuracy.py keeps that honest). Requests are serialised once (`PreparedRequest`) and
replayed.

What is the benchmark's own: a timeout per request that costs next to nothing (one timer per
connection), `meanwhile` work done while an answer is awaited, a kept-alive connection the
server had closed reopened once, TLS, and streamed answers (`Connection.stream`: SSE for
OpenAI-style and llama.cpp servers, NDJSON for Ollama) split into events as they come, each
stamped with the time its last byte arrived: the core's protocol stamps every read as the event
loop hands it over, so how late the reading task runs afterwards does not move a token's time.
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

from spark_tui.core.net.http import (
    MAX_ANSWER,
    BodyTooLarge,
    ClosedWithoutAnswer,
    CutShort,
    HttpError,
    Inbox,
    connect,
    content_length,
    encode_request,
    header_value,
    keeps_alive,
    parse_headers,
    read_body,
    read_head,
)

__all__ = ["MAX_ANSWER", "Connection", "Endpoint", "PreparedRequest", "Response", "StreamResponse", "TransportError",
           "multipart_form", "prepare"]

USER_AGENT = "spark-tui-bench"
TransportError = HttpError  # no usable HTTP answer: `message` for the user, `error` its class


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
    fields = [("user-agent", USER_AGENT), ("accept", "*/*")]
    if content_type is not None:
        fields.append(("content-type", content_type))
    return PreparedRequest(method, path, encode_request(method, target, endpoint.host_header, [*fields, *headers], body))


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
            self._headers = parse_headers(self._head, strict=False)
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
        self._inbox: Inbox | None = None
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
                        raise ClosedWithoutAnswer() from None
                # a kept-alive connection the server had already closed: one fresh attempt
            await self._open(min(self.connect_timeout, timeout))
            try:
                return await exchange(request)
            except _StaleConnection:
                self.close()
                raise ClosedWithoutAnswer() from None
        except HttpError:
            self.close()
            if self._expired:
                raise HttpError(f"no answer within {timeout:g} s", "timeout") from None
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
        origin = self.endpoint.origin
        context = ssl.create_default_context() if self.endpoint.scheme == "https" else None
        try:
            async with asyncio.timeout(timeout):
                self._inbox = await connect(self.endpoint.host, self.endpoint.port, ssl=context)
        except TimeoutError:
            raise HttpError(f"cannot connect to {origin}: no answer within {timeout:g} s", "connection") from None
        except socket.gaierror as exc:
            raise HttpError(f"cannot resolve host {self.endpoint.host!r}: {exc.strerror or exc}", "connection") from None
        except ConnectionRefusedError:
            raise HttpError(f"cannot connect to {origin}: connection refused — is the service running?", "connection") from None
        except ssl.SSLError as exc:
            raise HttpError(f"TLS handshake with {origin} failed: {exc.reason or exc}", "connection") from None
        except OSError as exc:
            raise HttpError(f"cannot connect to {origin}: {exc.strerror or exc}", "connection") from None
        self._used = False

    async def _exchange(self, request: PreparedRequest) -> Response:
        if self._expired:
            raise HttpError("timed out", "timeout")
        inbox = self._inbox
        assert inbox is not None
        self._used = True
        try:
            await inbox.write(request.wire)
            self._run_meanwhile()
            head, minor, status, reason = await read_head(inbox)
            lower = head.lower()
            body, framed = await read_body(inbox, status, lower, request.expects_body)
        except ClosedWithoutAnswer:
            raise _StaleConnection from None
        except OSError as exc:
            raise self._broken(inbox, exc) from None
        if not framed or not keeps_alive(minor, lower):
            self.close()
        return Response(status, reason, head, body)

    def _broken(self, inbox: Inbox, exc: OSError) -> Exception:
        if isinstance(exc, (ConnectionResetError, BrokenPipeError)):
            if not inbox.answered:
                return _StaleConnection()
            return HttpError(f"the connection to {self.endpoint.origin} was reset", "connection")
        return HttpError(f"connection to {self.endpoint.origin} failed: {exc.strerror or exc}", "connection")

    async def _exchange_stream(self, request: PreparedRequest, separator: bytes, on_event: Callable[[bytes, float], None] | None) -> StreamResponse:
        if self._expired:
            raise HttpError("timed out", "timeout")
        inbox = self._inbox
        assert inbox is not None
        self._used = True
        inbox.stamping(True)
        framed = True
        try:
            sent_at = time.perf_counter()
            await inbox.write(request.wire)
            self._run_meanwhile()
            head, minor, status, reason = await read_head(inbox)
            lower = head.lower()
            if not 200 <= status < 300:  # an error: read whole, as any answer
                inbox.stamping(False)
                body, framed = await read_body(inbox, status, lower, request.expects_body)
                response = StreamResponse(status, reason, head, body, [], [], sent_at, time.perf_counter())
            else:
                response, framed = await self._read_events(inbox, request, status, reason, head, lower, separator, on_event, sent_at)
        except ClosedWithoutAnswer:
            raise _StaleConnection from None
        except OSError as exc:
            raise self._broken(inbox, exc) from None
        finally:
            inbox.stamping(False)
        if not framed or not keeps_alive(minor, lower):
            self.close()
        return response

    async def _read_events(self, inbox: Inbox, request: PreparedRequest, status: int, reason: str, head: bytes, lower: bytes,
                           separator: bytes, on_event: Callable[[bytes, float], None] | None, sent_at: float) -> tuple[StreamResponse, bool]:
        events: list[bytes] = []
        times: list[float] = []
        pending = b""
        chunked = b"chunked" in (header_value(lower, b"transfer-encoding") or b"")
        length_text = None if chunked else header_value(lower, b"content-length")
        left = -1  # bytes of a Content-Length body still to come; -1: chunked or to the end
        if length_text is not None:
            left = content_length(length_text)
            if left > MAX_ANSWER:
                raise BodyTooLarge(status, MAX_ANSWER)
        if status in (204, 304) or not request.expects_body:
            return StreamResponse(status, reason, head, b"", events, times, sent_at, time.perf_counter()), True
        last_t = sent_at
        framed = True
        while True:
            if chunked:
                data = inbox.take_chunk(status, MAX_ANSWER)
                if data is None:
                    await self._more(inbox)
                    continue
                if not data:
                    break  # the last chunk
            else:
                data = inbox.take_held(left)
                if not data:
                    if left == 0:
                        break
                    try:
                        await inbox.more()
                    except asyncio.IncompleteReadError:
                        if left > 0:
                            raise CutShort() from None
                        framed = False  # no framing: the stream ran to the end of the connection
                        break
                    continue
                if left > 0:
                    left -= len(data)
            t = inbox.arrival()
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
        return StreamResponse(status, reason, head, b"", events, times, sent_at, last_t, pending), framed

    @staticmethod
    async def _more(inbox: Inbox) -> None:
        try:
            await inbox.more()
        except asyncio.IncompleteReadError:
            raise CutShort() from None

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
