"""The lean HTTP client against raw loopback servers: framing, keep-alive, stale connections, timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from spark_tui.bench.http import Connection, Endpoint, TransportError, prepare

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def serve(handler: Handler) -> tuple[asyncio.Server, Endpoint]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, Endpoint.parse(f"http://127.0.0.1:{port}/base")


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head + await reader.readexactly(length)


async def test_chunked_content_length_and_eof_framed_answers() -> None:
    answers = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Compute-Time: 7\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nTrailer: x\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
        b"HTTP/1.0 200 OK\r\n\r\nuntil the end",
    ]
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for answer in answers:
            seen.append(await read_request(reader))
            writer.write(answer)
            await writer.drain()
        writer.close()

    server, endpoint = await serve(handler)
    async with server:
        conn = Connection(endpoint)
        request = prepare(endpoint, "POST", "/v1/x", b'{"a":1}', "application/json", (("Authorization", "Bearer t"),))
        first = await conn.send(request, 5)
        assert (first.status, first.body, first.headers["x-compute-time"]) == (200, b"hello", "7")
        assert (await conn.send(request, 5)).body == b"abcdefg"
        third = await conn.send(request, 5)
        assert (third.status, third.body) == (201, b"ok")
        assert (await conn.send(request, 5)).body == b"until the end"
        conn.close()
    assert seen[0].startswith(b"POST /base/v1/x HTTP/1.1\r\nhost: 127.0.0.1:")
    assert b"\r\nAuthorization: Bearer t\r\n" in seen[0]
    assert seen[0].endswith(b'\r\n\r\n{"a":1}')


async def test_a_kept_alive_connection_the_server_closed_is_reopened_once() -> None:
    connections = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()  # no keep-alive, without saying so

    server, endpoint = await serve(handler)
    async with server:
        conn = Connection(endpoint)
        request = prepare(endpoint, "GET", "/")
        for _ in range(3):
            assert (await conn.send(request, 5)).body == b"ok"
        conn.close()
    assert connections == 3


async def test_timeouts_refusals_and_garbage_are_classified() -> None:
    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    server, endpoint = await serve(hang)
    async with server:
        conn = Connection(endpoint)
        with pytest.raises(TransportError) as timeout:
            await conn.send(prepare(endpoint, "GET", "/"), 0.2)
        assert (timeout.value.error, timeout.value.message) == ("timeout", "no answer within 0.2 s")
        server.close()

    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        await writer.drain()

    server, endpoint = await serve(garbage)
    async with server:
        with pytest.raises(TransportError) as bad:
            await Connection(endpoint).send(prepare(endpoint, "GET", "/"), 2)
        assert bad.value.error == "bad_response" and "not an HTTP answer" in bad.value.message

    refused = Endpoint.parse("http://127.0.0.1:9")
    with pytest.raises(TransportError) as exc:
        await Connection(refused).send(prepare(refused, "GET", "/"), 2)
    assert exc.value.error == "connection" and "connection refused" in exc.value.message


def test_endpoint_parsing() -> None:
    assert Endpoint.parse("127.0.0.1:8080").url("/embed") == "http://127.0.0.1:8080/embed"
    assert Endpoint.parse("https://host/prefix/").url("/v1") == "https://host/prefix/v1"
    for bad, why in [("ftp://h", "only http"), ("http://", "no host"), ("http://h:99999", "invalid URL"), ("http://h/?q=1", r"without \?query")]:
        with pytest.raises(ValueError, match=why):
            Endpoint.parse(bad)
