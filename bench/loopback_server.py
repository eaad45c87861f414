"""A lean loopback embedding server for measuring the runner: service time a + b·n ms, at most c in parallel.

Speaks just enough HTTP/1.1 (keep-alive, Content-Length bodies) and the OpenAI /v1/embeddings shape.
Run it in its own process so it never shares the client's event loop or GIL:

    python bench/loopback_server.py --a-ms 5 --b-ms 0.2 --parallel 4   # prints "PORT <n>" then serves
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import msgspec


class _Request(msgspec.Struct):
    input: list[str] | str
    model: str = "loopback"


_decode = msgspec.json.Decoder(_Request).decode


class ServerModel:
    """The "GPU": `parallel` threads, each serving one request at a time for a + b·n ms.

    Threads with time.sleep keep the service time exact to a few tens of microseconds;
    asyncio.sleep would overshoot by up to a millisecond (epoll's resolution).
    """

    def __init__(self, a_ms: float, b_ms: float, parallel: int, dim: int) -> None:
        self.a_s = a_ms / 1000
        self.b_s = b_ms / 1000
        self.slots = ThreadPoolExecutor(max_workers=parallel if parallel > 0 else 512, thread_name_prefix="slot")
        self.vector = b"[" + b",".join(b"0.125" for _ in range(dim)) + b"]"
        self._bodies: dict[int, bytes] = {}

    def body_for(self, n: int) -> bytes:
        body = self._bodies.get(n)
        if body is None:
            items = b",".join(b'{"object":"embedding","index":%d,"embedding":%s}' % (i, self.vector) for i in range(n))
            usage = b'"usage":{"prompt_tokens":%d,"total_tokens":%d}' % (n * 8, n * 8)
            body = b'{"object":"list","model":"loopback","data":[' + items + b"]," + usage + b"}"
            self._bodies[n] = body
        return body

    async def serve(self, n: int) -> bytes:
        service = self.a_s + self.b_s * n
        if service > 0:
            await asyncio.get_running_loop().run_in_executor(self.slots, time.sleep, service)
        return self.body_for(n)


class _Connection(asyncio.Protocol):
    def __init__(self, model: ServerModel) -> None:
        self.model = model
        self.buffer = bytearray()
        self.queue: asyncio.Queue[tuple[bytes, bytes] | None] = asyncio.Queue()
        self.transport: asyncio.Transport | None = None
        self.writer_task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.writer_task = asyncio.get_running_loop().create_task(self._answer_in_order())

    def connection_lost(self, exc: Exception | None) -> None:
        self.queue.put_nowait(None)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end])
            length = 0
            lower = head.lower()
            at = lower.find(b"content-length:")
            if at >= 0:
                line_end = lower.find(b"\r\n", at)
                length = int(lower[at + 15 : line_end if line_end >= 0 else None])
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            self.queue.put_nowait((head, body))

    async def _answer_in_order(self) -> None:
        # HTTP/1.1 answers in request order on one connection; each request's wait starts on arrival.
        while True:
            item = await self.queue.get()
            if item is None or self.transport is None or self.transport.is_closing():
                return
            head, body = item
            if head.startswith(b"GET"):
                payload = b'{"status":"ok"}'
            else:
                try:
                    request = _decode(body)
                    n = 1 if isinstance(request.input, str) else len(request.input)
                except msgspec.DecodeError:
                    self._write(400, b'{"error":"bad json"}')
                    continue
                payload = await self.model.serve(n)
            self._write(200, payload)

    def _write(self, status: int, payload: bytes) -> None:
        assert self.transport is not None
        reason = b"OK" if status == 200 else b"Bad Request"
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % (status, reason, len(payload))
            + payload
        )


async def serve(a_ms: float, b_ms: float, parallel: int, dim: int, port: int = 0) -> None:
    model = ServerModel(a_ms, b_ms, parallel, dim)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Connection(model), "127.0.0.1", port, backlog=1024)
    bound = server.sockets[0].getsockname()[1]
    print(f"PORT {bound}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--a-ms", type=float, default=0.0, help="fixed service time per request (ms)")
    parser.add_argument("--b-ms", type=float, default=0.0, help="service time per item (ms)")
    parser.add_argument("--parallel", type=int, default=0, help="requests served at once (0 = unlimited)")
    parser.add_argument("--dim", type=int, default=16, help="embedding dimension")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.a_ms, args.b_ms, args.parallel, args.dim, args.port))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
