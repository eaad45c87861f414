"""Health checks' GETs over plain http://: one keep-alive connection per probe, on the one HTTP/1.1
core (core/net/http.py; the benchmark's client is the other user).

What is the probes' own: one connection per probe, reused for `keepalive_s` and replaced once when
the server had closed it; the phases a check went through (for "timed out after 2.0 s reading
the headers"); a small body cap; gzip/deflate decoded. The engine keeps httpx for https:// (TLS,
certificates) and for redirects that leave http://.

Nothing here has a timeout of its own: the caller's deadline cancels `get`, which then drops
the connection (its state is unknown). Errors are OSError (connect, reset) or HttpError.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from spark_tui.core.net.http import (
    BodyTooLarge,
    ClosedWithoutAnswer,
    HttpError,
    Inbox,
    NotHttp,
    Progress,
    UndecodableBody,
    connect,
    decode_body,
    encode_request,
    keeps_alive,
    parse_head,
    parse_headers,
    read_body,
    read_head,
)

__all__ = ["BodyTooLarge", "ClosedWithoutAnswer", "HttpError", "LeanHttp", "NotHttp", "Progress", "Request", "Response",
           "UndecodableBody", "build_request", "parse_head"]


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
    return Request(host, port, encode_request("GET", target, host_header, headers.items()))


class LeanHttp:
    """One probe's keep-alive connection. Not for concurrent use: a probe checks one thing at a time."""

    def __init__(self, keepalive_s: float = 4.0, max_body: int = 4 * 1024 * 1024) -> None:
        self.keepalive_s = keepalive_s
        self.max_body = max_body
        self._connection: Inbox | None = None
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
            self._connection.abort()
            self._connection = None

    def _reusable(self, address: tuple[str, int]) -> Inbox | None:
        connection = self._connection
        if connection is None:
            return None
        stale = time.monotonic() - connection.idle_since > self.keepalive_s
        if connection.ended or connection.held or stale or self._address != address:
            self.close()
            return None
        return connection

    async def _connect(self, request: Request, progress: Progress) -> Inbox:
        self.close()
        progress.phase = "connecting"
        connection = await connect(request.host, request.port)
        self.connections_made += 1
        self._connection, self._address = connection, (request.host, request.port)
        return connection

    async def _exchange(self, connection: Inbox, request: Request, progress: Progress) -> Response:
        done = False
        try:
            response, keep = await self._read_answer(connection, request, progress)
            done = True
        finally:
            if not done:  # cancelled by the deadline, or broken: the connection's state is unknown
                connection.abort()
                if self._connection is connection:
                    self._connection = None
        if keep:
            connection.idle_since = time.monotonic()
        else:
            connection.close()
            if self._connection is connection:
                self._connection = None
        return response

    async def _read_answer(self, connection: Inbox, request: Request, progress: Progress) -> tuple[Response, bool]:
        progress.phase = "sending the request"
        await connection.write(request.payload)
        progress.phase = "waiting for an answer"
        head, minor, status, _reason = await read_head(connection, progress)
        headers = parse_headers(head)
        progress.phase, progress.received = "reading the answer", 0
        lower = head.lower()
        body, framed = await read_body(connection, status, lower, limit=self.max_body, progress=progress)
        progress.received = len(body)
        encoding = headers.get("content-encoding", "").strip()
        if encoding and encoding.lower() != "identity":
            body = decode_body(body, encoding)
        keep = framed and keeps_alive(minor, lower) and not connection.ended and not connection.held
        return Response(status, headers, body), keep
