"""The streaming yardstick: the smallest honest closed-loop client for streamed generation
(stdlib asyncio, raw HTTP/1.1 keep-alive, chunked answers).

Same rules as the runner's cells: one discarded warm-up request per worker, all workers start
together, no new request after the deadline or the request count, requests in flight are waited
for, and tokens/s = tokens finished / (last finish - start). It reads every chunk of every answer
as it comes (asyncio.StreamReader), and takes the time of the first and last event, but parses no
JSON and checks nothing: the tokens of a request are the `max_tokens` it asked for (the loopback
server honours it). Whatever the runner reaches below this, it lost to its own overhead.

    python bench/yardstick_stream.py --port 8000 --tokens 128 --concurrency 8 --duration 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class StreamYardstick:
    requests: int
    tokens: int
    elapsed_s: float
    ttft_s: list[float] = field(default_factory=list)

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.elapsed_s if self.elapsed_s > 0 else 0.0


def request_bytes(host: str, port: int, path: str, body: bytes) -> bytes:
    head = f"POST {path} HTTP/1.1\r\nhost: {host}:{port}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    return head.encode() + body


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, wire: bytes) -> float:
    """One streamed request; returns its TTFT (first chunk)."""
    start = time.perf_counter()
    writer.write(wire)
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(head.split(b"\r\n", 1)[0].decode())
    first = 0.0
    while True:
        size = int((await reader.readuntil(b"\r\n"))[:-2], 16)
        if size == 0:
            await reader.readexactly(2)
            return first - start
        await reader.readexactly(size + 2)
        if not first:
            first = time.perf_counter()


async def closed_loop(host: str, port: int, path: str, bodies: Sequence[bytes], tokens_per_request: int, concurrency: int,
                      duration_s: float | None = None, requests: int | None = None) -> StreamYardstick:
    wires = [request_bytes(host, port, path, body) for body in bodies]
    ready = 0
    go = asyncio.Event()
    state = {"t0": 0.0, "deadline": 0.0, "issued": 0, "done": 0, "last": 0.0}
    ttfts: list[float] = []

    def may_issue() -> bool:
        if requests is not None:
            if state["issued"] >= requests:
                return False
        elif time.perf_counter() >= state["deadline"]:
            return False
        state["issued"] += 1
        return True

    async def worker(index: int) -> None:
        nonlocal ready
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        k = index
        await _exchange(reader, writer, wires[k % len(wires)])  # warm-up, discarded
        ready += 1
        if ready == concurrency:
            state["t0"] = time.perf_counter()
            state["deadline"] = state["t0"] + (duration_s or 0)
            go.set()
        else:
            await go.wait()
        while may_issue():
            k += concurrency
            ttfts.append(await _exchange(reader, writer, wires[k % len(wires)]))
            state["done"] += 1
            state["last"] = time.perf_counter()
        writer.close()

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return StreamYardstick(int(state["done"]), int(state["done"]) * tokens_per_request, state["last"] - state["t0"], ttfts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/v1/completions")
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=5.0)
    args = parser.parse_args()
    body = json.dumps({"model": "loopback", "prompt": "word " * 100, "max_tokens": args.tokens, "stream": True,
                       "stream_options": {"include_usage": True}, "ignore_eos": True}).encode()
    result = asyncio.run(closed_loop(args.host, args.port, args.path, [body], args.tokens, args.concurrency, args.duration))
    print(f"{result.requests} requests, {result.tokens_per_s:.1f} tokens/s, TTFT p50 {statistics.median(result.ttft_s) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
