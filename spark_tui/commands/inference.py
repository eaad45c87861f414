"""`spark-tui inference [NAME…] [--url URL] [--window SECONDS] [--json]`: what each model server
is doing, measured over a window (two scrapes of its own metrics), then exit.

The servers: the configured and discovered services whose preset is an inference engine, and
the config's [[inference]] entries; `--url` adds (or, with no NAME, replaces them with) servers
given by hand, their engine found from the metric names. Rates are counter increases over the
window; latencies are percentiles of the histograms' increases over it. A server whose metrics
are switched off says how to turn them on. Exit status: 0 when every server answered (metrics
off included), 1 when one could not be read, 2 for an unknown name or a config error.

HTTP: httpx, blocking, one client per server, every server scraped at once in its own thread;
`--timeout` bounds each request (a hung server costs at most that, twice).

`collect_inference` / `render_inference` give the `snapshot` command its inference section.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from spark_tui.commands import output_console, plain, seconds_arg, write_json
from spark_tui.models.settings import Config, ConfigError

if TYPE_CHECKING:
    from spark_tui.core.inference.scrape import InferenceTarget
    from spark_tui.models.inference import InferenceFigures

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_WINDOW_S = 2.0
SNAPSHOT_WINDOW_S = 1.0  # the snapshot waits this long between its two scrapes
DEFAULT_TIMEOUT_S = 3.0
_window = seconds_arg(600)  # --window and --timeout
MAX_BODY_BYTES = 32 * 1024 * 1024  # a metrics page past this is not read whole
NO_SERVERS = "no inference servers: start a model server container, or add [[inference]] (or --url) to the config"
DEMO_NOTE = "simulated (--demo): the demo's vLLM and Ollama pages, read by the same parser, no network"
BlockingFetch = Callable[[str], tuple[int, bytes]]

INFERENCE_SOURCES = {
    "servers[]": "each server's own metrics page (Ollama: /api/ps); servers[].sources names the metric behind each figure",
    "servers[].running": "the engine's gauge of requests being computed, at the second scrape",
    "servers[].waiting": "the engine's gauge of queued requests, at the second scrape",
    "servers[].kv_cache_usage": "the engine's KV-cache gauge, 0–1 (the fullest engine or rank)",
    "servers[].prompt_tokens_per_s": "the prompt-token counter's increase over the window ÷ the window",
    "servers[].generation_tokens_per_s": "the generated-token counter's increase over the window ÷ the window",
    "servers[].ttft": "time to first token, seconds: histogram_quantile over the window's bucket increases",
    "servers[].itl": "inter-token latency, seconds: as ttft (llama.cpp: a mean only)",
    "servers[].problem": "why figures are missing, in words; metrics off: how to turn them on",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "inference",
        help="measure the model servers' load (tokens/s, queue, KV cache, latency) over a window and exit",
        description=(
            "Scrape each inference server's own metrics twice, --window seconds apart, and print its load. "
            "Exit status: 0 when every server answered, 1 when one could not be read, 2 for an unknown name "
            "or a config error."
        ),
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="servers to measure (default: all known)")
    parser.add_argument("--url", action="append", default=[], metavar="URL",
                        help="a server's base URL, e.g. http://127.0.0.1:8000 (repeatable; engine found from its metrics)")
    parser.add_argument("--window", type=_window, default=DEFAULT_WINDOW_S, metavar="SECONDS",
                        help=f"seconds between the two scrapes (default {DEFAULT_WINDOW_S:g})")
    parser.add_argument("--timeout", type=_window, default=DEFAULT_TIMEOUT_S, metavar="SECONDS",
                        help=f"seconds each request may take (default {DEFAULT_TIMEOUT_S:g})")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--no-discover", action="store_true", help="skip discovery: only the config's servers and --url")
    parser.set_defaults(run=run)


# -- which servers ------------------------------------------------------------------------------


def engine_of(kind: str) -> str | None:
    from spark_tui.core.services.presets import ENGINE_PRESETS

    preset = ENGINE_PRESETS.get(kind)
    return preset.engine if preset is not None else None


def known_targets(config: Config, *, discover: bool = True) -> tuple[list[InferenceTarget], list[str]]:
    """The config's [[inference]] entries and the engine services among the probes; notes. ConfigError
    for a duplicate probe name."""
    from spark_tui.commands.probe import probe_specs
    from spark_tui.core.inference.targets import plan_targets

    specs, notes = probe_specs(config, discover=discover)
    return plan_targets(specs, config.inference, engine_of), notes


def url_target(url: str) -> InferenceTarget:
    from urllib.parse import urlsplit

    from spark_tui.core.inference.scrape import InferenceTarget

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--url: expected http://host:port, got {url!r}")
    return InferenceTarget(parts.netloc.rsplit("@", 1)[-1], url)


# -- measuring ----------------------------------------------------------------------------------


def httpx_fetch(timeout: float) -> tuple[BlockingFetch, Callable[[], None]]:
    """A blocking fetch on its own httpx client (and its close): any status, at most MAX_BODY_BYTES."""
    import httpx

    client = httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False,
                          headers={"Accept": "text/plain, application/json;q=0.9, */*;q=0.5"})

    def fetch(url: str) -> tuple[int, bytes]:
        with client.stream("GET", url) as response:
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise ValueError(f"answer too large (over {MAX_BODY_BYTES >> 20} MiB)")
            return response.status_code, b"".join(chunks)

    return fetch, client.close


def measure(targets: Sequence[InferenceTarget], window: float, *, timeout: float = DEFAULT_TIMEOUT_S,
            fetch_for: Callable[[InferenceTarget], tuple[BlockingFetch, Callable[[], None]]] | None = None,
            sleep: Callable[[float], None] = time.sleep) -> list[InferenceFigures]:
    """Two scrapes of every target, `window` seconds apart (all targets at once); their figures."""
    from spark_tui.core.inference.scrape import InferenceTracker

    if not targets:
        return []
    make = fetch_for or (lambda _target: httpx_fetch(timeout))
    trackers = [InferenceTracker(target, latency_window_s=window) for target in targets]
    fetches = [make(target) for target in targets]
    try:
        with ThreadPoolExecutor(max_workers=min(16, len(targets)), thread_name_prefix="inference") as pool:
            def poll_all() -> list[InferenceFigures]:
                jobs = [pool.submit(tracker.poll_blocking, fetch, timeout=timeout)
                        for tracker, (fetch, _close) in zip(trackers, fetches, strict=True)]
                return [job.result() for job in jobs]

            first = poll_all()
            started = min((t.last.at for t in trackers if t.last is not None), default=time.monotonic())
            sleep(max(0.0, started + window - time.monotonic()))
            second = poll_all()
    finally:
        for _fetch, close in fetches:
            close()
    del first  # the baseline: the figures are the second scrape's, rates over the pair
    return second


def demo_measure(window: float, names: Sequence[str], sleep: Callable[[float], None] = time.sleep) -> list[InferenceFigures]:
    from spark_tui.commands import demo_fleet
    from spark_tui.core.demo.inference import DemoInference

    demo = DemoInference(demo_fleet())
    targets = [t for t in demo.targets() if not names or t.name in names]
    return measure(targets, window, fetch_for=lambda _t: (demo.fetch, lambda: None), sleep=sleep)


# -- the command --------------------------------------------------------------------------------


def run(args: argparse.Namespace, config: Config) -> int:
    notes: list[str] = []
    if args.demo:
        from spark_tui.core.demo.inference import demo_targets

        by_name = {target.name: target for target in demo_targets()}
        notes.append(DEMO_NOTE)
    else:
        try:
            extra = [url_target(url) for url in args.url]
        except ValueError as exc:
            print(f"spark-tui inference: {exc}", file=sys.stderr)
            return EXIT_USAGE
        if extra and not args.names:
            targets: list[InferenceTarget] = []  # --url alone: just those
        else:
            configured = {entry.name for entry in config.inference if entry.name} | {
                probe.name for probe in config.probes if probe.enabled}
            discover = not args.no_discover and not (args.names and set(args.names) <= configured)
            try:
                targets, found_notes = known_targets(config, discover=discover)
            except ConfigError as exc:
                print(f"spark-tui: {exc}", file=sys.stderr)
                return EXIT_USAGE
            notes += found_notes
        by_name = {target.name: target for target in targets}
        for target in extra:
            by_name.setdefault(target.name, target)
    for note in notes:
        print(f"spark-tui inference: {note}", file=sys.stderr)
    unknown = [name for name in args.names if name not in by_name]
    if unknown:
        known = ", ".join(by_name) or "none"
        print(f"spark-tui inference: no inference server named {', '.join(map(repr, unknown))} (known: {known})",
              file=sys.stderr)
        return EXIT_USAGE
    wanted = set(args.names)
    if args.names and args.url:
        wanted |= {url_target(url).name for url in args.url}
    selected = [target for name, target in by_name.items() if not wanted or name in wanted]
    if not selected:
        if args.json:
            write_json({"servers": []})
        else:
            print(f"spark-tui inference: {NO_SERVERS}", file=sys.stderr)
        return EXIT_OK
    if args.demo:
        figures = demo_measure(args.window, [t.name for t in selected])
    else:
        figures = measure(selected, args.window, timeout=args.timeout)
    document = inference_json(figures)
    if args.json:
        write_json(document)
    else:
        render_servers(output_console(), document["servers"])
    failed = any(f.problem_kind is not None and f.problem_kind.value == "error" for f in figures)
    return EXIT_FAILED if failed else EXIT_OK


def inference_json(figures: Sequence[InferenceFigures]) -> dict[str, Any]:
    """The issue's shape: {"servers": [...]}; external text as it came."""
    return {"servers": [f.to_json() for f in figures]}


# -- the snapshot's section ------------------------------------------------------------------------


def collect_inference(args: argparse.Namespace, config: Config) -> dict[str, Any]:
    """Every known inference server measured over SNAPSHOT_WINDOW_S; the snapshot's inference section."""
    if getattr(args, "demo", False):
        return {**inference_json(demo_measure(SNAPSHOT_WINDOW_S, ())), "notes": [DEMO_NOTE]}
    try:
        targets, notes = known_targets(config, discover=not getattr(args, "no_discover", False))
    except ConfigError as exc:
        return {"servers": [], "notes": [str(exc)]}
    if not targets:
        notes.append(NO_SERVERS)
    return {**inference_json(measure(targets, SNAPSHOT_WINDOW_S)), "notes": notes}


def render_inference(console: Console, section: dict[str, Any]) -> None:
    console.print(Text.assemble(("Inference", "bold"), f" · over {SNAPSHOT_WINDOW_S:g} s"))
    if section["servers"]:
        render_servers(console, section["servers"])
    for note in section.get("notes", ()):
        line = plain(f"  {note}")
        line.stylize("dim")
        console.print(line)


# -- tables ---------------------------------------------------------------------------------------


NA = "–"


def _num(value: float | None, digits: int = 1) -> str:
    return NA if value is None else f"{value:,.{digits}f}"


def _count(value: float | None) -> str:
    return NA if value is None else f"{value:g}"


def _seconds(value: float | None) -> str:
    if value is None:
        return NA
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def render_servers(console: Console, servers: Sequence[dict[str, Any]]) -> None:
    """A row per server (figures from its JSON); PROBLEM only when some row has one."""
    from spark_tui.core.inference.engines import engine_label

    table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold")
    narrow = console.width < 120
    columns = ["NAME", "ENGINE", "RUN/WAIT", "GEN TOK/S", "PROMPT TOK/S", "KV", "TTFT p50", "ITL p50"]
    if not narrow:
        columns.insert(2, "MODEL")
    for title in columns:
        table.add_column(title, no_wrap=True, justify="right" if "TOK" in title or title in ("KV", "RUN/WAIT") else "left")
    problems = any(server["problem"] for server in servers)
    if problems:
        table.add_column("PROBLEM", overflow="fold" if not narrow else "ellipsis", no_wrap=narrow)
    for server in servers:
        kv = server["kv_cache_usage"]
        run_wait = NA if server["running"] is None and server["waiting"] is None else \
            f"{_count(server['running'])}/{_count(server['waiting'])}"
        cells: list[Text | str] = [
            plain(server["name"]), engine_label(server["engine"]) or NA,
            run_wait, _num(server["generation_tokens_per_s"]), _num(server["prompt_tokens_per_s"]),
            NA if kv is None else f"{kv * 100:.0f}%", _seconds(server["ttft"]["p50"]), _seconds(server["itl"]["p50"]),
        ]
        if not narrow:
            cells.insert(2, plain(server["model"] or NA))
        if problems:
            cells.append(plain(server["problem"] or ""))
        table.add_row(*cells)
    console.print(table)
