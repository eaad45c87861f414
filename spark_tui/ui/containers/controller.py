"""The app's containers and Compose machinery: one backend per session, the threads that feed it,
and the actions the user starts (container start/stop/restart, profile up/down).

Worker threads only post messages (spark_tui.ui.messages); `handle()` applies them to
`ContainersState` on the UI thread and says what changed; the screen showing draws it.
Nothing here blocks the event loop: every engine or compose call runs in a
daemon thread, so a hung daemon never delays a key or the app's exit.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Literal

from textual.timer import Timer

from spark_tui.core import format as fmt
from spark_tui.core.machine.state import MachineState
from spark_tui.models.settings import DockerConfig
from spark_tui.ui.messages import (
    ConfirmationNeeded,
    ComposeFinished,
    ComposeOutputArrived,
    ContainerActionFinished,
    ContainerActionStarted,
    ContainersChanged,
    ContainersEvent,
    ContainersFailed,
    ContainerStatsSampled,
    ProfileCancelRequested,
    ProfilesChanged,
    ProfileToggleRequested,
)
from spark_tui.ui.markup import escape
from spark_tui.ui.containers.state import ComposeJob, ContainersState
from spark_tui.models.compose import CommandResult, ComposeCommand, ComposeProfile, ComposeProject, MemoryBudget, UpPreview
from spark_tui.models.containers import Container
from spark_tui.models.machine import GpuReport
from spark_tui.core.polling import Poller, run_in_daemon_thread
from spark_tui.ui.changes import Changed, Host
from spark_tui.core.compose.cli import ComposeUnavailable
from spark_tui.core.compose.model import InvalidName
from spark_tui.core.compose.projects import ProfileNotFound
from spark_tui.core.docker.backend import ComposeRun, ContainerBackend
from spark_tui.core.docker.errors import ActionGate, ContainerActionError, DockerUnavailable
from spark_tui.core.machine.gpu_containers import PidContainers, name_gpu_processes

TICK_S = 1.0  # redraw of the counting parts (compose's elapsed time, the retry countdown)
HIDDEN_STATS_INTERVAL_S = 10.0  # stats while the containers screen is hidden: peaks for the memory check
OVERVIEW_DEBOUNCE_S = 0.5
STATS_AFTER_SHOW_S = 0.3  # fresh stats once the screen is drawn, not while
Verb = Literal["start", "stop", "restart"]
PAST = {"start": "started", "stop": "stopped", "restart": "restarted"}
DOING = {"start": "starting", "stop": "stopping", "restart": "restarting"}


class ContainersController:
    def __init__(self, host: Host, settings: DockerConfig, backend: ContainerBackend, machine: MachineState) -> None:
        self.host = host
        self.settings = settings
        self.machine = machine  # memory available now, for the check before a profile starts
        self.backend = backend
        self.state = ContainersState(backend.clock)
        self.gate = ActionGate()
        self.pids = PidContainers(lambda pid: self.backend.container_of_pid(pid))  # late: the backend builds on first use
        self.visible = False
        self.stats_poller: Poller[dict] = Poller(
            "containers",
            self._sample_stats,
            deliver=lambda stats: host.post_message(ContainerStatsSampled(stats)),
            on_error=self._stats_failed,
            interval=self._stats_interval(),
        )
        self._stats_failing = False
        self._stats_at: float | None = None  # monotonic time of the last stats sample
        self._run: ComposeRun | None = None
        self._overview_timer: object | None = None
        self._overview_busy = False
        self._overview_again = False
        self._ticker: Timer | None = None
        self._stopped = False

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start following the engine (call once, when the app is mounted)."""
        self.host.run_worker(run_in_daemon_thread(self._watch), name="docker-watch", group="containers", exit_on_error=False)
        self.host.run_worker(self.stats_poller.run(), name="poll-containers", group="containers", exit_on_error=False)

    def stop(self) -> None:
        """Stop every thread we started; a compose command under way is cancelled."""
        self._stopped = True
        self._keep_ticking()
        if self._run is not None and self.state.job is not None and self.state.job.running:
            self._run.cancel()
        self.backend.close()

    def _post(self, message: ContainersEvent) -> None:
        if not self._stopped:
            self.host.post_message(message)

    def _watch(self) -> None:
        try:
            for listing in self.backend.updates():
                self._post(ContainersChanged(listing))
        except Exception as exc:  # outages arrive as listings; this is a bug, said once
            self._post(ContainersFailed("the container list", exc))

    def set_visible(self, visible: bool) -> None:
        """The containers screen shows or hides: stats run at full rate only while it shows.
        Coming back, stats are read at once only if they are stale: a read of many cgroups would
        compete with drawing the screen the user just asked for."""
        self.visible = visible
        self.stats_poller.interval = self._stats_interval()
        self._keep_ticking()
        stale = self._stats_at is None or time.monotonic() - self._stats_at > self.stats_poller.interval
        if visible and stale:
            self.host.set_timer(STATS_AFTER_SHOW_S, self.stats_poller.poke)

    def _stats_interval(self) -> float:
        every = self.settings.stats_interval
        return every if self.visible else max(every, HIDDEN_STATS_INTERVAL_S)

    # -- in worker threads ---------------------------------------------------------------

    def _sample_stats(self) -> dict:
        listing = self.state.listing
        running = [c for c in listing.containers if c.state == "running"] if listing else []
        if not running:
            return {}
        return self.backend.sample_stats(running, self.state.gpu_by_id)

    def name_gpu_processes(self, report: GpuReport) -> GpuReport:
        """Blocking (reads /proc for new PIDs): the GPU report with each process's container named."""
        if not isinstance(report, GpuReport):
            return report
        return name_gpu_processes(report, self.pids, self.state.names_by_id)

    # -- messages ---------------------------------------------------------------------------

    def handle(self, message: ContainersEvent) -> Changed:
        """Apply a fact to the state; returns what it changed."""
        if isinstance(message, ContainersChanged):
            return self._containers_changed(message)
        if isinstance(message, ContainerStatsSampled):
            self._stats_at = time.monotonic()
            self.state.apply_stats(message.stats)
            if self._stats_failing:
                self._stats_failing = False
            return Changed.STATS
        if isinstance(message, ProfilesChanged):
            self.state.overview = message.overview
            return Changed.PROFILES
        if isinstance(message, ComposeOutputArrived):
            if self.state.job is not None:
                self.state.job.add(message.lines)
            return Changed.JOB
        if isinstance(message, ComposeFinished):
            return self._compose_finished(message.result)
        if isinstance(message, ContainerActionStarted):
            return Changed.CONTAINERS
        if isinstance(message, ContainerActionFinished):
            return self._action_finished(message)
        if isinstance(message, ProfileToggleRequested):
            self.toggle_profile(message.project, message.profile)
            return Changed.PROFILES
        if isinstance(message, ProfileCancelRequested):
            self.cancel_compose()
            return Changed.JOB
        if isinstance(message, ContainersFailed):
            self.host.notify(f"{message.what} stopped updating: {message.error}", severity="error", timeout=10)
        return Changed.NOTHING

    def _containers_changed(self, message: ContainersChanged) -> Changed:
        listing = message.listing
        previous = self.state.engine
        change = self.state.apply_listing(listing)
        if change == "lost":
            self.host.notify(f"Docker went away: {listing.engine.reason or listing.engine.message}. Showing the last known containers.", severity="warning", timeout=10)
        elif change == "back":
            self.host.notify("Docker is back: the container list is live again.", timeout=5)
        engine_flipped = previous is None or previous.state != listing.engine.state
        if engine_flipped or listing.changed or listing.removed:
            self.refresh_overview()
        parts = Changed.CONTAINERS
        if engine_flipped:
            parts |= Changed.PROFILES
        self._keep_ticking()
        return parts

    def retry_now(self) -> None:
        """Try to reach Docker now instead of at the end of the backoff (while it is down)."""
        if self.state.retry_at is None:
            return
        self.state.retry_at = time.monotonic()  # "retrying now…" until the engine answers or not
        self.host.run_worker(run_in_daemon_thread(self.backend.poke), name="docker-retry", group="containers", exit_on_error=False)
        self.host.redraw(Changed.TICK)

    def record_gpu(self, report: GpuReport) -> Changed:
        return Changed.STATS if self.state.record_gpu(report) else Changed.NOTHING

    def _stats_failed(self, error: BaseException) -> None:
        if not self._stats_failing:
            self._stats_failing = True
            self.host.notify(f"container stats failed: {error}. Retrying with backoff.", severity="warning", timeout=8)

    # -- counting seconds -------------------------------------------------------------------

    def _keep_ticking(self) -> None:
        """A one-second timer while something on screen counts, none otherwise."""
        counting_down = self.state.retry_at is not None and self.visible  # the countdown shows on the containers screen only
        wanted = (self.compose_running or counting_down) and not self._stopped
        if wanted and self._ticker is None:
            self._ticker = self.host.set_interval(TICK_S, self._tick, name="containers-tick")
        elif not wanted and self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    def _tick(self) -> None:
        self.host.redraw(Changed.TICK)
        self._keep_ticking()

    # -- compose overview --------------------------------------------------------------------

    def refresh_overview(self, delay: float = OVERVIEW_DEBOUNCE_S) -> None:
        """Re-read projects and profile states soon (changes in a burst make one read)."""
        if self._overview_timer is None and not self._stopped:
            self._overview_timer = self.host.set_timer(delay, self._read_overview)

    def _read_overview(self) -> None:
        self._overview_timer = None
        if self._overview_busy:
            self._overview_again = True
            return
        self._overview_busy = True
        listing = self.state.listing
        containers = listing.containers if listing else ()
        problem = self.state.engine_problem
        self.host.run_worker(self._overview_worker(containers, problem), name="compose-overview", group="containers", exit_on_error=False)

    async def _overview_worker(self, containers: tuple[Container, ...], problem: str | None) -> None:
        try:
            overview = await run_in_daemon_thread(lambda: self.backend.overview(containers, problem))
        except Exception as exc:
            self.host.notify(f"cannot read the Compose projects: {exc}", severity="error", timeout=10)
        else:
            self._post(ProfilesChanged(overview))
        finally:
            self._overview_busy = False
            if self._overview_again:
                self._overview_again = False
                self.refresh_overview(0.01)

    # -- container actions ---------------------------------------------------------------

    def container(self, container_id: str) -> Container | None:
        return self.state.containers.get(container_id)

    def request(self, verb: Verb, container: Container) -> None:
        """start at once; stop and restart after the user confirms."""
        if verb == "start":
            self.act(verb, container)
            return
        what = "Stop" if verb == "stop" else "Restart"
        body = (
            f"[b]{escape(container.name)}[/b]  [dim]{escape(container.image)}[/dim]\n\n"
            "Docker sends its stop signal (SIGTERM unless the image sets another), then SIGKILL after 10 s."
        )
        if container.compose_project:
            only = "stops" if verb == "stop" else "restarts"
            body += f"\nIt belongs to Compose project [b]{escape(container.compose_project)}[/b]; only this container {only}."
        self.host.post_message(ConfirmationNeeded(f"{what} {container.name}?", body, partial(self.act, verb, container), confirm=what, danger=verb == "stop"))

    def act(self, verb: Verb, container: Container) -> None:
        if not self.gate.try_enter(container.id):
            self.host.notify(f"{container.name}: {self.state.busy.get(container.id, 'an action')} is already under way", severity="warning", timeout=4)
            return
        self.state.busy[container.id] = DOING[verb]
        self.host.run_worker(self._act(verb, container), name=f"{verb}-{container.short_id}", group="container-actions", exit_on_error=False)
        self.host.post_message(ContainerActionStarted(verb, container.id))

    async def _act(self, verb: Verb, container: Container) -> None:
        action = {"start": self.backend.start, "stop": self.backend.stop, "restart": self.backend.restart}[verb]
        error: str | None = None
        try:
            await run_in_daemon_thread(lambda: action(container.id))
        except (ContainerActionError, DockerUnavailable) as exc:
            error = str(exc)
        except Exception as exc:  # unexpected, but the user still deserves words and a working UI
            error = f"cannot {verb} {container.name}: {exc}"
        finally:
            self.gate.leave(container.id)
        self._post(ContainerActionFinished(verb, container.id, container.name, error))

    def _action_finished(self, message: ContainerActionFinished) -> Changed:
        self.state.busy.pop(message.container_id, None)
        if message.error:
            self.host.notify(message.error, title=f"{message.verb} failed", severity="error", timeout=10)
        else:
            self.host.notify(f"{PAST[message.verb].capitalize()} {message.name}", timeout=3)
        return Changed.CONTAINERS

    # -- profiles ----------------------------------------------------------------------------

    @property
    def compose_running(self) -> bool:
        return self.state.job is not None and self.state.job.running

    def _available_memory(self) -> int | None:
        system = self.machine.system
        return system.memory.available if system is not None and system.memory is not None else None

    def toggle_profile(self, project_name: str, profile_name: str, action: Literal["up", "down"] | None = None) -> None:
        """Start a profile that is down (or partly up), stop one that is up. Never blocks."""
        if self.state.engine_problem:
            self.host.notify("Docker is unreachable: profiles can be started or stopped once it answers again.", severity="warning", timeout=6)
            return
        if self.compose_running:
            job = self.state.job
            assert job is not None
            self.host.notify(f"One compose command at a time: wait until it finishes ({job.headline()}), or cancel it with k.", severity="warning", timeout=6)
            return
        if self.state.preparing is not None:
            self.host.notify(f"Checking what starting profile {self.state.preparing[1]} would do: a moment.", severity="warning", timeout=4)
            return
        found = self.state.find_profile(project_name, profile_name)
        if found is None:
            self.host.notify(f"no profile {profile_name!r} in project {project_name!r} any more", severity="error", timeout=6)
            return
        project, profile = found
        action = action or ("down" if profile.state == "up" else "up")
        try:
            if action == "up":
                budget = self.backend.budget(project, profile, self._available_memory())
                command = self.backend.up_command(project, profile)
            else:
                command, notes = self.backend.down_command(project, profile)
        except (ProfileNotFound, InvalidName, ComposeUnavailable) as exc:
            self.host.notify(str(exc), title="Cannot toggle the profile", severity="error", timeout=10)
            return
        if action == "down":
            if command is None:
                self.host.notify(f"profile {profile.name}: nothing to stop. " + "; ".join(notes), timeout=8)
            else:
                self._run_compose(project, profile, action, command, notes, None)
            return
        self.state.preparing = (project.name, profile.name)
        self.host.run_worker(self._check_start(project, profile, command, budget), name="compose-dry-run", group="containers", exit_on_error=False)

    async def _check_start(self, project: ComposeProject, profile: ComposeProfile, command: ComposeCommand, budget: MemoryBudget) -> None:
        """Before `up`: compose's dry run names running containers outside the profile that it would
        recreate (a dependency whose configuration changed). Those, or memory short of the floor,
        ask first; a dry run that fails is noted and the start goes ahead as before."""
        containers = tuple(self.state.containers.values())
        try:
            preview = await run_in_daemon_thread(lambda: self.backend.preview_up(project, profile, containers))
        except Exception as exc:  # a courtesy check: it must never block the toggle
            preview = UpPreview(problem=f"cannot run it: {exc}")
        finally:
            self.state.preparing = None
        if self._stopped:
            return
        notes = () if preview.problem is None else (f"compose's dry run failed, so containers it might recreate were not checked: {preview.problem}",)
        if not (budget.needs_confirmation or preview.recreates):
            self._run_compose(project, profile, "up", command, notes, budget)
            return
        title, body = start_question(profile, budget, preview.recreates)
        self.host.redraw(Changed.PROFILES)  # no longer "checking…" under the question
        start = partial(self._run_compose, project, profile, "up", command, notes, budget)
        self.host.post_message(ConfirmationNeeded(title, body, start, confirm="Start anyway", danger=True, default=False))

    def _run_compose(
        self,
        project: ComposeProject,
        profile: ComposeProfile,
        action: Literal["up", "down"],
        command: ComposeCommand,
        notes: tuple[str, ...],
        budget: MemoryBudget | None,
    ) -> None:
        if self.compose_running or self._stopped:
            return
        self.state.job = ComposeJob(
            project=project.name,
            profile=profile.name,
            action=action,
            description=command.description,
            argv=command.argv,
            notes=notes,
            memory=budget.message if budget is not None else None,
        )
        run = self.backend.run(command)
        self._run = run
        self.host.run_worker(run_in_daemon_thread(partial(self._drive, run, command)), name="compose-run", group="containers", exit_on_error=False)
        self.host.post_message(ComposeOutputArrived([]))
        self._keep_ticking()

    def _drive(self, run: ComposeRun, command: ComposeCommand) -> None:
        try:
            for line in run.lines():
                self._post(ComposeOutputArrived([line.text]))
            result = run.result or CommandResult(command.argv, None, message="docker compose ended without a result")
        except Exception as exc:
            result = CommandResult(command.argv, None, message=f"cannot run docker compose: {exc}")
        self._post(ComposeFinished(result))

    def cancel_compose(self) -> None:
        job = self.state.job
        if job is None or not job.running or self._run is None:
            return
        job.cancelling = True
        self._run.cancel()

    def _compose_finished(self, result: CommandResult) -> Changed:
        job = self.state.job
        if job is None:
            return Changed.NOTHING
        job.result = result
        if result.ok:
            self.host.notify(job.headline().capitalize(), timeout=5)
        elif result.cancelled:
            self.host.notify(job.headline().capitalize(), severity="warning", timeout=5)
        else:
            self.host.notify(result.message or "docker compose failed", title=f"could not {job.verb} profile {job.profile}", severity="error", timeout=15)
        self.backend.invalidate_overview()
        self.refresh_overview(0.01)
        self._keep_ticking()
        return Changed.JOB | Changed.PROFILES


def budget_text(profile: ComposeProfile, budget: MemoryBudget) -> str:
    """The memory check in words, with each service's figure and where it comes from."""
    lines = [f"[b]Start profile {escape(profile.name)} of {escape(budget.project)}?[/b]", "", escape(budget.message), ""]
    for service in budget.services:
        if service.running:
            figure = "already running"
        elif budget.hint_used:
            figure = "counted in the config hint for the profile"
        elif service.bytes is None:
            figure = "unknown"
        else:
            figure = f"{fmt.gib(service.bytes)} ({service.source})"
        lines.append(f"  {escape(service.service):<20} {figure}")
    lines += ["", f"Memory available now: {fmt.gib(budget.available)} · floor: {fmt.gib(budget.floor, 0)} (docker.compose.memory_floor_gib)"]
    return "\n".join(lines)


def start_question(profile: ComposeProfile, budget: MemoryBudget, recreates: tuple[str, ...]) -> tuple[str, str]:
    """Title and body of the question before a start: memory short of the floor, running
    containers outside the profile that compose would recreate, or both."""
    if budget.needs_confirmation:
        body = budget_text(profile, budget)
    else:
        body = f"[b]Start profile {escape(profile.name)} of {escape(budget.project)}?[/b]"
    if recreates:
        names = "\n".join(f"  {escape(name)}" for name in recreates)
        body += (
            "\n\nCompose would also [b]recreate[/b] these running containers outside the profile "
            "(their configuration or image changed since they started), so they restart:\n" + names
        )
    if not recreates:
        return "Memory check", body
    return (f"Start profile {profile.name}?" if budget.needs_confirmation else "Containers would be recreated"), body
