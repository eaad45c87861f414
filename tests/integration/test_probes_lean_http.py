"""The lean HTTP/1.1 path the engine uses for http:// probes, against scripted loopback servers:
keep-alive, framing (length, chunked, read-to-close), encodings, 1xx, stale connections, handing
over to httpx for TLS."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from probe_servers import Dribble, LoopbackHttp, RedirectLoop, Reply, self_signed_cert, server_tls_context

from spark_tui.models.probes import ProbeSpec, ProbeState
from spark_tui.core.net.lean_http import parse_head
from spark_tui.core.services.engine import HttpClients, run_check

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


@contextlib.asynccontextmanager
async def scripted(handler: Handler) -> AsyncIterator[tuple[int, list[bytes]]]:
    """A server whose connections run `handler(reader, writer, connection_number)`; yields the
    port and the request heads it received."""
    heads: list[bytes] = []
    count = 0
    tasks: set[asyncio.Task[None]] = set()

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal count
        count += 1
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await handler(_Recording(reader, heads), writer, count)  # type: ignore[arg-type]
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return  # the client hung up or the server is stopping: nothing to answer
        finally:
            writer.close()
            tasks.discard(task)

    server = await asyncio.start_server(connected, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], heads
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2)


class _Recording:
    def __init__(self, reader: asyncio.StreamReader, heads: list[bytes]) -> None:
        self._reader, self._heads = reader, heads

    async def request(self) -> bytes:
        head = await self._reader.readuntil(b"\r\n\r\n")
        self._heads.append(head)
        return head


def spec(url: str, kind: str = "http-json", **kwargs: object) -> ProbeSpec:
    return ProbeSpec(name="svc", kind=kind, url=url, timeout=kwargs.pop("timeout", 1.0), **kwargs)  # type: ignore[arg-type]


async def checks(probe: ProbeSpec, times: int) -> tuple[list, HttpClients]:
    clients, memory, outcomes = HttpClients(), {}, []
    try:
        for _ in range(times):
            outcomes.append((await run_check(probe, clients, memory, extras_due=False)).outcome)
    finally:
        await clients.aclose()
    return outcomes, clients


def answer(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    lines = "".join(f"{h}\r\n" for h in headers)
    return f"HTTP/1.1 {status}\r\n{lines}\r\n".encode() + body


async def test_one_connection_serves_every_check() -> None:
    async with LoopbackHttp({"/health": Reply(200, {"status": "ok"})}) as server:
        outcomes, clients = await checks(spec(server.url + "/health"), 5)
    assert [o.state for o in outcomes] == [ProbeState.UP] * 5
    assert clients.lean.connections_made == 1
    assert server.requests == ["/health"] * 5


async def test_request_names_the_host_and_sends_url_credentials() -> None:
    async def handler(reader, writer, _n) -> None:
        await reader.request()
        writer.write(answer(b"{}", "Content-Length: 2"))

    async with scripted(handler) as (port, heads):
        outcomes, _ = await checks(spec(f"http://admin:s3cret@127.0.0.1:{port}/v1/health?full=1"), 1)
    assert outcomes[0].state is ProbeState.UP
    head = heads[0].decode()
    assert head.startswith("GET /v1/health?full=1 HTTP/1.1\r\n")
    assert f"\r\nHost: 127.0.0.1:{port}\r\n" in head
    assert "\r\nAuthorization: Basic " + base64.b64encode(b"admin:s3cret").decode() + "\r\n" in head
    assert "User-Agent: spark-tui/" in head


async def test_chunked_answer_with_trailers() -> None:
    body = json.dumps({"status": "ok", "version": "1.2.3"}).encode()

    async def handler(reader, writer, _n) -> None:
        while True:
            await reader.request()
            writer.write(answer(b"", "Transfer-Encoding: chunked"))
            for part in (body[:7], body[7:]):
                writer.write(b"%x;ext=1\r\n%s\r\n" % (len(part), part))
                await writer.drain()
            writer.write(b"0\r\nX-Trailer: yes\r\n\r\n")

    async with scripted(handler) as (port, _heads):
        outcomes, clients = await checks(spec(f"http://127.0.0.1:{port}/"), 3)
    assert [(o.state, o.version) for o in outcomes] == [(ProbeState.UP, "1.2.3")] * 3
    assert clients.lean.connections_made == 1  # the chunked framing left the connection clean


async def test_gzip_answer_is_decoded() -> None:
    packed = gzip.compress(b'{"status": "ok", "version": "9"}')

    async def handler(reader, writer, _n) -> None:
        await reader.request()
        writer.write(answer(packed, "Content-Encoding: gzip", f"Content-Length: {len(packed)}"))

    async with scripted(handler) as (port, _):
        outcomes, _ = await checks(spec(f"http://127.0.0.1:{port}/"), 1)
    assert (outcomes[0].state, outcomes[0].version) == (ProbeState.UP, "9")


async def test_unknown_encoding_is_said_in_words() -> None:
    async def handler(reader, writer, _n) -> None:
        await reader.request()
        writer.write(answer(b"xx", "Content-Encoding: br", "Content-Length: 2"))

    async with scripted(handler) as (port, _):
        outcomes, _ = await checks(spec(f"http://127.0.0.1:{port}/"), 1)
    assert outcomes[0].state is ProbeState.DOWN
    assert outcomes[0].error == "cannot decode the answer (content encoding 'br' is not supported)"


async def test_http10_body_read_until_close_then_a_new_connection() -> None:
    async def handler(reader, writer, _n) -> None:
        await reader.request()
        writer.write(b'HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{"status": "ok"}')
        await writer.drain()
        writer.close()

    async with scripted(handler) as (port, heads):
        outcomes, clients = await checks(spec(f"http://127.0.0.1:{port}/"), 2)
    assert [o.state for o in outcomes] == [ProbeState.UP] * 2
    assert clients.lean.connections_made == 2 and len(heads) == 2


async def test_informational_answers_are_skipped() -> None:
    async def handler(reader, writer, _n) -> None:
        await reader.request()
        writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n")
        writer.write(answer(b'{"status":"ok"}', "Content-Length: 15"))

    async with scripted(handler) as (port, _):
        outcomes, _ = await checks(spec(f"http://127.0.0.1:{port}/"), 1)
    assert outcomes[0].state is ProbeState.UP and outcomes[0].status_code == 200


async def test_a_kept_connection_the_server_dropped_is_replaced_once() -> None:
    # each connection answers one request, then closes on the next without a word (as a
    # server does when its idle timer fires just as the request arrives)
    async def handler(reader, writer, _n) -> None:
        await reader.request()
        writer.write(answer(b'{"status":"ok"}', "Content-Length: 15"))
        await writer.drain()
        await reader.request()

    async with scripted(handler) as (port, heads):
        outcomes, clients = await checks(spec(f"http://127.0.0.1:{port}/"), 3)
    assert [o.state for o in outcomes] == [ProbeState.UP] * 3
    assert clients.lean.connections_made == 3
    assert len(heads) == 5  # two requests fell on closing connections and were sent again


async def test_a_timed_out_answer_drops_its_connection() -> None:
    async with LoopbackHttp({"/": Dribble(every=0.05, length=1000), "/ok": Reply(200, {"status": "ok"})}) as server:
        clients, memory = HttpClients(), {}
        try:
            slow = await run_check(spec(server.url + "/", timeout=0.3), clients, memory, extras_due=False)
            fine = await run_check(spec(server.url + "/ok", timeout=0.3), clients, memory, extras_due=False)
        finally:
            await clients.aclose()
    assert slow.outcome.error is not None and slow.outcome.error.startswith("timed out after 0.3 s reading the answer (")
    assert fine.outcome.state is ProbeState.UP
    assert clients.lean.connections_made == 2  # the half-read answer was not left on a reused connection


async def test_header_that_is_not_http() -> None:
    async def handler(reader, writer, _n) -> None:
        await reader.request()
        writer.write(b"HTTP/1.1 200 OK\r\nthis line has no colon\r\n\r\n")

    async with scripted(handler) as (port, _):
        outcomes, _ = await checks(spec(f"http://127.0.0.1:{port}/", kind="http"), 1)
    assert outcomes[0].error == 'not HTTP: bad header line "this line has no colon"'


async def test_body_cut_short_by_the_server() -> None:
    async def handler(reader, writer, _n) -> None:
        await reader.request()
        writer.write(answer(b'{"sta', "Content-Length: 100"))
        await writer.drain()
        writer.close()

    async with scripted(handler) as (port, _):
        outcomes, _ = await checks(spec(f"http://127.0.0.1:{port}/"), 1)
    assert outcomes[0].error == "the server closed the connection in the middle of its answer (after 5 of 100 bytes)"


def test_parse_head_joins_repeated_headers_and_folds() -> None:
    version, status, headers = parse_head(b"HTTP/1.1 404 Not Found\r\nVary: a\r\nvary: b\r\nX-Long: one\r\n two")
    assert (version, status) == (b"1", 404)
    assert headers == {"vary": "a, b", "x-long": "one two"}


@pytest.fixture(scope="module")
def cert_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


async def test_redirect_to_https_is_followed_by_httpx(cert_files: tuple[Path, Path]) -> None:
    async with LoopbackHttp({"/health": Reply(200, {"status": "ok", "version": "tls"})}, tls=server_tls_context(*cert_files)) as secure:
        async with LoopbackHttp({"/": RedirectLoop(secure.url + "/health")}) as plain:
            outcomes, _ = await checks(spec(plain.url + "/", verify_tls=False), 1)
    assert (outcomes[0].state, outcomes[0].version) == (ProbeState.UP, "tls")
    assert secure.requests == ["/health"]
