"""`spark-tui profiles [--json]` and `spark-tui profile up|down PROFILE [--project P] [--remove]`.

`profile` does exactly what the dashboard's toggle does: the same compose command, the same
memory check before starting and the same dry run for running containers outside the profile
that compose would recreate (either asks for confirmation; without a terminal it needs --yes),
compose's output streamed as it comes. Exit status: 0 done, 1 compose or Docker failed, or a
project could not be read (compose's own message on stderr), 2 unknown profile/project,
3 refused (memory check or recreation), 130 interrupted (compose is stopped too).
`profiles` exits 1 when a project could not be read, after listing everything it could.

With `--demo` both work on the simulated Spark's projects (core/demo): `profile up/down`
changes the simulated containers, and the change is kept in $XDG_STATE_HOME/spark-tui/
demo-state.json, so the next `--demo` command (profiles, snapshot, probe) sees it as a user
expects after starting something: a change that vanished when the command exited would make
`--demo profile up gpu` look like it did nothing.
Names, files, states and compose's output come from other programs: the tables show them as
plain text (never markup) without control characters; --json keeps them as they came.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any, Protocol

from rich.console import Console
from rich.table import Table
from rich.text import Text

from spark_tui.commands import demo_fleet, demo_state_note, output_console, write_json
from spark_tui.core import format as fmt
from spark_tui.core.compose.cli import CommandRun, ComposeUnavailable, docker_cli
from spark_tui.core.compose.memory_budget import PeakStore, profile_budget
from spark_tui.core.compose.model import InvalidName
from spark_tui.core.compose.projects import (
    ComposeProjects,
    ProfileNotFound,
    ProjectUnreadable,
    find_profile,
)
from spark_tui.core.docker.backend import ComposeRun
from spark_tui.core.docker.containers import ContainerCatalog
from spark_tui.core.docker.engine import DockerEngine, DockerUnavailable
from spark_tui.core.machine.system import parse_meminfo, read_proc_file
from spark_tui.core.masking import mask_argv
from spark_tui.core.untrusted import clean
from spark_tui.models.compose import (
    ComposeCommand,
    ComposeOverview,
    ComposeProfile,
    ComposeProject,
    MemoryBudget,
    ServiceState,
    UpPreview,
)
from spark_tui.models.containers import Container
from spark_tui.models.settings import Config

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

DEMO_NOTE = "simulated Compose projects (--demo)"
# Where each figure of `profiles --json` comes from (the same words as the table's notes).
SOURCES = {
    "projects": "compose labels of the containers (com.docker.compose.*) and the config's [docker.compose] files",
    "projects[].services": "docker compose config of each project (its compose files, profiles resolved)",
    "projects[].profiles[].state": "the project's containers from the Docker engine: up when every service of the profile runs",
    "projects[].profiles[].service_states": "Docker engine: container state and health of each service",
}
DEMO_SOURCES = {key: "simulated (--demo): the demo's fleet" for key in SOURCES}

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
    print(f"spark-tui: {clean(message)}", file=sys.stderr)
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


class Projects(Protocol):
    """What `profile up/down` needs: this machine's Docker and compose, or the demo's fleet."""

    demo: bool

    def overview(self) -> tuple[ComposeOverview, tuple[Container, ...]]: ...

    def mem_available(self) -> int | None: ...

    def preview_up(self, project: ComposeProject, profile: ComposeProfile, containers: tuple[Container, ...]) -> UpPreview: ...

    def up_command(self, project: ComposeProject, profile: ComposeProfile) -> ComposeCommand: ...

    def down_command(self, project: ComposeProject, profile: ComposeProfile, remove: bool) -> tuple[ComposeCommand | None, tuple[str, ...]]: ...

    def run(self, command: ComposeCommand) -> ComposeRun: ...


class EngineProjects:
    """This machine: the Docker engine's containers and the docker compose CLI."""

    demo = False

    def __init__(self, config: Config) -> None:
        self.config = config
        self.projects: ComposeProjects | None = None

    def overview(self) -> tuple[ComposeOverview, tuple[Container, ...]]:
        overview, self.projects, containers = load_overview(self.config)
        docker_cli()  # without the CLI nothing can be read or run: say so, not "unknown profile"
        return overview, containers

    def mem_available(self) -> int | None:
        return mem_available()

    def _projects(self) -> ComposeProjects:
        assert self.projects is not None, "overview() first"
        return self.projects

    def preview_up(self, project: ComposeProject, profile: ComposeProfile, containers: tuple[Container, ...]) -> UpPreview:
        return self._projects().preview_up(project, profile, containers)

    def up_command(self, project: ComposeProject, profile: ComposeProfile) -> ComposeCommand:
        return self._projects().up_command(project, profile)

    def down_command(self, project: ComposeProject, profile: ComposeProfile, remove: bool) -> tuple[ComposeCommand | None, tuple[str, ...]]:
        return self._projects().down_command(project, profile, remove=remove)

    def run(self, command: ComposeCommand) -> ComposeRun:
        return CommandRun(command, timeout_s=self.config.docker.compose.command_timeout)


class DemoProjects:
    """The simulated Spark's projects; actions change the demo's fleet (kept for later commands)."""

    demo = True

    def __init__(self, config: Config) -> None:
        from spark_tui.core.demo.docker import DemoDocker

        self.fleet = demo_fleet()
        self.docker = DemoDocker(config=config.docker, fleet=self.fleet)

    def overview(self) -> tuple[ComposeOverview, tuple[Container, ...]]:
        containers = self.docker.containers()
        return self.docker.overview(containers), containers

    def mem_available(self) -> int | None:
        from spark_tui.core.demo.machine import DemoSpark

        return parse_meminfo(DemoSpark(fleet=self.fleet).read_proc("meminfo")).available  # the simulated pool

    def preview_up(self, project: ComposeProject, profile: ComposeProfile, containers: tuple[Container, ...]) -> UpPreview:
        return self.docker.preview_up(project, profile, containers)

    def up_command(self, project: ComposeProject, profile: ComposeProfile) -> ComposeCommand:
        return self.docker.up_command(project, profile)

    def down_command(self, project: ComposeProject, profile: ComposeProfile, remove: bool) -> tuple[ComposeCommand | None, tuple[str, ...]]:
        return self.docker.down_command(project, profile, remove=remove)

    def run(self, command: ComposeCommand) -> ComposeRun:
        return self.docker.run(command)


def overview_json(overview: ComposeOverview, *, demo: bool) -> dict[str, Any]:
    """The overview as JSON, with where its figures come from (`sources`) and notes."""
    import msgspec

    doc = msgspec.to_builtins(overview)
    doc["sources"] = DEMO_SOURCES if demo else SOURCES
    doc["notes"] = [DEMO_NOTE] if demo else []
    return doc


def run_profiles(args: argparse.Namespace, config: Config) -> int:
    try:
        if args.demo:
            overview, _ = DemoProjects(config).overview()
        else:
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
        write_json(overview_json(overview, demo=args.demo))
    else:
        console = output_console()
        render_overview(console, overview)
        if args.demo:
            console.print(Text(f"  {DEMO_NOTE}", style="dim"))
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
    console.print(Text.assemble(("project ", "bold"), (clean(project.name), "bold"), f" · {clean(files)} · from {project.source}"))
    if project.problem:
        console.print(Text(f"  cannot read its compose model: {clean(project.problem)}", style="red"))
    table = Table("PROFILE", "STATE", "SERVICES", box=None, padding=(0, 2), pad_edge=True)
    for profile in project.profiles:
        name = Text(clean(profile.name) + (" (GPU)" if profile.gpu else ""))
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
        services.append(clean(state.service))
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
    return None if confirm(f"start profile {clean(profile)} anyway?") else _fail(f"not starting {profile}", EXIT_REFUSED)


def run_profile(args: argparse.Namespace, config: Config) -> int:
    compose = config.docker.compose
    backend: Projects = DemoProjects(config) if args.demo else EngineProjects(config)
    try:
        overview, containers = backend.overview()
        project, profile = find_profile(overview, args.profile, args.project)
    except (DockerUnavailable, ComposeUnavailable, ProjectUnreadable) as exc:
        return _fail(str(exc))
    except ProfileNotFound as exc:
        return _fail(str(exc), EXIT_USAGE)
    notes: tuple[str, ...] = ()
    try:
        if args.action == "up":
            peaks = None if backend.demo else PeakStore()  # the demo's services teach this machine nothing
            budget = profile_budget(project, profile, backend.mem_available(), compose.memory_floor_gib, compose.memory_hints_gib, peaks)
            print(clean(describe_budget(budget)), file=sys.stderr)
            if budget.needs_confirmation and (status := refused(args, profile.name, budget.message)) is not None:
                return status
            preview = backend.preview_up(project, profile, containers)
            if preview.problem:
                print(f"compose's dry run failed, so containers it might recreate were not checked: {clean(preview.problem)}", file=sys.stderr)
            elif preview.recreates:
                reason = f"compose would recreate running containers outside the profile: {', '.join(preview.recreates)}"
                print(f"recreation check: {clean(reason)}", file=sys.stderr)
                if (status := refused(args, profile.name, reason)) is not None:
                    return status
            command = backend.up_command(project, profile)
        else:
            command, notes = backend.down_command(project, profile, remove=args.remove or compose.remove_on_down)
    except (ProfileNotFound, InvalidName) as exc:
        return _fail(str(exc), EXIT_USAGE)
    for note in notes:
        print(clean(note), file=sys.stderr)
    if command is None:
        print(f"profile {clean(profile.name)}: nothing to stop", file=sys.stderr)
        return EXIT_OK
    simulated = " (simulated: --demo)" if backend.demo else ""
    print(f"$ {clean(shlex.join(mask_argv(command.argv)))}{simulated}", file=sys.stderr)
    run = backend.run(command)
    try:
        for line in run.lines():
            print(clean(line.text), flush=True)
    except KeyboardInterrupt:
        run.cancel()
        return _fail("interrupted: docker compose was stopped", EXIT_INTERRUPTED)
    result = run.result
    assert result is not None
    if not result.ok:
        return _fail(result.message or f"docker compose exited with status {result.returncode}")
    try:
        after, _ = backend.overview()
        _, now = find_profile(after, profile.name, project.name)
        print(clean(f"profile {now.name} of {project.name}: {now.summary} ({fmt.duration(result.duration_s)})"), file=sys.stderr)
    except (DockerUnavailable, ComposeUnavailable, LookupError) as exc:
        print(clean(f"profile {profile.name} of {project.name}: done; its state could not be read afterwards: {exc}"), file=sys.stderr)
    if backend.demo:
        print(demo_state_note(), file=sys.stderr)
    return EXIT_OK
