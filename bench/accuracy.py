"""Is the runner ever the bottleneck? Measured against a loopback server in its own process.

The server (bench/loopback_server.py) takes a + b·n ms for a request of n texts, at most c at once.

1. analytic: with the runner's concurrency at 2c the server is always busy, so items/s must be
   within 5% of c·n·1000/(a+b·n);
2. yardstick: on a grid of concurrency × batch, the runner's items/s must reach 95% of what the
   minimal closed-loop client (bench/yardstick.py) gets from the same server, measured alternately;
3. overhead: the runner's own CPU time per request and its requests/s against a server that
   answers at once (yardstick beside it);
4. AIPerf (PyPI `aiperf`), when installed in a separate venv (--aiperf PATH/TO/aiperf), against
   the same server, side by side.

Every figure is the median of --repeats runs. For checks 2 and 3, on a machine with two or more
CPUs, the server is pinned to one CPU and this process (runner and yardstick alike) to the others
(--no-pin to let the scheduler decide for both): on a small machine client and server otherwise
take CPU from each other, and the client that costs more per request slows the very server it
measures. Check 1 never pins: it needs the server at full speed to match the formula. The CPU
may be shared with other work: figures taken on a busy machine are rough; re-measure on a quiet one.

    python bench/accuracy.py                # default grid, ~6 minutes
    python bench/accuracy.py --quick        # smaller grid, one repeat
    python bench/accuracy.py --aiperf /tmp/aiperf-venv/bin/aiperf
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from yardstick import closed_loop  # noqa: E402

from spark_tui.bench.adapters import make_adapter  # noqa: E402
from spark_tui.bench.adapters_base import AdapterOptions, PayloadSettings  # noqa: E402
from spark_tui.bench.plan import BenchPlan  # noqa: E402
from spark_tui.bench.runner import run_benchmark  # noqa: E402

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


ALL_CPUS = frozenset(os.sched_getaffinity(0))
PIN: tuple[set[int], set[int]] | None = None  # (server CPUs, client CPUs) while pinning


def pin_cpus(enabled: bool) -> None:
    """From now on: servers on the first CPU we may use, this process on the others (or no pinning)."""
    global PIN
    cpus = sorted(ALL_CPUS)
    if not enabled or len(cpus) < 2:
        PIN = None
        os.sched_setaffinity(0, ALL_CPUS)
        return
    PIN = ({cpus[0]}, set(cpus[1:]))
    os.sched_setaffinity(0, PIN[1])


@dataclass
class Server:
    a_ms: float
    b_ms: float
    parallel: int
    process: subprocess.Popen[str] | None = None
    port: int = 0

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "loopback_server.py"), "--a-ms", str(self.a_ms), "--b-ms", str(self.b_ms), "--parallel", str(self.parallel)],
            stdout=subprocess.PIPE, text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"the loopback server did not start: {line!r}")
        self.port = int(line.split()[1])
        if PIN is not None:
            os.sched_setaffinity(self.process.pid, PIN[0])
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def analytic_items_per_s(self, batch: int) -> float:
        return self.parallel * batch * 1000 / (self.a_ms + self.b_ms * batch)

    def label(self) -> str:
        return f"a={self.a_ms:g} ms, b={self.b_ms:g} ms/item, c={self.parallel or 'unlimited'}"


@dataclass
class Sample:
    items_per_s: float
    requests_per_s: float
    requests: int
    cpu_s: float = 0.0


@dataclass
class Row:
    server: str
    batch: int
    concurrency: int
    runner: list[Sample] = field(default_factory=list)
    yardstick: list[Sample] = field(default_factory=list)

    @staticmethod
    def median(samples: list[Sample], attr: str = "items_per_s") -> float:
        return statistics.median(getattr(s, attr) for s in samples) if samples else float("nan")


def measure_runner(url: str, batch: int, concurrency: int, duration: float, words: int, results: str) -> Sample:
    plan = BenchPlan("embed", "openai", url, batch_sizes=(batch,), concurrencies=(concurrency,), duration_s=duration,
                     warmup_requests=1, memory_floor_bytes=0, payload=PayloadSettings(text_words=words))
    cpu = time.process_time()
    result = run_benchmark(plan, results_dir=results)
    cpu = time.process_time() - cpu
    cell = result.cells[0]
    if cell.status != "ok":
        raise RuntimeError(f"runner cell failed: {cell.reason}")
    return Sample(cell.items_per_s or 0.0, cell.requests_per_s or 0.0, cell.requests, cpu)


def bodies_for(url: str, batch: int, words: int) -> list[bytes]:
    """The very bodies the runner sends (same texts, same JSON), for the yardstick."""
    adapter = make_adapter("openai", url, AdapterOptions(model="loopback"), PayloadSettings(text_words=words))
    return [job.request.wire.split(b"\r\n\r\n", 1)[1] for job in adapter.jobs("text", batch)]


def measure_yardstick(port: int, batch: int, concurrency: int, duration: float, bodies: list[bytes]) -> Sample:
    cpu = time.process_time()
    result = asyncio.run(closed_loop("127.0.0.1", port, "/v1/embeddings", bodies, batch, concurrency, duration))
    cpu = time.process_time() - cpu
    return Sample(result.items_per_s, result.requests_per_s, result.requests, cpu)


def grid(server: Server, batches: list[int], concurrencies: list[int], duration: float, repeats: int, words: int, results: str) -> list[Row]:
    rows = []
    for batch in batches:
        bodies = bodies_for(server.url, batch, words)
        for concurrency in concurrencies:
            row = Row(server.label(), batch, concurrency)
            for i in range(repeats):
                # alternate which goes first so slow drifts of the shared CPU hit both alike
                order = (0, 1) if i % 2 == 0 else (1, 0)
                for which in order:
                    if which == 0:
                        row.runner.append(measure_runner(server.url, batch, concurrency, duration, words, results))
                    else:
                        row.yardstick.append(measure_yardstick(server.port, batch, concurrency, duration, bodies))
            ratio = row.median(row.runner) / row.median(row.yardstick)
            print(f"  batch {batch:3d} × concurrency {concurrency:3d}: runner {row.median(row.runner):10.1f} items/s, "
                  f"yardstick {row.median(row.yardstick):10.1f}  ratio {ratio:6.3f} {'ok' if ratio >= 0.95 else 'BELOW 95%'}", flush=True)
            rows.append(row)
    return rows


def make_aiperf_tokenizer(aiperf: str, directory: Path) -> None:
    """AIPerf needs a tokenizer for its synthetic prompts; hubs are out of reach, so build a tiny one."""
    python = Path(aiperf).with_name("python")
    code = (
        "from tokenizers import Tokenizer, models, pre_tokenizers\n"
        "from transformers import PreTrainedTokenizerFast\n"
        "words = ['[UNK]', '[PAD]'] + 'the of and to in is for that with on as by this are from at be it an or'.split()\n"
        "tok = Tokenizer(models.WordLevel(vocab={w: i for i, w in enumerate(words)}, unk_token='[UNK]'))\n"
        "tok.pre_tokenizer = pre_tokenizers.Whitespace()\n"
        f"PreTrainedTokenizerFast(tokenizer_object=tok, unk_token='[UNK]', pad_token='[PAD]').save_pretrained({str(directory)!r})\n"
    )
    subprocess.run([str(python), "-c", code], check=True, capture_output=True, timeout=120)


def measure_aiperf(aiperf: str, tokenizer: Path, server: Server, batch: int, concurrency: int, duration: float, words: int) -> Sample | str:
    with tempfile.TemporaryDirectory() as out:
        argv = [aiperf, "profile", "--model", "loopback", "--url", server.url, "--endpoint-type", "embeddings",
                "--concurrency", str(concurrency), "--benchmark-duration", str(duration), "--tokenizer", str(tokenizer),
                "--batch-size-text", str(batch), "--synthetic-input-tokens-mean", str(words), "--warmup-request-count", str(concurrency),
                "--ui-type", "none", "--output-artifact-dir", out]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 300, cwd=out)
        export = Path(out) / "profile_export_aiperf.json"
        if proc.returncode != 0 or not export.exists():
            return (proc.stdout + proc.stderr).strip().splitlines()[-1][:200] if (proc.stdout + proc.stderr).strip() else f"exit {proc.returncode}"
        data = json.loads(export.read_text())
        rps = data["request_throughput"]["avg"]
        return Sample(rps * batch, rps, int(data["request_count"]["avg"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller grid, shorter cells, one repeat")
    parser.add_argument("--full", action="store_true", help="the full grid: concurrency 1,2,4,8,16,32,64 × batch 1,4,16,64")
    parser.add_argument("--repeats", type=int, help="runs per figure (median); default 3, --quick 1")
    parser.add_argument("--duration", type=float, help="seconds per cell; default 3, --quick 2")
    parser.add_argument("--words", type=int, default=64, help="words per text (default 64)")
    parser.add_argument("--aiperf", help="path to an `aiperf` executable in its own venv (default: /tmp/aiperf-venv/bin/aiperf when present)")
    parser.add_argument("--only", default="analytic,yardstick,overhead,aiperf", help="checks to run (default all): analytic,yardstick,overhead,aiperf")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the server and the client to separate CPUs")
    args = parser.parse_args()
    pin = not args.no_pin and len(ALL_CPUS) >= 2
    repeats = args.repeats or (1 if args.quick else 3)
    duration = args.duration or (2.0 if args.quick else 3.0)
    if args.full:
        concurrencies, batches = [1, 2, 4, 8, 16, 32, 64], [1, 4, 16, 64]
    elif args.quick:
        concurrencies, batches = [1, 8, 64], [1, 16]
    else:
        concurrencies, batches = [1, 4, 16, 64], [1, 8, 64]
    aiperf = args.aiperf or ("/tmp/aiperf-venv/bin/aiperf" if Path("/tmp/aiperf-venv/bin/aiperf").exists() else None)
    results = tempfile.mkdtemp(prefix="spark-tui-accuracy-")
    report: dict[str, object] = {"repeats": repeats, "duration_s": duration, "words": args.words, "pinned_checks_2_3": pin}
    failures: list[str] = []
    try:
        checks = set(args.only.split(","))
        # 1. analytic: runner concurrency 2c keeps the server busy
        print(f"1. analytic throughput (runner concurrency = 2c; median of {repeats})", flush=True)
        analytic = []
        for a, b, c in ((20.0, 0.5, 4), (5.0, 0.1, 8)) if "analytic" in checks else ():
            with Server(a, b, c) as server:
                for batch in (1, 8, 64):
                    samples = [measure_runner(server.url, batch, 2 * c, duration, args.words, results) for _ in range(repeats)]
                    measured = statistics.median(s.items_per_s for s in samples)
                    expected = server.analytic_items_per_s(batch)
                    error = measured / expected - 1
                    verdict = "ok" if abs(error) <= 0.05 else "OFF BY MORE THAN 5%"
                    print(f"  {server.label()}, batch {batch:2d}: {measured:9.1f} items/s vs {expected:9.1f} analytic ({error:+.1%}) {verdict}", flush=True)
                    analytic.append({"server": server.label(), "batch": batch, "concurrency": 2 * c, "items_per_s": measured, "analytic": expected, "error": error})
                    if abs(error) > 0.05:
                        failures.append(f"analytic {server.label()} batch {batch}: {error:+.1%}")
        report["analytic"] = analytic

        # 2. yardstick grid against a fast server (the harder case for the runner)
        pin_cpus(pin)
        if PIN:
            print(f"   (server on CPU {sorted(PIN[0])}, runner and yardstick on CPU {sorted(PIN[1])})", flush=True)
        with Server(2.0, 0.05, 8) as server:
            if "yardstick" not in checks:
                batches = []
            print(f"2. runner vs yardstick, {server.label()} (median of {repeats})", flush=True)
            rows = grid(server, batches, concurrencies, duration, repeats, args.words, results)
        report["yardstick"] = [
            {"server": r.server, "batch": r.batch, "concurrency": r.concurrency, "runner_items_per_s": r.median(r.runner),
             "yardstick_items_per_s": r.median(r.yardstick), "ratio": r.median(r.runner) / r.median(r.yardstick)} for r in rows
        ]
        failures += [f"yardstick batch {r.batch} × concurrency {r.concurrency}: {r.median(r.runner) / r.median(r.yardstick):.3f}"
                     for r in rows if r.median(r.runner) / r.median(r.yardstick) < 0.95]

        # 3. the runner's own cost against an instant server
        print(f"3. overhead against a server that answers at once (batch 1; median of {repeats})", flush=True)
        overhead = []
        with Server(0.0, 0.0, 0) as server:
            bodies = bodies_for(server.url, 1, args.words)
            for concurrency in (1, 8, 64) if "overhead" in checks else ():
                runner = [measure_runner(server.url, 1, concurrency, duration, args.words, results) for _ in range(repeats)]
                yard = [measure_yardstick(server.port, 1, concurrency, duration, bodies) for _ in range(repeats)]
                cpu_per_request = statistics.median(s.cpu_s / max(1, s.requests) for s in runner)
                print(f"  concurrency {concurrency:2d}: runner {Row.median(runner, 'requests_per_s'):8.0f} req/s "
                      f"({cpu_per_request * 1e6:5.0f} µs CPU/request, incl. pre-flight), yardstick {Row.median(yard, 'requests_per_s'):8.0f} req/s "
                      f"({statistics.median(s.cpu_s / max(1, s.requests) for s in yard) * 1e6:5.0f} µs)", flush=True)
                overhead.append({"concurrency": concurrency, "runner_requests_per_s": Row.median(runner, "requests_per_s"),
                                 "runner_cpu_per_request_s": cpu_per_request, "yardstick_requests_per_s": Row.median(yard, "requests_per_s")})
        report["overhead"] = overhead

        # 4. AIPerf beside the runner (its own worker processes: nothing pinned)
        pin_cpus(False)
        if "aiperf" not in checks:
            pass
        elif aiperf and shutil.which(aiperf):
            print("4. AIPerf beside the runner (same server, same cells; AIPerf's synthetic prompts differ in length)", flush=True)
            tokenizer = Path(tempfile.mkdtemp(prefix="aiperf-tokenizer-"))
            make_aiperf_tokenizer(aiperf, tokenizer)
            side = []
            with Server(2.0, 0.05, 8) as server:
                for batch, concurrency in ((1, 1), (1, 16), (16, 16), (16, 64)):
                    ours = measure_runner(server.url, batch, concurrency, duration, args.words, results)
                    theirs = measure_aiperf(aiperf, tokenizer, server, batch, concurrency, max(duration, 5.0), args.words)
                    if isinstance(theirs, str):
                        print(f"  batch {batch:2d} × concurrency {concurrency:2d}: AIPerf failed: {theirs}", flush=True)
                        side.append({"batch": batch, "concurrency": concurrency, "runner": ours.items_per_s, "aiperf_error": theirs})
                        continue
                    print(f"  batch {batch:2d} × concurrency {concurrency:2d}: runner {ours.items_per_s:9.1f} items/s, AIPerf {theirs.items_per_s:9.1f} "
                          f"(analytic ceiling {server.analytic_items_per_s(batch):9.1f})", flush=True)
                    side.append({"batch": batch, "concurrency": concurrency, "runner": ours.items_per_s, "aiperf": theirs.items_per_s,
                                 "analytic": server.analytic_items_per_s(batch)})
            report["aiperf"] = side
        else:
            print("4. AIPerf: not installed (python -m venv /tmp/aiperf-venv && /tmp/aiperf-venv/bin/pip install aiperf)", flush=True)
    finally:
        shutil.rmtree(results, ignore_errors=True)
    OUT.mkdir(exist_ok=True)
    path = OUT / f"accuracy-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"saved {path}")
    if failures:
        print("NOT MET: " + "; ".join(failures))
        sys.exit(1)
    print("all checks met")


if __name__ == "__main__":
    main()
