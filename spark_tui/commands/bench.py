"""`spark-tui bench embed|parse|generate …`: run a benchmark headless; `bench runs` / `bench compare A B`: saved runs.

Progress goes to stderr, the final table (or --json, or with --events the run's events as JSON
lines as they happen) to stdout. Exit 0 when every cell ran, 1 when the run or a cell failed (no
answer in the warm-up, or a cell with more than --max-error-rate of its requests failed, wrong
answers included), 2 on bad input, 130 after Ctrl-C (what was measured is kept and its path printed).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from dataclasses import replace
from typing import Any

import msgspec
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from spark_tui.commands import output_console, plain
from spark_tui.core.bench.adapters import (
    ADAPTERS,
    GEN_ADAPTERS,
    adapter_class,
    adapter_names,
)
from spark_tui.core.bench.adapters_base import AdapterOptions
from spark_tui.core.bench.allocator import keep_answers_in_heap
from spark_tui.core.bench.machine import machine_sampler
from spark_tui.core.bench.plan import (
    GIB,
    PRESETS,
    WARMUP_TIMEOUT_S,
    BenchPlan,
    PlanError,
    parse_int_list,
    parse_slo,
    plan_from_settings,
)
from spark_tui.core.bench.plan_form import uses_pages
from spark_tui.core.bench.report import (
    cell_notes,
    fit_columns,
    summary_cells,
    summary_columns,
)
from spark_tui.core.bench.runner import generation_warnings, run_benchmark
from spark_tui.core.bench.saved_runs import (
    compare_runs,
    list_runs,
    load_run,
    resolve_run,
)
from spark_tui.core.bench.stream import EventWriter
from spark_tui.core.masking import mask_text
from spark_tui.core.untrusted import clean
from spark_tui.models.bench import (
    BenchEvent,
    CellFinished,
    CellStarted,
    Notice,
    RunResult,
    RunStarted,
    Tick,
    WarmupTick,
)
from spark_tui.models.settings import Config

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130



def seconds(text: str) -> float:
    """A positive number of seconds, or a message that says what is wrong with it (#14: --duration -5)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a duration: give seconds above 0")
    return value


def count(text: str) -> int:
    """A whole number above 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a count: give a whole number above 0")
    return value

def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "bench",
        help="run an embedding, parse or generation benchmark headless, or list/compare saved runs",
        description="Benchmark a service: a sweep of batch sizes × concurrency, closed loop; results saved under $XDG_DATA_HOME/spark-tui/runs.",
    )
    actions = parser.add_subparsers(dest="bench_action", metavar="ACTION", required=True)
    for kind, help_text in (("embed", "benchmark an embedding server"), ("parse", "benchmark OmniParser or docling-serve"),
                            ("generate", "benchmark a text generation server (streamed: TTFT, ITL, output tokens/s)")):
        sub = actions.add_parser(kind, help=help_text, description=help_text + ". Adapters: " + ", ".join(adapter_names(kind)))  # type: ignore[arg-type]
        _add_run_arguments(sub, kind)
        sub.set_defaults(run=run_bench, bench_kind=kind)
    runs = actions.add_parser("runs", help="list saved runs, newest first")
    runs.add_argument("--out", metavar="DIR", help="runs directory (default: [bench] results_dir or $XDG_DATA_HOME/spark-tui/runs)")
    runs.add_argument("--json", action="store_true", help="print JSON")
    runs.set_defaults(run=run_list)
    compare = actions.add_parser("compare", help="compare two saved runs cell by cell")
    compare.add_argument("a", help="run id (or a unique part of it) or run directory")
    compare.add_argument("b", help="the run to compare against the first")
    compare.add_argument("--out", metavar="DIR", help="runs directory")
    compare.add_argument("--json", action="store_true", help="print JSON")
    compare.set_defaults(run=run_compare)


def _add_run_arguments(parser: argparse.ArgumentParser, kind: str) -> None:
    names = adapter_names(kind)  # type: ignore[arg-type]
    table = GEN_ADAPTERS if kind == "generate" else ADAPTERS
    parser.add_argument("--url", required=True, help="the server's base URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--adapter", required=True, choices=names, metavar="NAME",
                        help="; ".join(f"{n}: {table[n].description}" for n in names))
    parser.add_argument("--model", help="model name to request (default: what the server reports)")
    if kind != "generate":
        parser.add_argument("--batch", metavar="LIST", help=batch_help(names))
    parser.add_argument("--concurrency", metavar="LIST", help="concurrency levels, e.g. 1,4 (requests in flight)")
    parser.add_argument("--duration", type=seconds, metavar="SECONDS", help="seconds per cell (default 20)")
    parser.add_argument("--requests", type=count, metavar="N", help="requests per cell instead of a duration")
    parser.add_argument("--warmup", type=int, metavar="N", help="discarded warm-up requests before the sweep (default 2)")
    parser.add_argument("--warmup-timeout", type=seconds, metavar="SECONDS",
                        help=f"how long a warm-up request may wait for its answer, e.g. while the server loads a model "
                             f"(default {WARMUP_TIMEOUT_S:g}); no answer ends the run")
    parser.add_argument("--timeout", type=seconds, metavar="SECONDS", help="per-request timeout (default 60)")
    parser.add_argument("--memory-floor", type=float, metavar="GIB", help="abort when MemAvailable falls below (default 8)")
    parser.add_argument("--max-error-rate", type=float, metavar="FRACTION",
                        help="a cell with more failed requests (wrong answers included) fails, and concurrency is not raised further (default 0.05)")
    parser.add_argument("--path", help="work endpoint path below the URL (Infinity: /embeddings)")
    parser.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'", help="extra request header (repeatable); secrets are masked in saved results")
    parser.add_argument("--extra-body", metavar="JSON", help='JSON object merged into each request, e.g. \'{"input_type": "passage"}\' for NIM')
    parser.add_argument("--out", metavar="DIR", help="runs directory (default: [bench] results_dir or $XDG_DATA_HOME/spark-tui/runs)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument("--events", action="store_true",
                        help="stream the run's events on stdout, one JSON object per line ({\"type\": …, \"event\": …}), instead of the table")
    if kind == "generate":
        parser.add_argument("--input-tokens", metavar="LIST", help="prompt lengths in tokens, e.g. 128,2048 (default 512); checked against the server's count")
        parser.add_argument("--output-tokens", metavar="LIST", help="output lengths in tokens, e.g. 128,1024 (default 128); every input × output is a cell")
        parser.add_argument("--preset", choices=sorted(PRESETS),
                            help="prefill-decode: input 512…16384 at output 1, then output 128 at depth 32, 4096, 16384, as llama-bench's pp/tg "
                                 "(default then: concurrency 1, 5 requests per cell)")
        parser.add_argument("--shared-prefix", action="store_true", help="prompts share all but their last words (default: every prompt differs from its first token, so prefix caches cannot help)")
        parser.add_argument("--no-ignore-eos", action="store_true", help="do not send ignore_eos / min_tokens (outputs may then stop early)")
        parser.add_argument("--slo", metavar="LIST", help="goodput: share of requests meeting every SLO, e.g. ttft=2s,itl=50ms (also tpot, e2e)")
        parser.add_argument("--keep-alive", metavar="DURATION", help="ollama: keep_alive sent with each request (default 30m)")
    elif kind == "embed":
        parser.add_argument("--words", type=int, metavar="N", help="words per text (default 200)")
        parser.add_argument("--input-field", metavar="KEY", help="nvembed: JSON key of the texts (default texts)")
        parser.add_argument("--keep-alive", metavar="DURATION", help="ollama: keep_alive sent with each request (default 30m)")
    else:
        parser.add_argument("--payload", metavar="LIST", help="omniparser: 1080p,1440p,4k; docling: pdf,html,docx")
        parser.add_argument("--pages", type=int, metavar="N", help="docling: pages per document (default 4)")
        parser.add_argument("--docling-async", choices=("auto", "always", "never"), help="docling: use the async API (auto: documents of 20+ pages)")


def batch_help(names: list[str]) -> str:
    """What a batch counts, per adapter where they differ: 'batch sizes, e.g. 1,8,32 (texts per request)';
    for parse, 'batch sizes, e.g. 1,2,4 (per request: docling: documents of --pages pages; omniparser: 1 frame, fixed)'."""
    counts: dict[str, str] = {}
    for name in names:
        cls = ADAPTERS[name]
        if cls.fixed_batch is not None:
            counts[name] = f"{cls.fixed_batch} {cls.unit.removesuffix('s') if cls.fixed_batch == 1 else cls.unit}, fixed"
        elif uses_pages(cls):
            counts[name] = "documents of --pages pages"
        else:
            counts[name] = cls.unit
    if len(set(counts.values())) == 1:
        return f"batch sizes, e.g. 1,8,32 ({next(iter(counts.values()))} per request)"
    return "batch sizes, e.g. 1,2,4 (per request: " + "; ".join(f"{name}: {what}" for name, what in sorted(counts.items())) + ")"


def build_plan(args: argparse.Namespace, config: Config) -> BenchPlan:
    """The plan from [bench] settings and flags; PlanError (one line) on bad input."""
    kind = args.bench_kind
    try:
        adapter_class(args.adapter, kind)
    except ValueError as exc:
        raise PlanError(str(exc)) from None
    plan = plan_from_settings(config.bench, kind, args.adapter, args.url)
    changes: dict[str, Any] = {}
    if kind == "generate":
        changes.update(generation_changes(args))
    if getattr(args, "batch", None):
        changes["batch_sizes"] = parse_int_list(args.batch, "--batch")
    if args.concurrency:
        changes["concurrencies"] = parse_int_list(args.concurrency, "--concurrency")
    if args.duration is not None:
        changes["duration_s"] = args.duration
        changes["requests"] = None if args.requests is None else args.requests
    if args.requests is not None:
        changes["requests"] = args.requests
    if args.warmup is not None:
        changes["warmup_requests"] = args.warmup
    if args.warmup_timeout is not None:
        changes["warmup_timeout_s"] = args.warmup_timeout
    if args.timeout is not None:
        changes["timeout_s"] = args.timeout
    if args.memory_floor is not None:
        changes["memory_floor_bytes"] = int(args.memory_floor * GIB)
    if args.max_error_rate is not None:
        changes["max_error_rate"] = args.max_error_rate
    if getattr(args, "payload", None):
        changes["payloads"] = tuple(p.strip().lower() for p in args.payload.split(",") if p.strip())
    options: dict[str, Any] = {"model": args.model, "path": args.path, "headers": tuple(_parse_header(h) for h in args.header)}
    if args.extra_body:
        options["extra_body"] = _parse_extra_body(args.extra_body)
    for flag, field in (("input_field", "input_field"), ("keep_alive", "keep_alive"), ("docling_async", "docling_async")):
        if getattr(args, flag, None):
            options[field] = getattr(args, flag)
    payload: dict[str, Any] = {}
    if getattr(args, "words", None) is not None:
        payload["text_words"] = args.words
    if getattr(args, "pages", None) is not None:
        payload["doc_pages"] = args.pages
    plan = replace(plan, options=AdapterOptions(**options), payload=replace(plan.payload, **payload), **changes)
    plan.validate()
    return plan


def generation_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The plan's generation fields from the flags: lengths (a preset's, or every input × output), SLOs."""
    changes: dict[str, Any] = {"shared_prefix": args.shared_prefix, "force_length": not args.no_ignore_eos}
    if args.preset:
        if args.input_tokens or args.output_tokens:
            raise PlanError(f"--preset {args.preset} sets the lengths: leave out --input-tokens and --output-tokens")
        changes["lengths"] = PRESETS[args.preset]
        if not args.concurrency:
            changes["concurrencies"] = (1,)
        if args.requests is None and args.duration is None:
            changes["requests"] = 5
    elif args.input_tokens or args.output_tokens:
        inputs = parse_int_list(args.input_tokens, "--input-tokens") if args.input_tokens else (512,)
        outputs = parse_int_list(args.output_tokens, "--output-tokens") if args.output_tokens else (128,)
        changes["lengths"] = tuple((i, o) for i in inputs for o in outputs)
    if args.slo:
        changes["slo"] = parse_slo(args.slo)
    return changes


def _parse_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or any(c in name for c in " \t\r\n"):
        raise PlanError(f"--header {mask_text(text)!r}: expected 'Name: value'")
    if "\r" in value or "\n" in value:
        raise PlanError(f"--header {name.strip()}: the value cannot contain line breaks")
    return name.strip(), value.strip()


def _parse_extra_body(text: str) -> dict[str, Any]:
    try:
        value = msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        raise PlanError(f"--extra-body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise PlanError("--extra-body must be a JSON object, e.g. '{\"input_type\": \"passage\"}'")
    return value


class Progress:
    """Progress lines on stderr: a line per cell, a live status line on a terminal."""

    def __init__(self, stream: Any, quiet: bool) -> None:
        self.stream = stream
        self.quiet = quiet
        self.live = bool(getattr(stream, "isatty", lambda: False)())
        self.unit = "items"
        self._status_shown = False
        self._warmup_lines = 0  # without a terminal: one warm-up line per WARMUP_LINE_S

    WARMUP_LINE_S = 10

    def __call__(self, event: BenchEvent) -> None:
        if self.quiet:
            return
        if isinstance(event, WarmupTick):
            if self.live:
                self.status(event.text())
            elif event.waited_s >= self._warmup_lines * self.WARMUP_LINE_S:
                self._warmup_lines = int(event.waited_s // self.WARMUP_LINE_S) + 1
                self.line(event.text())
            return
        if isinstance(event, RunStarted):
            server = event.server
            facts = [f for f in (server.server, f"model {server.model}" if server.model else None,
                                 f"max batch {server.max_batch}" if server.max_batch else None,
                                 f"dimension {server.dimension}" if server.dimension else None) if f]
            self.line(f"{server.adapter} at {server.url}" + (f": {', '.join(facts)}" if facts else ""))
            if event.run_dir:
                self.line(f"saving to {event.run_dir}")
        elif isinstance(event, CellStarted):
            spec = event.spec
            length = f"{spec.requests} requests" if spec.requests else f"{spec.duration_s:g} s"
            what = (f"input {spec.input_tokens} tokens, output {spec.output_tokens}" if spec.input_tokens is not None
                    else f"{spec.payload}, batch {spec.batch}")
            self.line(f"cell {spec.index + 1}/{event.total_cells}: {what}, concurrency {spec.concurrency} ({length})")
        elif isinstance(event, Tick) and self.live and event.cell is not None:
            p50 = f"{event.p50_s * 1000:.0f}" if event.p50_s is not None else "n/a"
            p99 = f"{event.p99_s * 1000:.0f}" if event.p99_s is not None else "n/a"
            self.status(f"  {event.progress:4.0%}  {event.items_per_s:9.1f} {self.unit}/s  {event.requests_per_s:7.1f} req/s  "
                        f"p50 {p50} ms  p99 {p99} ms  errors {event.cell_errors}")
        elif isinstance(event, CellFinished) and event.summary.status == "skipped":
            spec = event.summary.spec
            self.line(f"cell {spec.index + 1}: {spec.payload}, batch {spec.batch}, concurrency {spec.concurrency} skipped — {event.summary.reason}")
        elif isinstance(event, CellFinished):
            s = event.summary
            rate = f"{s.items_per_s:.1f} {self.unit}/s" if s.items_per_s is not None else "n/a"
            p50 = f", p50 {s.latency.p50 * 1000:.1f} ms" if s.latency else ""
            if s.ttft is not None:
                rate = f"{s.output_tokens_per_s or 0:.1f} output tokens/s"
                p50 = f", TTFT p50 {s.ttft.p50 * 1000:.1f} ms" + (f", ITL p50 {s.itl.p50 * 1000:.2f} ms" if s.itl else "")
            extra = f" — {s.reason}" if s.reason else ""
            self.line(f"  {s.status}: {rate}{p50}, {s.error_count} errors{extra}")
        elif isinstance(event, Notice):
            self.line(f"{event.level}: {event.message}")

    def status(self, text: str) -> None:
        """The live status line of a terminal, overwritten by the next one."""
        self.stream.write("\r\x1b[K" + text)
        self.stream.flush()
        self._status_shown = True

    def line(self, text: str) -> None:
        if self._status_shown:
            self.stream.write("\r\x1b[K")
            self._status_shown = False
        self.stream.write(text + "\n")
        self.stream.flush()


def run_bench(args: argparse.Namespace, config: Config) -> int:
    err = sys.stderr
    try:
        plan = build_plan(args, config)
    except PlanError as exc:
        print(f"spark-tui bench: {exc}", file=err)
        return EXIT_USAGE
    progress = Progress(err, args.quiet)
    progress.unit = adapter_class(plan.adapter, plan.kind).unit
    cancel = threading.Event()
    sampler, sources = machine_sampler(args.demo)  # with --demo: this machine's memory, no simulated GPU
    environment = {"machine_readings": "memory only (--demo)"} if args.demo else None
    listener: Any = EventWriter(sys.stdout.buffer, cancel) if args.events else progress

    def on_sigint(signum: int, frame: Any) -> None:
        cancel.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C stops at once
        progress.line("stopping: keeping what was measured (Ctrl-C again to quit at once)")

    previous = signal.signal(signal.SIGINT, on_sigint) if threading.current_thread() is threading.main_thread() else None
    keep_answers_in_heap()  # the command only runs the benchmark
    try:
        result = run_benchmark(plan, listener, cancel, sampler, results_dir=args.out or config.bench.results_dir, environment_extra=environment)
    except PlanError as exc:
        print(f"spark-tui bench: {exc}", file=err)
        return EXIT_USAGE
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        if sources is not None:
            sources.close()
    if args.json and not args.events:
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(result), indent=2).decode() + "\n")
    elif not args.events:
        print_result(output_console(), result, progress.unit)
    if result.status == "cancelled":
        print(f"cancelled: what was measured is saved in {result.run_dir}" if result.run_dir
              else "cancelled before the server answered: nothing measured, nothing saved", file=err)
        return EXIT_CANCELLED
    return EXIT_FAILED if result.failed else EXIT_OK


def print_result(console: Console, result: RunResult, unit: str) -> None:
    if result.cells:
        columns = summary_columns(unit, result.cells)
        rows = [summary_cells(summary, result.cells) for summary in result.cells]
        keep = fit_columns(columns, rows, console.width)
        table = Table(title=f"{result.run_id} ({result.status})", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False,
                      collapse_padding=True)
        for i in keep:
            table.add_column(columns[i].header, justify="left" if columns[i].text else "right", no_wrap=True)
        for row in rows:
            table.add_row(*(row[i] for i in keep))
        console.print(table)
        if len(keep) < len(columns):
            console.print(f"({len(columns) - len(keep)} more columns on a wider terminal; summary.csv has them all)", soft_wrap=True)
        for note in cell_notes(result.cells):
            console.print(note, soft_wrap=True)
        if any(s.tokens_estimated for s in result.cells if s.tokens_per_s is not None):
            sources = {s.tokens_source for s in result.cells if s.tokens_estimated and s.tokens_source}
            console.print("~ tokens estimated" + (f" ({'; '.join(sorted(sources))})" if sources else " (the server does not report them)"), soft_wrap=True)
        owns = {s.tokens_source for s in result.cells if s.tokens_source and s.tokens_source.startswith("the server's own count")}
        if owns:
            console.print(f"? tok/s: {'; '.join(sorted(owns))}", soft_wrap=True)
        for summary in result.cells:
            for warning in generation_warnings(summary):
                console.print(warning, soft_wrap=True)
    if result.reason:
        console.print(f"{result.status}: {result.reason}", soft_wrap=True)
    if result.run_dir:
        console.print(f"results: {result.run_dir}", soft_wrap=True)
    elif result.status != "cancelled":
        console.print("nothing was measured, so no run is saved", soft_wrap=True)


def run_list(args: argparse.Namespace, config: Config) -> int:
    runs = []
    for run in list_runs(args.out or config.bench.results_dir):
        if run.problem and run.problem.startswith("run.json"):  # damaged or missing: one line, not listed
            print(f"skipped {run.directory}: {mask_text(run.problem)[:300]}", file=sys.stderr)
            continue
        runs.append(run)
    if args.json:
        rows = [{"run_id": r.run_id, "directory": str(r.directory), "status": r.status, "kind": r.kind, "adapter": r.adapter,
                 "url": r.url, "model": r.server.model if r.server else None, "started_at": r.started_at,
                 "cells": len(r.cells), "cells_done": r.cells_done, "best_items_per_s": r.best_items_per_s,
                 "reason": r.reason, "problem": r.problem} for r in runs]
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(rows), indent=2).decode() + "\n")
        return EXIT_OK
    console = output_console()
    if not runs:
        console.print("no saved runs yet: `spark-tui bench embed --url … --adapter …` makes one")
        return EXIT_OK
    table = Table(title_justify="left")
    for header in ("run", "started", "status", "adapter", "model", "cells", "best items/s"):
        table.add_column(header, no_wrap=True)
    for r in runs:
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.started_at)) if r.started_at else "n/a"
        best = f"{r.best_items_per_s:,.1f}" if r.best_items_per_s is not None else "n/a"
        status = Text(r.status + (f": {clean(r.reason, max_len=60)}" if r.reason and r.status != "completed" else ""))
        table.add_row(r.run_id, started, status, r.adapter or "n/a", plain((r.server.model if r.server else None) or "n/a"),
                      f"{r.cells_done}/{len(r.cells)}", best)
    console.print(table)
    return EXIT_OK


def run_compare(args: argparse.Namespace, config: Config) -> int:
    base = args.out or config.bench.results_dir
    try:
        a, b = (load_run(resolve_run(name, base)) for name in (args.a, args.b))
    except ValueError as exc:
        print(f"spark-tui bench compare: {exc}", file=sys.stderr)
        return EXIT_USAGE
    rows = compare_runs(a, b)
    if args.json:
        sys.stdout.write(msgspec.json.format(msgspec.json.encode({"a": a.run_id, "b": b.run_id, "cells": rows}), indent=2).decode() + "\n")
        return EXIT_OK
    console = output_console()
    table = Table(title=f"A = {a.run_id}   B = {b.run_id}", title_justify="left")
    for header in ("payload", "batch", "conc", "A items/s", "B items/s", "B/A", "A p99 ms", "B p99 ms"):
        table.add_column(header, justify="right", no_wrap=True)

    def rate(s: Any) -> str:
        return f"{s.items_per_s:,.1f}" if s is not None and s.items_per_s is not None else "n/a"

    def p99(s: Any) -> str:
        return f"{s.latency.p99 * 1000:.1f}" if s is not None and s.latency is not None else "n/a"

    for row in rows:
        ratio = f"{row.items_per_s_ratio:.2f}×" if row.items_per_s_ratio is not None else "n/a"
        table.add_row(row.payload, str(row.batch), str(row.concurrency), rate(row.a), rate(row.b), ratio, p99(row.a), p99(row.b))
    console.print(table)
    return EXIT_OK
