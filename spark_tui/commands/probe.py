"""`spark-tui probe [NAME…] [--json]`: check the services once and exit.

Probes come from the config's [[probes]] and, when a Docker engine answers, from the running
containers (discovery failing is a note on stderr, not an error). Exit status: 0 when every
checked probe answers, 1 when one is down (with --strict, degraded too), 2 for a bad name or
config — so `spark-tui probe vllm` works as a systemd or cron health check. With --json stdout
is always one JSON object (no probes: an empty list and a note). `--demo` shows the simulated
Spark's services as the dashboard's demo does (no network).

`collect_probes` / `render_probes` give the `snapshot` command its services section.
"""

from __future__ import annotations

import argparse
import sys
import time

from rich.console import Console
from rich.table import Table
from rich.text import Text

from spark_tui.commands import demo_fleet, output_console, plain, with_sources, write_json
from spark_tui.models.settings import Config, ConfigError
from spark_tui.models.containers import Container
from spark_tui.models.probes import ProbeResult, ProbeSnapshot, ProbeSpec, ProbeState
from spark_tui.core.services.text import describe_service, latency
from spark_tui.core.services.discovery import plan_probes
from spark_tui.core.services.presets import configured_probes

EXIT_OK, EXIT_DOWN, EXIT_USAGE = 0, 1, 2
DISCOVERY_TIMEOUT_S = 5.0
NO_PROBES = "no probes: add [[probes]] to the config file, or start a service container"
DEMO_NOTE = "simulated services (--demo): the demo's latest checks, no network"

# Where each figure of a probe's JSON comes from (the same words as the table's columns).
PROBE_SOURCES = {
    "results[].state": "the probe's own check of the service (kind: its preset; see `spark-tui probe --help`)",
    "results[].latency_ms": "the health request's round trip, from sending it to the last byte of the answer (TCP kinds: the connect)",
    "results[].status_code": "the service's HTTP answer to the health request",
    "results[].model": "the service's own answer (e.g. /v1/models, /api/ps, /info, /props)",
    "results[].version": "the service's own answer (e.g. /version, /api/version, /info)",
    "results[].models": "the service's model list (e.g. /v1/models, /api/tags and /api/ps)",
    "results[].details": "the service's own answer: limits, device, loaded memory (Ollama's size_vram)",
    "results[].error": "what went wrong, in words: the service's message or the connection's failure",
}
DEMO_SOURCES = {key: "simulated (--demo): the demo's services, no network" for key in PROBE_SOURCES}

STATE_STYLE = {
    ProbeState.UP: "green",
    ProbeState.DEGRADED: "yellow",
    ProbeState.DOWN: "bold red",
    ProbeState.UNKNOWN: "dim",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "probe",
        help="check the services once (configured and discovered probes) and exit",
        description=(
            "Check each probe once and print the results. Exit status: 0 when every checked probe "
            "answers, 1 when one is down (or degraded, with --strict), 2 for an unknown name or a config error."
        ),
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="probes to check (default: all)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--no-discover", action="store_true", help="skip discovery: only the probes in the config file")
    parser.add_argument("--strict", action="store_true", help="a degraded probe (slow, not ready) also fails")
    parser.set_defaults(run=run)


def running_containers(config: Config) -> tuple[list[Container], str | None]:
    """The running containers, or none and why (a note for the user)."""
    import docker.errors

    from spark_tui.core.docker.containers import running_for_discovery
    from spark_tui.core.docker.engine import DockerEngine, DockerUnavailable

    engine = DockerEngine(host=config.docker.host, timeout=DISCOVERY_TIMEOUT_S)
    try:
        containers = running_for_discovery(engine)
    except DockerUnavailable as exc:
        return [], f"no discovery: {exc}"
    except docker.errors.APIError as exc:
        return [], f"no discovery: the Docker engine refused to list containers: {exc.explanation or exc}"
    finally:
        engine.close()
    return containers, None


def probe_specs(config: Config, *, discover: bool = True) -> tuple[list[ProbeSpec], list[str]]:
    """Configured probes plus discovered ones, and notes; ConfigError for duplicate names."""
    configured = configured_probes(config.probes)
    notes: list[str] = []
    containers: list[Container] = []
    if discover:
        containers, problem = running_containers(config)
        if problem:
            notes.append(problem)
    return plan_probes(configured, containers), notes


def collect_probes(args: argparse.Namespace, config: Config) -> ProbeSnapshot:
    """Every probe checked once (blocking, at most the longest probe timeout plus discovery);
    the snapshot command's services section."""
    if getattr(args, "demo", False):
        return demo_snapshot()
    from spark_tui.core.services.engine import check_once_blocking

    try:
        specs, notes = probe_specs(config, discover=not getattr(args, "no_discover", False))
    except ConfigError as exc:
        return ProbeSnapshot(results=(), notes=(str(exc),))
    results = check_once_blocking(specs) if specs else []
    if not specs:
        notes.append(NO_PROBES)
    return ProbeSnapshot(results=tuple(results), notes=tuple(notes))


def demo_snapshot() -> ProbeSnapshot:
    """`snapshot --demo`: the simulated Spark's services, as the dashboard's demo shows them."""
    results, notes = demo_results()
    return ProbeSnapshot(results=tuple(results), notes=tuple(notes))


def demo_results() -> tuple[list[ProbeResult], list[str]]:
    """The simulated Spark's services, each as its latest check (no network), and the note saying so."""
    from spark_tui.core.demo.probes import DemoProbes

    probes = DemoProbes(fleet=demo_fleet())  # a stopped demo container's service refuses connections
    results = [event.status.result for event in probes.replay() if event.status.result is not None]
    return results, [DEMO_NOTE]


def run(args: argparse.Namespace, config: Config) -> int:
    if args.demo:
        results, notes = demo_results()
        by_name: dict[str, ProbeSpec | ProbeResult] = {result.name: result for result in results}
    else:
        # configured probes win over discovered ones: when every name is one, Docker has nothing to add
        configured = {probe.name for probe in config.probes if probe.enabled}
        discover = not args.no_discover and not (args.names and set(args.names) <= configured)
        try:
            specs, notes = probe_specs(config, discover=discover)
        except ConfigError as exc:
            print(f"spark-tui: {exc}", file=sys.stderr)
            return EXIT_USAGE
        by_name = {spec.name: spec for spec in specs}
    unknown = [name for name in args.names if name not in by_name]
    for note in notes:
        print(f"spark-tui probe: {note}", file=sys.stderr)
    if unknown:
        known = ", ".join(by_name) or "none"
        print(f"spark-tui probe: no probe named {', '.join(map(repr, unknown))} (known: {known})", file=sys.stderr)
        return EXIT_USAGE
    selected = [by_name[name] for name in dict.fromkeys(args.names)] or list(by_name.values())
    if not selected:
        notes.append(NO_PROBES)
        if args.json:  # a script reading stdout gets an answer it can parse, not nothing
            write_json(probes_json(ProbeSnapshot(results=(), notes=tuple(notes)), demo=args.demo))
        else:
            print(f"spark-tui probe: {NO_PROBES}", file=sys.stderr)
        return EXIT_OK
    if args.demo:
        results = [item for item in selected if isinstance(item, ProbeResult)]  # the demo's checks are made
    else:
        from spark_tui.core.services.engine import check_once_blocking

        results = check_once_blocking([item for item in selected if isinstance(item, ProbeSpec)])
    if args.json:
        write_json(probes_json(ProbeSnapshot(results=tuple(results), notes=tuple(notes)), demo=args.demo))
    else:
        render_results(output_console(), results)
    failing = {ProbeState.DOWN, ProbeState.DEGRADED} if args.strict else {ProbeState.DOWN}
    return EXIT_DOWN if any(result.state in failing for result in results) else EXIT_OK


def probes_json(snapshot: ProbeSnapshot, *, demo: bool) -> dict[str, object]:
    """The results as they came (external text unchanged), `sources` beside them."""
    return with_sources(snapshot, DEMO_SOURCES if demo else PROBE_SOURCES)


# -- tables --------------------------------------------------------------------------------------


NARROW_CONSOLE = 120  # below this many columns: one line per probe, details clipped


def render_results(console: Console, results: list[ProbeResult] | tuple[ProbeResult, ...]) -> None:
    """A row per probe; the SERVES and PROBLEM columns only when some row has something to say.
    On a narrow terminal: one line per probe, with the problem (or what it serves) and the
    target clipped to fit."""
    serves = [describe_service(result) for result in results]
    problems = [result.error or "" for result in results]
    table = Table(box=None, padding=(0, 1), pad_edge=False, header_style="bold")
    narrow = console.width < NARROW_CONSOLE
    if narrow:
        firsts = [[r.name for r in results], [r.state.value for r in results], [latency(r.latency_ms) for r in results]]
        widths = [max(len(title), *(len(c) for c in cells)) for title, cells in zip(("NAME", "STATE", "LATENCY"), firsts, strict=True)]
        for title, width in zip(("NAME", "STATE", "LATENCY"), widths, strict=True):
            table.add_column(title, no_wrap=True, width=width)
        room = max(20, console.width - sum(widths) - 8)  # four two-cell gaps between five columns
        targets = [r.target.removeprefix("http://") for r in results]  # plain http is the usual case: say less
        target = min(max(len(t) for t in targets), room // 2)  # host:port whole where it fits
        table.add_column("PROBLEM OR SERVES", no_wrap=True, overflow="ellipsis", width=room - target)
        table.add_column("TARGET", no_wrap=True, overflow="ellipsis", width=target)
        for result, problem, serve, shown_target in zip(results, problems, serves, targets, strict=True):
            state = Text(result.state.value, style=STATE_STYLE[result.state])
            table.add_row(plain(result.name), state, latency(result.latency_ms), plain(problem or serve), plain(shown_target))
        console.print(table)
        return
    for column in ("NAME", "STATE", "LATENCY", "KIND"):
        table.add_column(column, no_wrap=True)
    optional = [("SERVES", serves), ("TARGET", [r.target for r in results]), ("PROBLEM", problems)]
    shown = [(title, cells) for title, cells in optional if title == "TARGET" or any(cells)]
    for title, _ in shown:
        table.add_column(title, overflow="fold")
    for index, result in enumerate(results):
        state = Text(result.state.value, style=STATE_STYLE[result.state])
        row = (plain(cells[index]) for _, cells in shown)  # services' answers: plain text, control bytes shown
        table.add_row(plain(result.name), state, latency(result.latency_ms), plain(result.kind), *row)
    console.print(table)


def render_probes(console: Console, snapshot: ProbeSnapshot) -> None:
    """The snapshot command's services section."""
    when = time.strftime("%H:%M:%S", time.localtime(max((r.checked_at for r in snapshot.results), default=time.time())))
    console.print(Text.assemble(("Services", "bold"), f" · checked {when}"))
    if snapshot.results:
        render_results(console, snapshot.results)
    for note in snapshot.notes:
        line = plain(f"  {note}")  # a note may quote the Docker engine's message
        line.stylize("dim")
        console.print(line)
