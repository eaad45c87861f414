"""Loopback servers for the probe tests: real sockets on 127.0.0.1, port 0.

`LoopbackHttp` answers each path with a `Reply` or a misbehaviour (hang, dribble, garbage,
close, redirect loop); routes can change while it runs (a service that starts loading, then
becomes ready). `hung_listener` accepts TCP connections in the kernel and never reads them.
`serving_in_thread` runs a server on a loop of its own for synchronous tests (the CLI).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = b""  # bytes, str, or anything JSON
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    reason: str | None = None  # the status line's reason phrase (default: the standard one)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return json.dumps(self.body).encode(), "application/json"


@dataclass
class Hang:
    """Read the request, never answer."""


@dataclass
class Dribble:
    """Send the headers, then one byte of the body every `every` seconds."""

    every: float = 0.2
    length: int = 1000


@dataclass
class DribbleHead:
    """Send the status line, then a header one byte every `every` seconds; the blank line never comes."""

    every: float = 0.1


@dataclass
class Garbage:
    payload: bytes = b"\x00\x01\x02 this is not HTTP\r\n\r\n"


@dataclass
class Close:
    """Close the connection without a word."""


@dataclass
class RedirectLoop:
    to: str = "/again"


Behaviour = Reply | Hang | Dribble | DribbleHead | Garbage | Close | RedirectLoop
NOT_FOUND = Reply(404, {"detail": "Not Found"})


class LoopbackHttp:
    def __init__(self, routes: dict[str, Behaviour] | None = None, *, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Behaviour] = dict(routes or {})
        self.tls = tls
        self.requests: list[str] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    async def __aenter__(self) -> LoopbackHttp:
        self._server = await asyncio.start_server(self._connected, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2)
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                await self._server.wait_closed()

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            await self._serve(reader, writer)
        except (asyncio.CancelledError, ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError):
            return  # the client hung up or the server is stopping: nothing to answer
        finally:
            self._writers.discard(writer)
            self._tasks.discard(task)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            path = request_line.split(" ")[1] if " " in request_line else "/"
            self.requests.append(path)
            behaviour = self.routes.get(path, NOT_FOUND)
            if isinstance(behaviour, Hang):
                await asyncio.Event().wait()
            elif isinstance(behaviour, Close):
                return
            elif isinstance(behaviour, Garbage):
                writer.write(behaviour.payload)
                await writer.drain()
                return
            elif isinstance(behaviour, RedirectLoop):
                writer.write(f"HTTP/1.1 302 Found\r\nLocation: {behaviour.to}\r\nContent-Length: 0\r\n\r\n".encode())
                await writer.drain()
            elif isinstance(behaviour, DribbleHead):
                writer.write(b"HTTP/1.1 200 OK\r\n")
                while True:
                    writer.write(b"X")
                    await writer.drain()
                    await asyncio.sleep(behaviour.every)
            elif isinstance(behaviour, Dribble):
                writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {behaviour.length}\r\n\r\n".encode())
                for _ in range(behaviour.length):
                    writer.write(b" ")
                    await writer.drain()
                    await asyncio.sleep(behaviour.every)
            else:
                if behaviour.delay:
                    await asyncio.sleep(behaviour.delay)
                body, content_type = behaviour.encoded()
                reason = behaviour.reason if behaviour.reason is not None else (
                    HTTPStatus(behaviour.status).phrase if behaviour.status in HTTPStatus._value2member_map_ else "Status"
                )
                headers = {"Content-Type": content_type, "Content-Length": str(len(body)), **behaviour.headers}
                lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                writer.write(f"HTTP/1.1 {behaviour.status} {reason}\r\n{lines}\r\n".encode() + body)
                await writer.drain()


@contextlib.contextmanager
def hung_listener() -> Iterator[int]:
    """A port whose connections the kernel accepts and nobody ever reads: yields the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.asynccontextmanager
async def tcp_server(answer: bytes | None) -> AsyncIterator[int]:
    """A TCP server that reads a little and answers `answer` (None: closes without a word)."""
    tasks: set[asyncio.Task[None]] = set()

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await reader.read(8)
            if answer is not None:
                writer.write(answer)
                await writer.drain()
                await reader.read(1)  # until the client hangs up
        except (ConnectionError, asyncio.CancelledError):
            return  # the client hung up or the server is stopping: nothing to answer
        finally:
            writer.close()
            tasks.discard(task)

    server = await asyncio.start_server(connected, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2)


@contextlib.contextmanager
def serving_in_thread(routes: dict[str, Behaviour], *, tls: ssl.SSLContext | None = None) -> Iterator[LoopbackHttp]:
    """A LoopbackHttp on its own loop in a thread, for synchronous tests (and for timing a
    client on its loop without the server's work on it)."""
    loop = asyncio.new_event_loop()
    server = LoopbackHttp(routes, tls=tls)
    ready = threading.Event()
    stop: asyncio.Event | None = None

    async def main() -> None:
        nonlocal stop
        stop = asyncio.Event()
        async with server:
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(10), "loopback server did not start"
    try:
        yield server
    finally:
        assert stop is not None
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by itself, made with the openssl CLI."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def server_tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@contextlib.asynccontextmanager
async def resp_server(*, password: str | None = None, loading: bool = False) -> AsyncIterator[int]:
    """A Redis stand-in speaking RESP as redis-server does: commands inline ("PING\\r\\n") or as
    arrays ("*1\\r\\n$4\\r\\nPING\\r\\n"); PING answers +PONG, or -NOAUTH while a password is set
    and not given (AUTH), or -LOADING while the dataset loads (server.c processCommand)."""
    tasks: set[asyncio.Task[None]] = set()

    async def command(reader: asyncio.StreamReader) -> list[str] | None:
        line = (await reader.readline()).rstrip(b"\r\n")
        if not line:
            return None
        if not line.startswith(b"*"):
            return line.decode().split()
        words = []
        for _ in range(int(line[1:])):
            size = int((await reader.readline())[1:])
            words.append((await reader.readexactly(size + 2))[:size].decode())
        return words

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        authenticated = password is None
        try:
            while (words := await command(reader)) is not None:
                name = words[0].upper() if words else ""
                if name == "AUTH":
                    authenticated = words[-1] == password
                    writer.write(b"+OK\r\n" if authenticated else b"-WRONGPASS invalid username-password pair or user is disabled.\r\n")
                elif not authenticated:
                    writer.write(b"-NOAUTH Authentication required.\r\n")
                elif loading:
                    writer.write(b"-LOADING Redis is loading the dataset in memory\r\n")
                elif name == "PING":
                    writer.write(b"+PONG\r\n")
                else:
                    writer.write(f"-ERR unknown command '{words[0] if words else ''}'\r\n".encode())
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError, asyncio.IncompleteReadError, ValueError):
            return
        finally:
            writer.close()
            tasks.discard(task)

    server = await asyncio.start_server(connected, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
