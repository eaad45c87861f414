"""CPU per scrape of an inference server's metrics page, the way the dashboard scrapes it.

Pages are rendered by the loopback emulators the tests use (tests/servers/inference_servers.py):
vLLM's own prometheus_client families (and the real process/GC collectors, which move between
renders as on a real server). No HTTP: the bench measures what this process spends per scrape.

Scenarios (each scrape sees the next page; the block cache holds the previous one, as in use):
- idle:   a loaded vLLM with no requests in flight, rendered again for every scrape
- busy:   counters, gauges and latency histograms move before every scrape
- 2 eng:  the busy case on a two-engine (data-parallel) page, 74 KB
- 5 MB:   the idle vLLM behind 5 MB of other families (per-handler HTTP histograms)

Columns, each the median over --runs scrapes of this process' CPU (time.process_time, which
counts the worker thread too):
- cold:  parse_page without a cache (the filtered parse every scrape used to be)
- parse: parse_page with the cache warm from the previous page
- scrape: scrape_blocking (detection + parse + Scrape) with the cache
- async: `await scrape(...)` on an event loop: the above plus the asyncio.to_thread hop
- figures: figures_from over the last two scrapes
and the implied share of one core for 4 such servers scraped each second (async + figures).

    .venv/bin/python bench/inference_parse_bench.py [--runs 15] [--big-mb 5] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from servers.inference_servers import VllmEngine, filler_families  # noqa: E402

from spark_tui.core.inference.engines import VLLM  # noqa: E402
from spark_tui.core.inference.exposition import BlockCache, parse_page  # noqa: E402
from spark_tui.core.inference.scrape import InferenceTarget, figures_from, scrape, scrape_blocking  # noqa: E402

SERVERS, PER_SECOND = 4, 1.0


def loaded_vllm(engines: int = 1) -> VllmEngine:
    """A vLLM that has served a few hundred requests: every histogram has counts in it."""
    engine = VllmEngine(engines=engines)
    for index in range(300):
        engine.set_load(running=index % 9, waiting=index % 3, kv_usage=(index % 100) / 100, engine=index % engines)
        engine.add_tokens(prompt=800 + index, generation=200, engine=index % engines)
        engine.finish_request(ttft=0.05 + (index % 40) / 100, itls=[0.02 + (index % 7) / 1000] * 20,
                              e2e=1.0 + (index % 30) / 10, prompt=800 + index, engine=index % engines)
    return engine


def busy_step(engine: VllmEngine, step: int, engines: int) -> None:
    """About a second of a busy server: a few requests finish, tokens flow, the batch changes."""
    for request in range(3):
        index = step * 3 + request
        where = index % engines
        engine.set_load(running=4 + index % 5, waiting=index % 3, kv_usage=0.3 + (index % 50) / 100, engine=where)
        engine.add_tokens(prompt=900 + index, generation=300, engine=where)
        engine.finish_request(ttft=0.05 + (index % 40) / 100, itls=[0.02 + (index % 7) / 1000] * 20,
                              e2e=1.0 + (index % 30) / 10, prompt=900 + index, engine=where)


def pages(engine: VllmEngine, count: int, *, busy: bool, engines: int = 1, prefix: bytes = b"") -> list[bytes]:
    out = []
    for step in range(count):
        if busy:
            busy_step(engine, step, engines)
        out.append(prefix + engine.render())
    return out


def cpu_each(function: Callable[[bytes], object], bodies: list[bytes]) -> float:
    """Median CPU of `function(body)` over bodies[1:] (bodies[0] warms whatever it keeps)."""
    function(bodies[0])
    samples = []
    for body in bodies[1:]:
        started = time.process_time()
        function(body)
        samples.append(time.process_time() - started)
    return statistics.median(samples)


def measure(name: str, bodies: list[bytes]) -> dict[str, float | int | str]:
    target = InferenceTarget("vllm", "http://127.0.0.1:8000")
    current: list[bytes] = [b""]

    def fetch(_url: str) -> tuple[int, bytes]:
        return 200, current[0]

    async def async_fetch(_url: str) -> tuple[int, bytes]:
        return 200, current[0]

    def blocking(body: bytes):
        current[0] = body
        return scrape_blocking(target, fetch, engine_hint="vllm")  # found by the first scrape, as trackers do

    cache = BlockCache()
    cold = cpu_each(lambda body: parse_page(body, VLLM.prefixes), bodies)
    warm = cpu_each(lambda body: parse_page(body, VLLM.prefixes, cache), bodies)
    scraped = cpu_each(blocking, bodies)

    async def async_runs() -> tuple[float, list]:
        samples, results = [], []
        for body in bodies:
            current[0] = body
            started = time.process_time()
            results.append(await scrape(target, async_fetch, engine_hint=results[-1].engine if results else None))
            samples.append(time.process_time() - started)
        return statistics.median(samples[1:]), results

    async_s, results = asyncio.run(async_runs())
    assert results[-1].ok and results[-1].engine == "vllm", results[-1].problem
    pairs = list(pairwise(results))[1:]
    figure_samples = []
    for older, newer in pairs:
        started = time.process_time()
        figures_from(target, older, newer)
        figure_samples.append(time.process_time() - started)
    figures_s = statistics.median(figure_samples)
    return {
        "page": name,
        "bytes": len(bodies[-1]),
        "runs": len(bodies) - 1,
        "cold_parse_s": cold,
        "parse_s": warm,
        "scrape_s": scraped,
        "async_scrape_s": async_s,
        "figures_s": figures_s,
        "core_percent_4_servers": 100 * SERVERS * PER_SECOND * (async_s + figures_s),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--big-mb", type=float, default=5.0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()
    count = max(args.runs, 15) + 1

    rows = [
        measure("vLLM idle (unchanged)", pages(loaded_vllm(1), count, busy=False)),
        measure("vLLM busy", pages(loaded_vllm(1), count, busy=True)),
        measure("vLLM 2 engines, busy", pages(loaded_vllm(2), count, busy=True, engines=2)),
        measure(f"vLLM idle after {args.big_mb:g} MB", pages(loaded_vllm(1), max(4, count // 3), busy=False,
                                                               prefix=filler_families(args.big_mb))),
    ]
    print(f"CPU ms per scrape, medians of >= {count - 1} scrapes (5 MB: {max(4, count // 3) - 1}); "
          f"python {sys.version.split()[0]}")
    print(f"{'page':<26}{'KB':>7}{'cold':>8}{'parse':>8}{'scrape':>8}{'async':>8}{'figures':>9}"
          f"{'% core':>8}")
    for row in rows:
        print(f"{row['page']:<26}{row['bytes'] / 1000:>7.0f}{row['cold_parse_s'] * 1e3:>8.2f}"
              f"{row['parse_s'] * 1e3:>8.2f}{row['scrape_s'] * 1e3:>8.2f}{row['async_scrape_s'] * 1e3:>8.2f}"
              f"{row['figures_s'] * 1e3:>9.3f}{row['core_percent_4_servers']:>8.2f}")
    print("cold: filtered parse, no cache; parse: with the block cache; scrape: detect + parse + Scrape;")
    print(f"async: await scrape() incl. the thread hop; % core: {SERVERS} servers each {PER_SECOND:g} s "
          "(async + figures); budget +0.3 %")
    if args.json:
        print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
