"""A lean loopback embedding server for measuring the runner: service time a + b·n ms, at most c in parallel.

Speaks just enough HTTP/1.1 (keep-alive, Content-Length bodies) and the OpenAI /v1/embeddings shape.
Answers carry --dim floats per input, written as a Python server writes them (~21 bytes each), and
are built once per batch size. Run it in its own process so it never shares the client's event
loop or GIL:

    python bench/loopback_server.py --a-ms 5 --b-ms 0.2 --parallel 4   # prints "PORT <n>" then serves
    python bench/loopback_server.py --dim 4096 --prebuild 1,8,64         # NV-Embed-sized answers, built first
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import struct
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
        self.vector = vector_json(dim)
        self._bodies: dict[int, bytes] = {}
        self._answers: dict[int, bytes] = {}

    def body_for(self, n: int) -> bytes:
        body = self._bodies.get(n)
        if body is None:
            items = b",".join(b'{"object":"embedding","index":%d,"embedding":%s}' % (i, self.vector) for i in range(n))
            usage = b'"usage":{"prompt_tokens":%d,"total_tokens":%d}' % (n * 8, n * 8)
            body = b'{"object":"list","model":"loopback","data":[' + items + b"]," + usage + b"}"
            self._bodies[n] = body
        return body

    def answer_for(self, n: int) -> bytes:
        """The whole HTTP answer (head and body) for n inputs, built once per n and replayed as is:
        the server's cost per answer stays flat however large the vectors (--prebuild builds them
        before the port is announced, so never inside a measurement)."""
        answer = self._answers.get(n)
        if answer is None:
            body = self.body_for(n)
            answer = self._answers[n] = _head(200, len(body)) + body
        return answer

    async def serve(self, n: int) -> bytes:
        service = self.a_s + self.b_s * n
        if service > 0:
            await asyncio.get_running_loop().run_in_executor(self.slots, time.sleep, service)
        return self.answer_for(n)


def vector_json(dim: int) -> bytes:
    """One embedding as a Python server (vLLM, NIM, FastAPI) writes it: float32 values printed as
    float64 reprs, ~20 characters each (-0.018347166478633881), so a 64 × 4096 answer is ~5.5 MB
    as on the wire, not the 1.5 MB that a vector of 0.125s would make."""
    rng = random.Random(dim)
    values = [rng.gauss(0.0, 1.0) for _ in range(dim)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    as_f32 = (struct.unpack("f", struct.pack("f", v / norm))[0] for v in values)
    return ("[" + ",".join(repr(v) for v in as_f32) + "]").encode()


def _head(status: int, length: int) -> bytes:
    reason = b"OK" if status == 200 else b"Bad Request"
    return b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % (status, reason, length)


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
                self._write(200, b'{"status":"ok"}')
                continue
            try:
                request = _decode(body)
                n = 1 if isinstance(request.input, str) else len(request.input)
            except msgspec.DecodeError:
                self._write(400, b'{"error":"bad json"}')
                continue
            answer = await self.model.serve(n)
            if not self.transport.is_closing():
                self.transport.write(answer)

    def _write(self, status: int, payload: bytes) -> None:
        assert self.transport is not None
        self.transport.write(_head(status, len(payload)) + payload)


async def serve(a_ms: float, b_ms: float, parallel: int, dim: int, port: int = 0, prebuild: tuple[int, ...] = ()) -> None:
    model = ServerModel(a_ms, b_ms, parallel, dim)
    for n in prebuild:
        model.answer_for(n)
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
    parser.add_argument("--dim", "--dims", dest="dim", type=int, default=16, help="embedding dimension (default 16; real servers answer 384-4096)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--prebuild", default="", help="batch sizes whose answers are built before serving, e.g. 1,8,64")
    args = parser.parse_args()
    prebuild = tuple(int(n) for n in args.prebuild.split(",") if n.strip())
    try:
        asyncio.run(serve(args.a_ms, args.b_ms, args.parallel, args.dim, args.port, prebuild))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
