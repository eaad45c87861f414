"""`spark-tui profiles [--json]` and `spark-tui profile up|down PROFILE [--project P] [--remove]`.

`profile` does exactly what the dashboard's toggle does: the same compose command, the same
memory check before starting and the same dry run for running containers outside the profile
that compose would recreate (either asks for confirmation; without a terminal it needs --yes),
compose's output streamed as it comes. Exit status: 0 done, 1 compose or Docker failed, or a
project could not be read (compose's own message on stderr), 2 unknown profile/project,
3 refused (memory check or recreation), 130 interrupted (compose is stopped too).
`profiles` exits 1 when a project could not be read, after listing everything it could.
"""

from __future__ import annotations

import argparse
import shlex
import sys

import msgspec
from rich.console import Console
from rich.table import Table
from rich.text import Text

from spark_tui.core import format as fmt
from spark_tui.commands import output_console
from spark_tui.models.settings import Config
from spark_tui.core.masking import mask_argv
from spark_tui.models.compose import ComposeOverview, ComposeProject, MemoryBudget, ServiceState
from spark_tui.models.containers import Container
from spark_tui.core.compose.cli import CommandRun, ComposeUnavailable, docker_cli
from spark_tui.core.compose.model import InvalidName
from spark_tui.core.compose.projects import ComposeProjects, ProfileNotFound, ProjectUnreadable, find_profile
from spark_tui.core.docker.containers import ContainerCatalog
from spark_tui.core.docker.engine import DockerEngine, DockerUnavailable
from spark_tui.core.compose.memory_budget import PeakStore, profile_budget
from spark_tui.core.machine.system import parse_meminfo, read_proc_file

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

STATE_STYLE = {"up": "green", "partial": "yellow", "down": "dim", "running": "green", "starting": "yellow",
               "unhealthy": "bold red", "done": "green", "stopped": "dim", "missing": "dim"}


def register(subparsers: argparse._SubParsersAction) -> None:
    listing = subparsers.add_parser(
        "profiles",
        help="list Compose projects, their profiles, services and state",
        description="List Compose projects (from running containers' labels and the config's [docker.compose] files), "
        "each profile with its services and state: up, partial or down.",
    )
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.add_argument("--project", metavar="P", help="only this project")
    listing.set_defaults(run=run_profiles)

    toggle = subparsers.add_parser(
        "profile",
        help="start or stop one Compose profile's services (what the dashboard toggle does)",
        description="up: docker compose -p P -f … --profile X up -d <X's services>. "
        "down: stop (or with --remove, remove) only X's services, never the rest of the project. "
        "Before up, compose's dry run must not recreate a running container outside the profile "
        "(a dependency whose configuration changed) unless --yes. "
        "Exit status: 0 done, 1 compose/Docker failed or a project could not be read, 2 unknown profile, "
        "3 refused (memory check or recreation).",
    )
    toggle.add_argument("action", choices=("up", "down"))
    toggle.add_argument("profile", metavar="PROFILE")
    toggle.add_argument("--project", metavar="P", help="the project, when several have this profile")
    toggle.add_argument("--remove", action="store_true", help="down: remove the containers, not only stop them")
    toggle.add_argument(
        "--yes", "-y", action="store_true",
        help="up: start even if it would leave less memory than the floor, or recreate running containers outside the profile",
    )
    toggle.set_defaults(run=run_profile)


def _fail(message: str, code: int = EXIT_FAILED) -> int:
    print(f"spark-tui: {message}", file=sys.stderr)
    return code


def load_overview(config: Config) -> tuple[ComposeOverview, ComposeProjects, tuple[Container, ...]]:
    """Blocking. Raises DockerUnavailable (states need the engine) or ComposeUnavailable."""
    engine = DockerEngine(host=config.docker.host)
    try:
        listing = ContainerCatalog(engine).refresh()
        projects = ComposeProjects(config.docker.compose, env=engine.compose_env())
        return projects.overview(listing.containers), projects, listing.containers
    finally:
        engine.close()


def mem_available() -> int | None:
    try:
        return parse_meminfo(read_proc_file("meminfo")).available
    except (OSError, KeyError, ValueError):
        return None


def run_profiles(args: argparse.Namespace, config: Config) -> int:
    try:
        overview, _, _ = load_overview(config)
    except (DockerUnavailable, ComposeUnavailable) as exc:
        return _fail(str(exc))
    if args.project:
        chosen = tuple(p for p in overview.projects if p.name == args.project)
        if not chosen:
            known = ", ".join(p.name for p in overview.projects) or "none"
            return _fail(f"no compose project named {args.project!r} (known: {known})", EXIT_USAGE)
        overview = ComposeOverview(overview.taken_at, chosen)
    if args.json:
        sys.stdout.buffer.write(msgspec.json.format(msgspec.json.encode(overview), indent=2) + b"\n")
    else:
        render_overview(output_console(), overview)
    unreadable = [p.name for p in overview.projects if p.problem]
    if unreadable:
        return _fail(f"could not read compose project {', '.join(unreadable)}: see its message above")
    return EXIT_OK


def render_overview(console: Console, overview: ComposeOverview) -> None:
    if not overview.projects:
        console.print(Text("no Compose projects: start one, or name compose files in the config ([docker.compose] files = [...])"))
        return
    for project in overview.projects:
        render_project(console, project)


def render_project(console: Console, project: ComposeProject) -> None:
    files = ", ".join(project.config_files) or "files unknown"
    console.print(Text.assemble(("project ", "bold"), (project.name, "bold"), f" · {files} · from {project.source}"))
    if project.problem:
        console.print(Text(f"  cannot read its compose model: {project.problem}", style="red"))
    table = Table("PROFILE", "STATE", "SERVICES", box=None, padding=(0, 2), pad_edge=True)
    for profile in project.profiles:
        name = profile.name + (" (GPU)" if profile.gpu else "")
        table.add_row(name, Text(profile.summary, style=STATE_STYLE[profile.state]), services_text(profile.service_states))
    if project.always_on:
        table.add_row(Text("(no profile)", style="dim"), Text("always on", style="dim"), services_text(project.always_on))
    if project.seen:
        table.add_row(Text("(unknown)", style="dim"), Text("profile unknown", style="dim"), services_text(project.seen))
    if table.row_count:
        console.print(table)


def services_text(states: tuple[ServiceState, ...]) -> Text:
    services = Text()
    for i, state in enumerate(states):
        if i:
            services.append(", ")
        services.append(state.service)
        services.append(f" {state.state}", style=STATE_STYLE.get(state.state, ""))
    return services


def confirm(question: str) -> bool:
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def describe_budget(budget: MemoryBudget) -> str:
    return f"memory: {budget.message}"


def refused(args: argparse.Namespace, profile: str, reason: str) -> int | None:
    """None to go ahead (--yes, or the user says yes at a terminal); else the exit status."""
    if args.yes:
        return None
    if not sys.stdin.isatty():
        return _fail(f"not starting {profile}: {reason} (use --yes to start anyway)", EXIT_REFUSED)
    return None if confirm(f"start profile {profile} anyway?") else _fail(f"not starting {profile}", EXIT_REFUSED)


def run_profile(args: argparse.Namespace, config: Config) -> int:
    compose = config.docker.compose
    try:
        overview, projects, containers = load_overview(config)
        docker_cli()  # without the CLI nothing can be read or run: say so, not "unknown profile"
        project, profile = find_profile(overview, args.profile, args.project)
    except (DockerUnavailable, ComposeUnavailable, ProjectUnreadable) as exc:
        return _fail(str(exc))
    except ProfileNotFound as exc:
        return _fail(str(exc), EXIT_USAGE)
    notes: tuple[str, ...] = ()
    try:
        if args.action == "up":
            peaks = PeakStore()
            budget = profile_budget(project, profile, mem_available(), compose.memory_floor_gib, compose.memory_hints_gib, peaks)
            print(describe_budget(budget), file=sys.stderr)
            if budget.needs_confirmation and (status := refused(args, profile.name, budget.message)) is not None:
                return status
            preview = projects.preview_up(project, profile, containers)
            if preview.problem:
                print(f"compose's dry run failed, so containers it might recreate were not checked: {preview.problem}", file=sys.stderr)
            elif preview.recreates:
                reason = f"compose would recreate running containers outside the profile: {', '.join(preview.recreates)}"
                print(f"recreation check: {reason}", file=sys.stderr)
                if (status := refused(args, profile.name, reason)) is not None:
                    return status
            command = projects.up_command(project, profile)
        else:
            command, notes = projects.down_command(project, profile, remove=args.remove or compose.remove_on_down)
    except (ProfileNotFound, InvalidName) as exc:
        return _fail(str(exc), EXIT_USAGE)
    for note in notes:
        print(note, file=sys.stderr)
    if command is None:
        print(f"profile {profile.name}: nothing to stop", file=sys.stderr)
        return EXIT_OK
    print(f"$ {shlex.join(mask_argv(command.argv))}", file=sys.stderr)
    run = CommandRun(command, timeout_s=compose.command_timeout)
    try:
        for line in run.lines():
            print(line.text, flush=True)
    except KeyboardInterrupt:
        run.cancel()
        return _fail("interrupted: docker compose was stopped", EXIT_INTERRUPTED)
    result = run.result
    assert result is not None
    if not result.ok:
        return _fail(result.message or f"docker compose exited with status {result.returncode}")
    try:
        after, _, _ = load_overview(config)
        _, now = find_profile(after, profile.name, project.name)
        print(f"profile {now.name} of {project.name}: {now.summary} ({fmt.duration(result.duration_s)})", file=sys.stderr)
    except (DockerUnavailable, ComposeUnavailable, LookupError) as exc:
        print(f"profile {profile.name} of {project.name}: done; its state could not be read afterwards: {exc}", file=sys.stderr)
    return EXIT_OK
