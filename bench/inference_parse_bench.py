"""CPU per scrape of an inference server's metrics page: a realistic vLLM page and one of several MB.

Pages are rendered by the loopback emulators the tests use (tests/servers/inference_servers.py):
vLLM's own prometheus_client families with load on them, and for the big page several MB of
per-handler HTTP histograms in front. No HTTP: the bench measures what this process spends.

For each page, the median over --runs of this process' CPU time (time.process_time) for:
- whole parse: the Prometheus parser over the entire page (what filtering avoids)
- filter only: exposition.prefilter keeping vLLM's families
- filtered parse: parse_families with vLLM's prefixes
- scrape: scrape_blocking with the page as the answer (decode, engine detection, filtered parse)
- figures: figures_from over two such scrapes (rates, percentiles, sources)

    .venv/bin/python bench/inference_parse_bench.py [--runs 15] [--big-mb 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from servers.inference_servers import VllmEngine, filler_families  # noqa: E402

from spark_tui.core.inference.engines import VLLM  # noqa: E402
from spark_tui.core.inference.exposition import parse_families, prefilter  # noqa: E402
from spark_tui.core.inference.scrape import InferenceTarget, figures_from, scrape_blocking  # noqa: E402


def loaded_vllm(engines: int = 1) -> VllmEngine:
    """A vLLM that has served a few hundred requests: every histogram has counts in it."""
    engine = VllmEngine(engines=engines)
    for index in range(300):
        engine.set_load(running=index % 9, waiting=index % 3, kv_usage=(index % 100) / 100, engine=index % engines)
        engine.add_tokens(prompt=800 + index, generation=200, engine=index % engines)
        engine.finish_request(ttft=0.05 + (index % 40) / 100, itls=[0.02 + (index % 7) / 1000] * 20,
                              e2e=1.0 + (index % 30) / 10, prompt=800 + index, engine=index % engines)
    return engine


def cpu_median(function: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.process_time()
        function()
        samples.append(time.process_time() - started)
    return statistics.median(samples)


def measure(name: str, engine: VllmEngine, prefix: bytes, runs: int) -> dict[str, float | int | str]:
    first = prefix + engine.render()
    engine.add_tokens(prompt=5000, generation=1200)
    engine.finish_request(ttft=0.12, itls=[0.021] * 30, e2e=1.9)
    second = prefix + engine.render()
    text = second.decode()
    target = InferenceTarget("vllm", "http://127.0.0.1:8000")
    pages = iter(())

    def fetch(_url: str) -> tuple[int, bytes]:
        return 200, next(pages)

    def one_scrape(body: bytes):
        nonlocal pages
        pages = iter((body,))
        return scrape_blocking(target, fetch)

    older, newer = one_scrape(first), one_scrape(second)
    assert newer.ok and newer.engine == "vllm", newer.problem
    figures = figures_from(target, older, newer)
    assert figures.generation_tokens_per_s is not None
    whole_runs = max(3, runs // 5) if len(text) > 1_000_000 else runs
    return {
        "page": name,
        "bytes": len(second),
        "lines": text.count("\n"),
        "whole_parse_s": cpu_median(lambda: parse_families(text), whole_runs),
        "filter_only_s": cpu_median(lambda: prefilter(text, VLLM.prefixes), runs),
        "filtered_parse_s": cpu_median(lambda: parse_families(text, VLLM.prefixes), runs),
        "scrape_s": cpu_median(lambda: one_scrape(second), runs),
        "figures_s": cpu_median(lambda: figures_from(target, older, newer), runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--big-mb", type=float, default=5.0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()

    rows = [
        measure("vLLM, 1 engine", loaded_vllm(1), b"", args.runs),
        measure("vLLM, 2 engines", loaded_vllm(2), b"", args.runs),
        measure(f"vLLM after {args.big_mb:g} MB of others", loaded_vllm(1), filler_families(args.big_mb), args.runs),
    ]
    print(f"medians of {args.runs} runs, CPU ms of this process (python {sys.version.split()[0]})")
    header = f"{'page':<28}{'KB':>8}{'lines':>8}{'whole':>9}{'filter':>9}{'filtered':>10}{'scrape':>9}{'figures':>9}"
    print(header)
    for row in rows:
        print(f"{row['page']:<28}{row['bytes'] / 1000:>8.0f}{row['lines']:>8}"
              f"{row['whole_parse_s'] * 1e3:>9.2f}{row['filter_only_s'] * 1e3:>9.2f}"
              f"{row['filtered_parse_s'] * 1e3:>10.2f}{row['scrape_s'] * 1e3:>9.2f}{row['figures_s'] * 1e3:>9.3f}")
    print("whole: parser over the page; filter: line filter alone; filtered: filter + parser;")
    print("scrape: decode + detect + filtered parse; figures: rates and percentiles from two scrapes")
    if args.json:
        print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
