"""Does checking large answers make the runner the bottleneck? Realistic vectors, an instant server.

NV-Embed-v2 answers 4096 floats per text; at batch 64 an OpenAI-shaped answer is ~5.8 MB of JSON
(float32 values printed as Python floats, as vLLM does). Every answer is checked (one vector per
text, all the same length; see VectorCheck for which lengths are counted), and that check must
cost far less than reading the answer.

1. check: CPU per answer of each adapter's `check` on prebuilt answers of each API shape;
2. runner vs yardstick: a loopback server (its own process) answers a prebuilt body at once;
   the runner's items/s and CPU per request beside bench/yardstick.py's against the same server.

    python bench/big_answers.py               # 64×4096 and 32×1024, ~1 minute
    python bench/big_answers.py --only check  # the per-answer cost alone
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from loopback_server import ServerModel, _Connection  # noqa: E402
from yardstick import closed_loop  # noqa: E402

from spark_tui.core.bench.adapters import make_adapter  # noqa: E402
from spark_tui.core.bench.adapters_base import AdapterOptions, PayloadSettings  # noqa: E402
from spark_tui.core.bench.http import Response  # noqa: E402
from spark_tui.core.bench.plan import BenchPlan  # noqa: E402
from spark_tui.core.bench.runner import run_benchmark  # noqa: E402

HERE = Path(__file__).resolve().parent
SIZES = ((64, 4096), (32, 1024))


def vectors(count: int, dim: int, seed: int = 1) -> list[list[float]]:
    """float32 values as Python floats (e.g. 0.012755981460213661): what torch's tolist() gives a server."""
    rng = random.Random(seed)
    return [[struct.unpack("f", struct.pack("f", rng.gauss(0, 0.02)))[0] for _ in range(dim)] for _ in range(count)]


def answer(shape: str, batch: int, dim: int) -> bytes:
    vs = vectors(min(batch, 4), dim)
    vs = [vs[i % len(vs)] for i in range(batch)]
    if shape == "openai":
        data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vs)]
        return json.dumps({"object": "list", "model": "loopback", "data": data, "usage": {"prompt_tokens": 8 * batch, "total_tokens": 8 * batch}}).encode()
    if shape == "tei":
        return json.dumps(vs).encode()
    if shape == "ollama":
        return json.dumps({"model": "loopback", "embeddings": vs, "total_duration": 3_000_000, "load_duration": 0, "prompt_eval_count": 8 * batch}).encode()
    return json.dumps({"embeddings": vs}).encode()  # nvembed


# --- 1. the check alone ------------------------------------------------------------------------


def check_cost(shape: str, batch: int, dim: int, repeats: int = 30, every_vector: bool = False) -> float:
    """Median CPU seconds of one `check` of a prebuilt answer (every_vector: each vector's length
    counted, as in answers up to VectorCheck.FULL_CHECK_BYTES)."""
    adapter = make_adapter(shape, "http://127.0.0.1:9", AdapterOptions(model="loopback"), PayloadSettings(text_words=8, ring=1))
    if every_vector:
        adapter.vectors.FULL_CHECK_BYTES = 1 << 62
    job = adapter.jobs("text", batch)[0]
    response = Response(200, "OK", b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n", answer(shape, batch, dim))
    adapter.check(job, response)  # fails loudly if the answer does not pass
    times = []
    for _ in range(repeats):
        start = time.process_time()
        adapter.check(job, response)
        times.append(time.process_time() - start)
    return statistics.median(times)


# --- 2. runner vs yardstick against an instant server -----------------------------------------


class PrebuiltModel(ServerModel):
    """bench/loopback_server.py's server, answering realistic vectors at once."""

    def __init__(self, dim: int) -> None:
        super().__init__(0.0, 0.0, 0, 1)
        self.dim = dim

    def body_for(self, n: int) -> bytes:
        body = self._bodies.get(n)
        if body is None:
            body = self._bodies[n] = answer("openai", n, self.dim)
        return body


async def serve(dim: int) -> None:
    model = PrebuiltModel(dim)
    for batch, size in SIZES:
        if size == dim:
            model.body_for(batch)  # built before the port is announced: never inside a measurement
    server = await asyncio.get_running_loop().create_server(lambda: _Connection(model), "127.0.0.1", 0, backlog=1024)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def start_server(dim: int, cpus: set[int] | None) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen([sys.executable, __file__, "--serve", str(dim)], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line.startswith("PORT "):
        process.kill()
        raise RuntimeError(f"the loopback server did not start: {line!r}")
    if cpus:
        os.sched_setaffinity(process.pid, cpus)
    return process, int(line.split()[1])


def runner_sample(port: int, batch: int, concurrency: int, duration: float, results: str) -> tuple[float, float]:
    """(items/s, CPU seconds per measured request, pre-flight and warm-up included)."""
    plan = BenchPlan("embed", "openai", f"http://127.0.0.1:{port}", batch_sizes=(batch,), concurrencies=(concurrency,),
                     duration_s=duration, warmup_requests=1, memory_floor_bytes=0, payload=PayloadSettings(text_words=8))
    cpu = time.process_time()
    result = run_benchmark(plan, results_dir=results)
    cpu = time.process_time() - cpu
    cell = result.cells[0]
    if cell.status != "ok":
        raise RuntimeError(f"runner cell {cell.status}: {cell.reason}")
    return cell.items_per_s or 0.0, cpu / max(1, cell.requests)


def yardstick_sample(port: int, batch: int, concurrency: int, duration: float) -> tuple[float, float]:
    adapter = make_adapter("openai", f"http://127.0.0.1:{port}", AdapterOptions(model="loopback"), PayloadSettings(text_words=8))
    bodies = [job.request.wire.split(b"\r\n\r\n", 1)[1] for job in adapter.jobs("text", batch)]
    cpu = time.process_time()
    result = asyncio.run(closed_loop("127.0.0.1", port, "/v1/embeddings", bodies, batch, concurrency, duration))
    cpu = time.process_time() - cpu
    return result.items_per_s, cpu / max(1, result.requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="check,yardstick", help="check,yardstick (default both)")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measurement (default 3)")
    parser.add_argument("--repeats", type=int, default=3, help="measurements per figure, median (default 3)")
    parser.add_argument("--concurrency", default="1,4", help="runner/yardstick concurrency levels (default 1,4)")
    parser.add_argument("--serve", type=int, metavar="DIM", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve))
        return
    checks = set(args.only.split(","))
    if "check" in checks:
        print("1. CPU per answer check (median; in brackets: every vector's length counted)")
        for batch, dim in SIZES:
            figures = ", ".join(f"{shape} {check_cost(shape, batch, dim) * 1e3:5.2f} ms ({check_cost(shape, batch, dim, every_vector=True) * 1e3:5.2f})"
                                for shape in ("openai", "tei", "ollama", "nvembed"))
            print(f"  {batch:2d} × {dim}: {figures}", flush=True)
    if "yardstick" not in checks:
        return
    cpus = sorted(os.sched_getaffinity(0))
    server_cpus, client_cpus = ({cpus[0]}, set(cpus[1:])) if len(cpus) >= 2 else (None, None)
    results = tempfile.mkdtemp(prefix="spark-tui-big-answers-")
    print(f"2. runner vs yardstick, instant server (median of {args.repeats}, {args.duration:g} s each"
          + (f"; server on CPU {sorted(server_cpus)}, clients on {sorted(client_cpus)})" if server_cpus else ")"), flush=True)
    try:
        if client_cpus:
            os.sched_setaffinity(0, client_cpus)
        for batch, dim in SIZES:
            process, port = start_server(dim, server_cpus)
            try:
                for concurrency in (int(c) for c in args.concurrency.split(",")):
                    runner: list[tuple[float, float]] = []
                    yard: list[tuple[float, float]] = []
                    order = ((runner, lambda: runner_sample(port, batch, concurrency, args.duration, results)),
                             (yard, lambda: yardstick_sample(port, batch, concurrency, args.duration)))
                    for i in range(args.repeats):  # alternating, so a drift of the shared CPU hits both alike
                        for samples, measure in order if i % 2 == 0 else order[::-1]:
                            samples.append(measure())
                    r_rate, r_cpu = (statistics.median(s[k] for s in runner) for k in (0, 1))
                    y_rate, y_cpu = (statistics.median(s[k] for s in yard) for k in (0, 1))
                    print(f"  {batch:2d} × {dim} at concurrency {concurrency}: runner {r_rate:8.0f} items/s ({r_cpu * 1e3:5.2f} ms CPU/request), "
                          f"yardstick {y_rate:8.0f} ({y_cpu * 1e3:5.2f} ms)  ratio {r_rate / y_rate:.2f}", flush=True)
            finally:
                process.terminate()
                process.wait(timeout=10)
    finally:
        shutil.rmtree(results, ignore_errors=True)
        os.sched_setaffinity(0, set(cpus))


if __name__ == "__main__":
    main()
