"""Is the generation runner accurate, and never the bottleneck? Measured against a loopback
streaming server with a known timing model, in its own process (tests/servers/gen_servers.py).

The server: first token A ms after a request gets one of C slots, then one token every I ms;
the first token alone, then T tokens per event (vLLM's stream interval, TensorRT-LLM), in vLLM's
chunk shapes with the usage chunk and `data: [DONE]`. A closed loop of K <= C asking n tokens
must then measure:

1. output tokens/s within 3% of K·n / (A + (n-1)·I),
2. TTFT p50 within 2 ms of A,
3. ITL p50 within 2% of I,
4. at least 97% of the tokens/s of the streaming yardstick (bench/yardstick_stream.py: reads every
   chunk as it comes, parses nothing), measured alternately in the same script,

on a grid of K × n × I × T (cells with (n-1)·I over --max-request-s are left out: a 1024-token
answer at 50 ms a token takes 51 s). Then:

5. overhead: against a server that streams as fast as it can (A = I = 0, the whole answer in one
   write), the most tokens/s the runner sustains and its CPU per token, the yardstick beside it;
6. with --aiperf: AIPerf (PyPI `aiperf`, in a venv of its own) on the same cells, same server, same
   CPU, with the server's token counts (--use-server-token-count) and the runner's lengths.

Each cell runs --rounds requests per worker (more where answers are short, so that a cell lasts
--min-cell-s: a 250 ms window is noise) after one discarded warm-up request per worker;
figures are medians of --repeats runs. On a machine with two or more CPUs the server is pinned to
the first, this process to the others (--no-pin: the scheduler decides).

    python bench/gen_accuracy.py              # the full grid (~15 min)
    python bench/gen_accuracy.py --quick      # K 1,16 × n 16,128 × I 5,20 × T 1,4, one repeat
    python -m venv /tmp/aiperf-venv && /tmp/aiperf-venv/bin/pip install aiperf   # then --aiperf
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from accuracy import DEFAULT_AIPERF, aiperf_failure, make_aiperf_tokenizer
from servers.gen_servers import GenServerProcess
from yardstick_stream import closed_loop

from spark_tui.core.bench.adapters import make_adapter
from spark_tui.core.bench.adapters_base import AdapterOptions, PayloadSettings
from spark_tui.core.bench.allocator import keep_answers_in_heap
from spark_tui.core.bench.plan import BenchPlan
from spark_tui.core.bench.runner import run_benchmark

OUT = HERE / "out"
INPUT_TOKENS = 64
ALL_CPUS = frozenset(os.sched_getaffinity(0))


@dataclass
class GridCell:
    k: int
    n: int
    i_ms: float
    per_event: int
    a_ms: float
    runner: list[dict[str, float]] = field(default_factory=list)
    yardstick: list[float] = field(default_factory=list)
    yardstick_ttft: list[float] = field(default_factory=list)
    aiperf: list[dict[str, float]] = field(default_factory=list)
    aiperf_errors: list[str] = field(default_factory=list)

    @property
    def expected(self) -> float:
        return self.k * self.n / ((self.a_ms + (self.n - 1) * self.i_ms) / 1000)

    def med(self, key: str) -> float:
        return statistics.median(r[key] for r in self.runner)

    def verdicts(self) -> dict[str, str]:
        """ok; "setup" where the runner misses but the yardstick misses as much (the loopback
        server or a busy machine cannot deliver the model, whoever asks); else MISS."""
        yard = statistics.median(self.yardstick) if self.yardstick else float("nan")
        yard_ttft = statistics.median(self.yardstick_ttft) * 1000 if self.yardstick_ttft else float("nan")
        rate = self.med("tokens_per_s")
        ttft = self.med("ttft_p50") * 1000

        def verdict(ok: bool, setup: bool) -> str:
            return "ok" if ok else ("setup" if setup else "MISS")

        return {
            "tokens_per_s_within_3pct": verdict(abs(rate / self.expected - 1) <= 0.03, yard / self.expected - 1 < -0.03 and rate >= 0.97 * yard),
            "ttft_p50_within_2ms": verdict(abs(ttft - self.a_ms) <= 2.0, yard_ttft - self.a_ms > 2.0 and ttft <= yard_ttft + 2.0),
            "itl_p50_within_2pct": verdict(self.n < 2 or abs(self.med("itl_p50") * 1000 / self.i_ms - 1) <= 0.02, False),
            "at_least_97pct_of_yardstick": verdict(rate >= 0.97 * yard, False),
        }

    def record(self) -> dict[str, object]:
        return {"K": self.k, "n": self.n, "I_ms": self.i_ms, "tokens_per_event": self.per_event, "A_ms": self.a_ms,
                "expected_tokens_per_s": self.expected, "runner_tokens_per_s": self.med("tokens_per_s"),
                "runner_ttft_p50_ms": self.med("ttft_p50") * 1000, "runner_itl_p50_ms": self.med("itl_p50") * 1000 if self.n > 1 else None,
                "runner_cpu_per_token_us": self.med("cpu_per_token") * 1e6,
                "yardstick_tokens_per_s": statistics.median(self.yardstick) if self.yardstick else None,
                "yardstick_ttft_p50_ms": statistics.median(self.yardstick_ttft) * 1000 if self.yardstick_ttft else None,
                "aiperf_tokens_per_s": statistics.median(a["tokens_per_s"] for a in self.aiperf) if self.aiperf else None,
                "aiperf_ttft_p50_ms": statistics.median(a["ttft_p50"] for a in self.aiperf) * 1000 if self.aiperf else None,
                "aiperf_itl_p50_ms": statistics.median(a["itl_p50"] for a in self.aiperf) * 1000 if self.aiperf else None,
                "aiperf_errors": self.aiperf_errors,
                "verdicts": self.verdicts(), "samples": {"runner": self.runner, "yardstick": self.yardstick, "aiperf": self.aiperf}}


def runner_pass(url: str, k: int, ns: list[int], rounds: int | dict[int, int], results: str) -> dict[int, dict[str, float]]:
    """The runner over the lengths `ns` at concurrency k (one run per distinct round count); figures per n."""
    per_n = rounds if isinstance(rounds, dict) else {n: rounds for n in ns}
    out = {}
    for count in sorted(set(per_n.values())):
        lengths = [n for n in ns if per_n[n] == count]
        out.update(_runner_run(url, k, lengths, count, results))
    return out


def _runner_run(url: str, k: int, ns: list[int], rounds: int, results: str) -> dict[int, dict[str, float]]:
    plan = BenchPlan("generate", "openai-completions", url, batch_sizes=(1,), concurrencies=(k,), lengths=tuple((INPUT_TOKENS, n) for n in ns),
                     requests=rounds * k, duration_s=None, warmup_requests=1, memory_floor_bytes=0, timeout_s=600)
    cpu = time.process_time()
    result = run_benchmark(plan, results_dir=results)
    cpu = time.process_time() - cpu
    tokens = sum((c.output_tokens_mean or 0) * c.ok for c in result.cells)
    out = {}
    for cell in result.cells:
        if cell.status != "ok" or cell.ttft is None:
            raise RuntimeError(f"runner cell {cell.spec.label} {cell.status}: {cell.reason}")
        out[cell.spec.output_tokens or 0] = {"tokens_per_s": cell.output_tokens_per_s or 0.0, "ttft_p50": cell.ttft.p50,
                                            "itl_p50": cell.itl.p50 if cell.itl else 0.0, "cpu_per_token": cpu / max(1, tokens)}
    return out


def bodies_for(url: str, n: int) -> list[bytes]:
    """The runner's own request bodies (same prompts, same JSON), for the yardstick."""
    adapter = make_adapter("openai-completions", url, AdapterOptions(), PayloadSettings(), "generate")
    return [job.request.wire.split(b"\r\n\r\n", 1)[1] for job in adapter.length_jobs(INPUT_TOKENS, n)]


def yardstick_pass(port: int, k: int, n: int, rounds: int | None, duration: float | None = None) -> tuple[float, float, int, float]:
    cpu = time.process_time()
    got = asyncio.run(closed_loop("127.0.0.1", port, "/v1/completions", bodies_for(f"http://127.0.0.1:{port}", n), n, k, duration,
                                  rounds * k if rounds else None))
    return got.tokens_per_s, time.process_time() - cpu, got.tokens, statistics.median(got.ttft_s) if got.ttft_s else float("nan")


def aiperf_pass(aiperf: str, tokenizer: Path, url: str, k: int, n: int, rounds: int) -> dict[str, float] | str:
    """AIPerf on the same cell: K concurrent streams, rounds·K requests after K warm-up ones."""
    with tempfile.TemporaryDirectory(prefix="aiperf-gen-") as out:
        argv = [aiperf, "profile", "--model", "loopback", "--url", url, "--endpoint-type", "completions", "--streaming",
                "--concurrency", str(k), "--request-count", str(rounds * k), "--warmup-request-count", str(k), "--tokenizer", str(tokenizer),
                "--synthetic-input-tokens-mean", str(INPUT_TOKENS), "--synthetic-input-tokens-stddev", "0",
                "--output-tokens-mean", str(n), "--output-tokens-stddev", "0", "--extra-inputs", "ignore_eos:true",
                "--extra-inputs", f"min_tokens:{n}", "--use-server-token-count", "--ui-type", "none", "--output-artifact-dir", out]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=900, cwd=out, check=False)
        except subprocess.TimeoutExpired:
            return "no result within 900 s"
        export = Path(out) / "profile_export_aiperf.json"
        if proc.returncode != 0 or not export.exists():
            return aiperf_failure(proc.returncode, proc.stdout + "\n" + proc.stderr, Path(out))
        data = json.loads(export.read_text())
        try:
            return {"tokens_per_s": float(data["output_token_throughput"]["avg"]), "ttft_p50": float(data["time_to_first_token"]["p50"]) / 1000,
                    "itl_p50": float(data["inter_token_latency"]["p50"]) / 1000 if n > 1 else 0.0}
        except (KeyError, TypeError, ValueError) as exc:
            return f"unreadable {export.name}: no {exc}"


def run_grid(args: argparse.Namespace, server_cpus: set[int] | None, results: str) -> list[GridCell]:
    cells: list[GridCell] = []
    for per_event in args.tokens_per_event:
        for i_ms in args.itl_ms:
            ns = [n for n in args.tokens if (n - 1) * i_ms / 1000 <= args.max_request_s]
            if not ns:
                continue
            with GenServerProcess("vllm", a_ms=args.a_ms, i_ms=i_ms, parallel=max(args.concurrency), per_event=per_event, cpus=server_cpus) as server:
                for k in args.concurrency:
                    row = {n: GridCell(k, n, i_ms, per_event, args.a_ms) for n in ns}
                    rounds = {n: max(args.rounds, math.ceil(args.min_cell_s / ((args.a_ms + (n - 1) * i_ms) / 1000))) for n in ns}
                    for repeat in range(args.repeats):
                        order = [0, 1] if repeat % 2 == 0 else [1, 0]  # alternate who goes first
                        if args.aiperf_tool:
                            order.append(2)
                        for who in order:
                            if who == 2:
                                for n in ns:
                                    got = aiperf_pass(args.aiperf_tool, args.aiperf_tokenizer, server.url, k, n, rounds[n])
                                    if isinstance(got, str):
                                        row[n].aiperf_errors.append(got)
                                    else:
                                        row[n].aiperf.append(got)
                                continue
                            if who == 0:
                                for n, figures in runner_pass(server.url, k, ns, rounds, results).items():
                                    row[n].runner.append(figures)
                            else:
                                for n in ns:
                                    rate, _, _, ttft = yardstick_pass(server.port, k, n, rounds[n])
                                    row[n].yardstick.append(rate)
                                    row[n].yardstick_ttft.append(ttft)
                    for n in ns:
                        cell = row[n]
                        v = cell.verdicts()
                        flags = " ".join(verdict if verdict == "ok" else f"{verdict}:{name}" for name, verdict in v.items())
                        if cell.aiperf:
                            a = cell.aiperf
                            flags += (f"; AIPerf {statistics.median(x['tokens_per_s'] for x in a):,.0f} tok/s, TTFT p50 "
                                      f"{statistics.median(x['ttft_p50'] for x in a) * 1000:.2f} ms, ITL p50 {statistics.median(x['itl_p50'] for x in a) * 1000:.3f} ms")
                        elif cell.aiperf_errors:
                            flags += f"; AIPerf failed: {cell.aiperf_errors[0]}"
                        print(f"  T={per_event} I={i_ms:4g} ms K={k:3d} n={n:5d}: expected {cell.expected:9,.0f}, runner {cell.med('tokens_per_s'):9,.0f} "
                              f"({cell.med('tokens_per_s') / cell.expected - 1:+.1%}), yardstick {statistics.median(cell.yardstick):9,.0f} tok/s; "
                              f"TTFT p50 {cell.med('ttft_p50') * 1000:6.2f} ms, ITL p50 {cell.med('itl_p50') * 1000:6.3f} ms  {flags}", flush=True)
                        cells.append(cell)
    return cells


def check_overhead(args: argparse.Namespace, server_cpus: set[int] | None, results: str) -> list[dict[str, object]]:
    """Against a server that streams as fast as it can: the runner's ceiling and its CPU per token."""
    rows: list[dict[str, object]] = []
    n = 1024
    with GenServerProcess("vllm", a_ms=0, i_ms=0, parallel=64, per_event=1, cpus=server_cpus) as server:
        for k in (1, 8):
            runner, runner_cpu, yard, yard_cpu = [], [], [], []
            for _ in range(args.repeats):
                plan = BenchPlan("generate", "openai-completions", server.url, batch_sizes=(1,), concurrencies=(k,), lengths=((INPUT_TOKENS, n),),
                                 duration_s=args.overhead_s, warmup_requests=1, memory_floor_bytes=0)
                cpu = time.process_time()
                result = run_benchmark(plan, results_dir=results)
                cpu = time.process_time() - cpu
                cell = result.cells[0]
                runner.append(cell.output_tokens_per_s or 0.0)
                runner_cpu.append(cpu / max(1, (cell.output_tokens_mean or 0) * cell.ok))
                rate, ycpu, ytokens, _ = yardstick_pass(server.port, k, n, None, args.overhead_s)
                yard.append(rate)
                yard_cpu.append(ycpu / max(1, ytokens))
            row = {"K": k, "n": n, "runner_tokens_per_s": statistics.median(runner), "runner_cpu_per_token_us": statistics.median(runner_cpu) * 1e6,
                   "yardstick_tokens_per_s": statistics.median(yard), "yardstick_cpu_per_token_us": statistics.median(yard_cpu) * 1e6}
            print(f"  K={k}: runner {row['runner_tokens_per_s']:10,.0f} tokens/s ({row['runner_cpu_per_token_us']:.2f} µs CPU/token, pre-flight "
                  f"and warm-up included), yardstick {row['yardstick_tokens_per_s']:10,.0f} ({row['yardstick_cpu_per_token_us']:.2f} µs)", flush=True)
            rows.append(row)
    return rows


def ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=ints, default=[1, 8, 64])
    parser.add_argument("--tokens", type=ints, default=[16, 128, 1024])
    parser.add_argument("--itl-ms", type=floats, default=[5.0, 20.0, 50.0])
    parser.add_argument("--tokens-per-event", type=ints, default=[1, 4])
    parser.add_argument("--a-ms", type=float, default=50.0)
    parser.add_argument("--rounds", type=int, default=2, help="measured requests per worker in each cell")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-request-s", type=float, default=7.0)
    parser.add_argument("--min-cell-s", type=float, default=1.5, help="more rounds where answers are short, so a cell lasts this long")
    parser.add_argument("--out", type=Path, default=OUT / "gen_accuracy.json")
    parser.add_argument("--overhead-s", type=float, default=4.0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--aiperf", nargs="?", const=DEFAULT_AIPERF, default=None, metavar="PATH",
                        help=f"also measure AIPerf on every cell (default {DEFAULT_AIPERF})")
    parser.add_argument("--no-pin", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.concurrency, args.tokens, args.itl_ms, args.tokens_per_event = [1, 16], [16, 128], [5.0, 20.0], [1, 4]
        args.repeats, args.rounds, args.overhead_s = 1, 2, 2.0
    keep_answers_in_heap()
    args.aiperf_tool, args.aiperf_tokenizer = None, None
    if args.aiperf:
        if not Path(args.aiperf).exists():
            parser.error(f"no AIPerf at {args.aiperf}: python -m venv /tmp/aiperf-venv && /tmp/aiperf-venv/bin/pip install aiperf")
        args.aiperf_tokenizer = Path(tempfile.mkdtemp(prefix="aiperf-tokenizer-"))
        make_aiperf_tokenizer(args.aiperf, args.aiperf_tokenizer)  # word-level: the loopback's tokens are words
        args.aiperf_tool = args.aiperf
    cpus = sorted(ALL_CPUS)
    server_cpus = None
    if not args.no_pin and len(cpus) >= 2:
        server_cpus = {cpus[0]}
        os.sched_setaffinity(0, set(cpus[1:]))
    print(f"CPUs: {len(cpus)}{', server pinned to CPU ' + str(cpus[0]) if server_cpus else ''}; load average {os.getloadavg()[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="gen-accuracy-") as results:
        print(f"\nGrid: A = {args.a_ms:g} ms, input {INPUT_TOKENS} tokens, {args.rounds} requests per worker, medians of {args.repeats}:", flush=True)
        cells = run_grid(args, server_cpus, results)
        print("\nOverhead: a server streaming 1024 tokens as fast as it can:", flush=True)
        overhead = check_overhead(args, server_cpus, results)
    misses = {name: {v: sum(1 for c in cells if c.verdicts()[name] == v) for v in ("ok", "setup", "MISS")} for name in cells[0].verdicts()} if cells else {}
    if args.aiperf_tokenizer is not None:
        shutil.rmtree(args.aiperf_tokenizer, ignore_errors=True)
    print(f"\n{len(cells)} cells (ok / setup's limit, the yardstick misses too / MISS):")
    for name, counts in misses.items():
        print(f"  {name}: {counts['ok']} / {counts['setup']} / {counts['MISS']}")
    out = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}, "cells": [c.record() for c in cells], "overhead": overhead, "misses": misses,
                               "load_average": os.getloadavg()}, indent=2))
    print(f"figures: {out}")


if __name__ == "__main__":
    main()
