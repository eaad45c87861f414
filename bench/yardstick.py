"""The yardstick: the smallest honest closed-loop HTTP client (stdlib asyncio, raw HTTP/1.1 keep-alive).

Same rules as the runner's cells: one discarded warm-up request per worker, all workers start
together, no new request after the deadline, requests in flight are waited for, and
throughput = items finished / (last finish − start). It reads every answer whole, as the runner
does (asyncio.StreamReader, the same 1 MiB buffer limit), but never parses or checks it: no
validation, no records, no events. Whatever the runner reaches below this, it lost to its own
overhead.

    python bench/yardstick.py --port 8000 --batch 8 --concurrency 4 --duration 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass


READ_LIMIT = 1 << 20  # as spark_tui/core/bench/http.py


@dataclass(frozen=True)
class YardstickResult:
    requests: int
    items: int
    elapsed_s: float
    answer_bytes: int = 0  # the last answer's body, for the record

    @property
    def items_per_s(self) -> float:
        return self.items / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s > 0 else 0.0


def request_bytes(host: str, port: int, path: str, body: bytes) -> bytes:
    head = f"POST {path} HTTP/1.1\r\nhost: {host}:{port}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    return head.encode() + body


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, wire: bytes) -> int:
    writer.write(wire)
    head = await reader.readuntil(b"\r\n\r\n")
    at = head.lower().find(b"content-length:")
    length = int(head[at + 15 : head.find(b"\r\n", at)])
    await reader.readexactly(length)
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(head.split(b"\r\n", 1)[0].decode())
    return length


async def closed_loop(host: str, port: int, path: str, bodies: Sequence[bytes], items_per_request: int,
                      concurrency: int, duration_s: float) -> YardstickResult:
    wires = [request_bytes(host, port, path, body) for body in bodies]
    ready = 0
    go = asyncio.Event()
    state = {"t0": 0.0, "deadline": 0.0, "done": 0, "last": 0.0, "length": 0}

    async def worker(index: int) -> None:
        nonlocal ready
        reader, writer = await asyncio.open_connection(host, port, limit=READ_LIMIT)
        k = index
        state["length"] = await _exchange(reader, writer, wires[k % len(wires)])  # warm-up, discarded
        ready += 1
        if ready == concurrency:
            state["t0"] = time.perf_counter()
            state["deadline"] = state["t0"] + duration_s
            go.set()
        else:
            await go.wait()
        while time.perf_counter() < state["deadline"]:
            k += concurrency
            await _exchange(reader, writer, wires[k % len(wires)])
            state["done"] += 1
            state["last"] = time.perf_counter()
        writer.close()

    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return YardstickResult(state["done"], state["done"] * items_per_request, state["last"] - state["t0"], int(state["length"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/v1/embeddings")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=5.0)
    args = parser.parse_args()
    texts = [f"text {i} " + "word " * 50 for i in range(args.batch)]
    body = json.dumps({"model": "loopback", "input": texts}).encode()
    result = asyncio.run(closed_loop(args.host, args.port, args.path, [body], args.batch, args.concurrency, args.duration))
    print(f"{result.requests} requests, {result.items_per_s:.1f} items/s, {result.requests_per_s:.1f} requests/s, "
          f"{result.answer_bytes / 1e6:.2f} MB per answer")


if __name__ == "__main__":
    main()
