"""Connection.stream: streamed answers cut into events as they arrive, each stamped with its
arrival time, through chunked encoding, Content-Length and to-EOF framing."""

from __future__ import annotations

import asyncio
import time

from spark_tui.core.bench.http import Connection, Endpoint, TransportError, prepare


async def serve(handler):  # type: ignore[no-untyped-def]
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, Endpoint.parse(f"http://127.0.0.1:{port}")


async def read_request(reader: asyncio.StreamReader) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await reader.readexactly(length)


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


async def test_events_are_stamped_as_they_arrive_even_split_across_reads_and_chunks() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(2):  # two requests on one kept-alive connection
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
            writer.write(chunk(b'data: {"n":1}\n\n'))
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(chunk(b'data: {"n":2}\r\n\r\ndata: {"n":'))  # CRLF ends, an event cut between two chunks
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(chunk(b"3}\n\n")[:3])  # the chunk's own framing split across reads
            await writer.drain()
            await asyncio.sleep(0.02)
            writer.write(chunk(b"3}\n\n")[3:] + chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
            await writer.drain()
        writer.close()

    server, endpoint = await serve(handler)
    seen: list[tuple[bytes, float]] = []
    async with server:
        conn = Connection(endpoint)
        request = prepare(endpoint, "POST", "/v1/completions", b"{}", "application/json")
        for _ in range(2):
            seen.clear()
            response = await conn.stream(request, 5.0, on_event=lambda e, t: seen.append((e, t)))
            assert response.status == 200
            assert response.events == [b'data: {"n":1}\n\n', b'data: {"n":2}\n\n', b'data: {"n":3}\n\n', b"data: [DONE]\n\n"]
            assert [e for e, _ in seen] == response.events
            t = [x - response.sent_at for x in response.times]
            assert 0 <= t[0] < 0.04 and 0.04 <= t[1] < 0.09 and t[2] >= 0.1 and t[2] == t[3]
            assert response.finished_at == response.times[-1]
        conn.close()


async def test_content_length_eof_and_ndjson_without_a_last_newline() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        body = b'{"a":1}\n{"b":2}\n{"done":true}'
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body) + body)
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\n\r\n" + b'{"c":3}\n')
        await writer.drain()
        writer.close()

    server, endpoint = await serve(handler)
    async with server:
        conn = Connection(endpoint)
        request = prepare(endpoint, "POST", "/api/chat", b"{}", "application/json")
        first = await conn.stream(request, 5.0, separator=b"\n")
        assert first.events == [b'{"a":1}\n', b'{"b":2}\n'] and first.rest == b'{"done":true}'
        second = await conn.stream(request, 5.0, separator=b"\n")
        assert second.events == [b'{"c":3}\n']
        conn.close()


async def test_errors_are_read_whole_and_a_cut_stream_is_a_bad_response() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        body = b'{"error":{"message":"max_tokens is too large"}}'
        writer.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: %d\r\n\r\n" % len(body) + body)
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + chunk(b"data: {}\n\n"))
        await writer.drain()
        writer.close()

    server, endpoint = await serve(handler)
    async with server:
        conn = Connection(endpoint)
        request = prepare(endpoint, "POST", "/v1/completions", b"{}", "application/json")
        refused = await conn.stream(request, 5.0)
        assert refused.status == 400 and b"too large" in refused.body and refused.events == []
        try:
            await conn.stream(request, 5.0)
        except TransportError as exc:
            assert exc.error == "bad_response" and "middle of its answer" in exc.message
        else:
            raise AssertionError("a stream cut short must fail")
        conn.close()


async def test_the_timeout_covers_the_whole_stream() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + chunk(b"data: {}\n\n"))
        await writer.drain()
        try:
            await reader.read()  # until the client gives up and closes
        finally:
            writer.close()

    server, endpoint = await serve(handler)
    async with server:
        conn = Connection(endpoint)
        started = time.perf_counter()
        try:
            await conn.stream(prepare(endpoint, "POST", "/x", b"{}"), 0.3)
        except TransportError as exc:
            assert exc.error == "timeout"
        else:
            raise AssertionError("expected a timeout")
        assert time.perf_counter() - started < 2
        conn.close()
