"""Compose projects: found from container labels and the config, read through compose itself,
with each profile's state, and the exact commands that bring one profile up or down.

`ComposeProjects.overview(containers)` is blocking (it may run `docker compose config`,
cached per project until a file changes or a minute passes): call it from a thread worker
when the container list changes. Building a command runs nothing; see compose_cli.CommandRun.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from spark_tui.models.settings import ComposeConfig
from spark_tui.models.compose import ComposeCommand, ComposeOverview, ComposeProfile, ComposeProject, UpPreview
from spark_tui.models.containers import Container
from spark_tui.core.untrusted import clean
from spark_tui.core.compose.cli import ComposeError, ComposeUnavailable, docker_cli, dry_run_recreations, run_json
from spark_tui.core.compose.model import (
    PROFILE_NAME,
    PROJECT_NAME,
    SERVICE_NAME,
    InvalidName,
    check_name,
    profiles_of,
    project_containers,
    recreated_outside,
    service_state,
    services_from_config,
)

log = logging.getLogger(__name__)

CONFIG_MAX_AGE_S = 60.0  # re-read even without a file change: include/extends files are not watched


class ProfileNotFound(LookupError):
    """The profile (or project) named by the user does not exist; the message lists what does."""


class ProjectUnreadable(LookupError):
    """A project that could hold the profile could not be read: which one and compose's words."""


@dataclass(frozen=True)
class ProjectRef:
    """Where a project's compose model comes from."""

    name: str | None  # None: compose decides (the file's `name:`, else the directory)
    files: tuple[str, ...]
    working_dir: str | None = None
    env_files: tuple[str, ...] = ()
    source: str = "labels"


def refs_from_containers(containers: Iterable[Container]) -> dict[str, ProjectRef]:
    """Project name -> how it was started, from the labels of its newest container."""
    newest: dict[str, Container] = {}
    epoch = datetime.min.replace(tzinfo=timezone.utc)
    for container in sorted(containers, key=lambda c: c.created_at or epoch):
        if container.compose_project and container.compose_config_files:
            newest[container.compose_project] = container
    refs = {}
    for project, container in newest.items():
        env_files = tuple(f for f in (container.compose_environment_file or "").split(",") if f)
        refs[project] = ProjectRef(project, container.compose_config_files, container.compose_working_dir, env_files, "labels")
    return refs


def refs_from_config(config: ComposeConfig) -> list[ProjectRef]:
    refs = [ProjectRef(None, (_expand(f),), None, (), "config") for f in config.files]
    refs += [
        ProjectRef(p.name, tuple(_expand(f) for f in p.files), None, tuple(_expand(f) for f in p.env_files), "config")
        for p in config.projects
    ]
    return refs


def _expand(path: str) -> str:
    return os.path.abspath(os.path.expanduser(os.path.expandvars(path)))


def base_argv(docker: str, name: str | None, files: Iterable[str], working_dir: str | None, env_files: Iterable[str]) -> list[str]:
    argv = [docker, "compose"]
    if name:
        argv += ["-p", check_name("project", name, PROJECT_NAME)]
    for file in files:
        argv += ["-f", file]
    if working_dir:
        argv += ["--project-directory", working_dir]
    for env_file in env_files:
        argv += ["--env-file", env_file]
    return argv


def _fingerprint(ref: ProjectRef) -> tuple[Any, ...]:
    paths = [*ref.files, *ref.env_files]
    base = ref.working_dir or (os.path.dirname(ref.files[0]) if ref.files else None)
    if base:
        paths.append(os.path.join(base, ".env"))
    marks = []
    for path in paths:
        try:
            stat = os.stat(path)
            marks.append((path, stat.st_mtime_ns, stat.st_size))
        except OSError:
            marks.append((path, None, None))
    return tuple(marks)


@dataclass(frozen=True)
class _Loaded:
    fingerprint: tuple[Any, ...]
    loaded_at: float
    name: str | None
    services: tuple[Any, ...]
    problem: str | None


class ComposeProjects:
    def __init__(
        self,
        config: ComposeConfig | None = None,
        env: Mapping[str, str] | None = None,
        docker: str | None = None,
        load_json: Callable[..., Any] = run_json,
        dry_run: Callable[[ComposeCommand], tuple[str, ...]] = dry_run_recreations,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config or ComposeConfig()
        self.env = dict(env or {})  # DOCKER_HOST of the engine we show (DockerEngine.compose_env())
        self._docker = docker
        self._load_json = load_json
        self._dry_run = dry_run
        self._clock = clock
        self._wall_clock = wall_clock
        self._cache: dict[ProjectRef, _Loaded] = {}
        self.loads = 0  # `compose config` runs: tests read it

    @property
    def docker(self) -> str:
        if self._docker is None:
            self._docker = docker_cli()
        return self._docker

    def overview(self, containers: Iterable[Container], engine_problem: str | None = None) -> ComposeOverview:
        containers = list(containers)
        label_refs = refs_from_containers(containers)
        projects: dict[str, ComposeProject] = {}
        for ref in refs_from_config(self.config):
            project = self._project(ref, containers)
            if project.name in label_refs:
                project = replace(project, source="labels+config")
            projects.setdefault(project.name, project)
        for name, ref in label_refs.items():
            if name not in projects:
                projects[name] = self._project(ref, containers)
        for name in {c.compose_project for c in containers if c.compose_project} - set(projects):
            projects[name] = self._labels_only(name, containers, "its containers do not name their compose files")
        ordered = tuple(sorted(projects.values(), key=lambda p: p.name.lower()))
        return ComposeOverview(taken_at=self._wall_clock(), projects=ordered, engine_problem=engine_problem)

    def _project(self, ref: ProjectRef, containers: list[Container]) -> ComposeProject:
        loaded = self._load(ref)
        name = loaded.name or ref.name or (Path(ref.files[0]).parent.name if ref.files else "?")
        if loaded.problem is not None:
            base = self._labels_only(name, containers, loaded.problem)
            return replace(base, config_files=ref.files, working_dir=ref.working_dir, environment_files=ref.env_files, source=ref.source)  # type: ignore[arg-type]
        profiles, always_on = profiles_of(name, loaded.services, containers)
        return ComposeProject(
            name=name,
            config_files=ref.files,
            working_dir=ref.working_dir,
            environment_files=ref.env_files,
            source=ref.source,  # type: ignore[arg-type]
            services=loaded.services,
            profiles=profiles,
            always_on=always_on,
        )

    def _labels_only(self, name: str, containers: list[Container], problem: str) -> ComposeProject:
        """What the labels alone tell: services and their states; which profile each belongs to
        (or whether it is always on) is unknown."""
        by_service = project_containers(name, containers)
        states = tuple(service_state(service, items) for service, items in sorted(by_service.items()))
        return ComposeProject(name=name, source="labels", seen=states, problem=problem)

    def _load(self, ref: ProjectRef) -> _Loaded:
        fingerprint = _fingerprint(ref)
        cached = self._cache.get(ref)
        now = self._clock()
        if cached is not None and cached.fingerprint == fingerprint and now - cached.loaded_at < CONFIG_MAX_AGE_S:
            return cached
        missing = [path for path, mtime, _ in fingerprint if mtime is None and path in ref.files]
        if missing:
            loaded = _Loaded(fingerprint, now, ref.name, (), clean(f"compose file {missing[0]} no longer exists"))
        else:
            loaded = self._read_model(ref, fingerprint, now)
        self._cache[ref] = loaded
        return loaded

    def _read_model(self, ref: ProjectRef, fingerprint: tuple[Any, ...], now: float) -> _Loaded:
        self.loads += 1
        try:
            argv = base_argv(self.docker, ref.name, ref.files, ref.working_dir, ref.env_files)
            model = self._load_json([*argv, "--profile", "*", "config", "--format", "json"], env=self.env, cwd=ref.working_dir)
            if not isinstance(model, dict):
                raise ComposeError("docker compose config printed no model")
            name = model.get("name") or ref.name
            if name is not None:
                check_name("project", name, PROJECT_NAME)
            return _Loaded(fingerprint, now, name, services_from_config(model), None)
        except (ComposeError, ComposeUnavailable, InvalidName) as exc:
            return _Loaded(fingerprint, now, ref.name, (), clean(str(exc)))

    def invalidate(self) -> None:
        """Forget cached models: the next overview re-reads every project (after a toggle, say)."""
        self._cache.clear()

    # -- commands -------------------------------------------------------------------------

    def _base(self, project: ComposeProject) -> list[str]:
        if not project.config_files:
            raise ProfileNotFound(f"project {project.name}: its compose files are unknown, so its profiles cannot be changed")
        return base_argv(self.docker, project.name, project.config_files, project.working_dir, project.environment_files)

    def up_command(self, project: ComposeProject, profile: ComposeProfile, dry_run: bool = False) -> ComposeCommand:
        """`docker compose -p P -f … --profile X up -d <X's services>`.

        dry_run: `docker compose --dry-run … up -d --no-start …`, which says what `up` would
        create and recreate. Without --no-start a dry run waits forever on a dependency's
        condition (service_completed_successfully, service_healthy): nothing really runs."""
        services = self._checked_services(project, profile)
        docker, compose, *rest = self._base(project)
        if dry_run:
            argv = [docker, compose, "--dry-run", *rest, "--profile", profile.name, "up", "-d", "--no-start", *services]
        else:
            argv = [docker, compose, *rest, "--profile", profile.name, "up", "-d", *services]
        return ComposeCommand(
            argv=tuple(argv),
            description=f"start profile {profile.name} of {project.name} ({', '.join(services)})",
            cwd=project.working_dir,
            env=self.env,
        )

    def preview_up(self, project: ComposeProject, profile: ComposeProfile, containers: Iterable[Container]) -> UpPreview:
        """Blocking: the running containers outside the profile that starting it would recreate
        (a dependency whose configuration changed, say), from compose's own dry run. A dry run
        that fails says why and checks nothing: the start must not depend on it."""
        try:
            names = self._dry_run(self.up_command(project, profile, dry_run=True))
        except (ComposeError, ComposeUnavailable, ProfileNotFound, InvalidName) as exc:
            log.info("dry run of profile %s of %s failed: %s", profile.name, project.name, exc)
            return UpPreview(problem=clean(str(exc)))
        return UpPreview(recreates=recreated_outside(names, project.name, profile, containers))

    def down_command(self, project: ComposeProject, profile: ComposeProfile, remove: bool = False) -> tuple[ComposeCommand | None, tuple[str, ...]]:
        """Stop (or remove) only X's services. Returns the command (None if nothing is left to
        stop) and the notes on services kept because another running profile shares them."""
        services = self._checked_services(project, profile)
        keep: list[str] = []
        notes: list[str] = []
        for service in services:
            sharing = [
                other.name
                for other in project.profiles
                if other.name != profile.name and service in other.services and _runs_beyond(other, profile)
            ]
            if sharing:
                keep.append(service)
                notes.append(f"kept {service}: profile {', '.join(sharing)} also uses it and is running")
        targets = [s for s in services if s not in keep]
        if not targets:
            return None, tuple(notes)
        verb = ["rm", "--stop", "--force"] if remove else ["stop"]
        argv = [*self._base(project), "--profile", profile.name, *verb, *targets]
        action = "remove" if remove else "stop"
        return (
            ComposeCommand(
                argv=tuple(argv),
                description=f"{action} profile {profile.name} of {project.name} ({', '.join(targets)})",
                cwd=project.working_dir,
                env=self.env,
            ),
            tuple(notes),
        )

    def _checked_services(self, project: ComposeProject, profile: ComposeProfile) -> list[str]:
        check_name("project", project.name, PROJECT_NAME)
        check_name("profile", profile.name, PROFILE_NAME)
        known = {s.name for s in project.services}
        services = [check_name("service", s, SERVICE_NAME) for s in profile.services]
        if not services or not set(services) <= known:
            raise ProfileNotFound(f"profile {profile.name} of {project.name} has no services compose knows about")
        return services


def _runs_beyond(other: ComposeProfile, leaving: ComposeProfile) -> bool:
    """`other` has a running service that is not part of the profile being stopped."""
    return any(
        state.service not in leaving.services and state.state in ("running", "starting", "unhealthy")
        for state in other.service_states
    )


def find_profile(overview: ComposeOverview, profile: str, project: str | None = None) -> tuple[ComposeProject, ComposeProfile]:
    """The project and profile a user named; the error lists the choices. Raises ProjectUnreadable
    when a project that could hold the profile could not be read: guessing could pick the wrong one."""
    candidates = [p for p in overview.projects if project is None or p.name == project]
    if project is not None and not candidates:
        names = ", ".join(p.name for p in overview.projects) or "none"
        raise ProfileNotFound(f"no compose project named {project!r} (known: {names})")
    broken = [p for p in candidates if p.problem]
    if broken:
        reasons = "; ".join(f"compose project {p.name} could not be read ({p.problem})" for p in broken)
        if project is not None:
            raise ProjectUnreadable(reasons)
        raise ProjectUnreadable(f"cannot be sure which project has profile {profile!r}: {reasons}. Fix it, or choose the project with --project")
    matches = [(p, p.profile(profile)) for p in candidates if p.profile(profile) is not None]
    if not matches:
        known = sorted({f"{p.name}/{q.name}" for p in candidates for q in p.profiles})
        where = f" in project {project}" if project else ""
        if known:
            detail = f" (known: {', '.join(known)})"
        else:
            detail = " (no project has profiles)" if candidates else " (no Compose projects found)"
        raise ProfileNotFound(f"no profile {profile!r}{where}{detail}")
    if len(matches) > 1:
        names = ", ".join(p.name for p, _ in matches)
        raise ProfileNotFound(f"profile {profile!r} exists in several projects ({names}): choose one with --project")
    found_project, found_profile = matches[0]
    assert found_profile is not None
    return found_project, found_profile
