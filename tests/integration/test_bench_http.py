"""The lean HTTP client against raw loopback servers: framing, keep-alive, stale connections, timeouts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from spark_tui.core.bench.http import Connection, Endpoint, TransportError, prepare

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
    assert seen[0].startswith(b"POST /base/v1/x HTTP/1.1\r\nHost: 127.0.0.1:")
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
        assert (bad.value.error, bad.value.message) == ("bad_response", 'not HTTP: the answer does not start with an HTTP status line (it starts with "SSH-2.0-OpenSSH")')

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


async def test_large_requests_and_answers_cross_many_reads_and_writes_intact() -> None:
    """Bodies of megabytes both ways (the writer waits for a full send buffer; the answer lands in
    one buffer over many reads), then a small answer on the same connection."""
    answer = bytes(range(256)) * (6 * 4096)  # 6 MiB, every byte position distinct mod 256
    upload = b"u" * (8 << 20)
    received: list[int] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await read_request(reader)
        received.append(len(request))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(answer))
        for at in range(0, len(answer), 100_000):  # dribbled, so reads end at odd places
            writer.write(answer[at : at + 100_000])
            await writer.drain()
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()

    server, endpoint = await serve(handler)
    async with server:
        conn = Connection(endpoint)
        big = await conn.send(prepare(endpoint, "POST", "/up", upload, "application/octet-stream"), 20)
        small = await conn.send(prepare(endpoint, "GET", "/"), 5)
        conn.close()
    assert big.body == answer and small.body == b"ok"
    assert received[0] > len(upload)


async def test_cut_answers_absurd_lengths_and_endless_heads_are_bad_responses() -> None:
    async def answer_with(data: bytes, close: bool):
        async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await read_request(reader)
            writer.write(data)
            await writer.drain()
            if close:
                writer.close()
            else:
                await asyncio.sleep(5)
        return await serve(handler)

    cases = [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part", True, "in the middle of its answer (after 9 of 100 bytes)"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", False, "answer too large (over 1 GiB)"),
        (b"HTTP/1.1 200 OK\r\nX-Filler: " + b"x" * (2 << 20), False, "not HTTP: headers over 64 KiB"),
    ]
    for data, close, why in cases:
        server, endpoint = await answer_with(data, close)
        async with server:
            conn = Connection(endpoint)
            with pytest.raises(TransportError) as exc:
                await conn.send(prepare(endpoint, "GET", "/"), 5)
            conn.close()
        assert exc.value.error == "bad_response" and why in exc.value.message, exc.value.message


async def test_meanwhile_runs_once_while_the_answer_is_awaited_even_when_sending_fails() -> None:
    calls: list[str] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        for _ in range(200):  # the answer waits until the client did its work meanwhile
            if calls:
                break
            await asyncio.sleep(0.01)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(calls), b"x" * len(calls)))
        await writer.drain()

    server, endpoint = await serve(handler)
    async with server:
        conn = Connection(endpoint)
        answer = await conn.send(prepare(endpoint, "GET", "/"), 5, meanwhile=lambda: calls.append("checked"))
        conn.close()
    assert answer.body == b"x" and calls == ["checked"]

    refused = Endpoint.parse("http://127.0.0.1:9")
    with pytest.raises(TransportError):
        await Connection(refused).send(prepare(refused, "GET", "/"), 2, meanwhile=lambda: calls.append("settled anyway"))
    assert calls == ["checked", "settled anyway"]
