"""Compose profiles against the real engine and compose: discovery, state, toggling one profile
without touching the rest, compose's own messages on failure, and the headless commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from spark_tui.models.settings import ComposeConfig, ComposeProjectConfig
from spark_tui.models.compose import ComposeOverview, ComposeProject, UpPreview
from spark_tui.core.compose.cli import CommandRun
from spark_tui.core.compose.projects import ComposeProjects, find_profile
from spark_tui.core.docker.containers import ContainerCatalog
from tests.integration.conftest import PROFILED_PROJECT, DockerKit, docker

pytestmark = pytest.mark.docker


def overview(engine, config: ComposeConfig | None = None, projects: ComposeProjects | None = None) -> ComposeOverview:
    projects = projects or ComposeProjects(config, env=engine.compose_env())
    return projects.overview(ContainerCatalog(engine).refresh().containers)


def project_named(view: ComposeOverview, name: str) -> ComposeProject:
    return next(p for p in view.projects if p.name == name)


def container_states(kit: DockerKit, project: str) -> dict[str, tuple[str, str]]:
    """service -> (state, started at), from docker itself."""
    out = docker("ps", "-a", "--filter", f"label=com.docker.compose.project={project}", "--format", "{{.ID}}").stdout.split()
    states = {}
    for cid in out:
        data = kit.inspect(cid)
        states[data["Config"]["Labels"]["com.docker.compose.service"]] = (data["State"]["Status"], data["State"]["StartedAt"])
    return states


def run_to_end(command) -> tuple[list[str], object]:
    run = CommandRun(command, timeout_s=120)
    lines = [line.text for line in run.lines()]
    return lines, run.result


def test_profiles_are_read_from_compose_and_toggled_without_touching_the_rest(kit: DockerKit, engine) -> None:
    project = kit.compose_project(PROFILED_PROJECT)
    project.compose("up", "-d", "web")
    projects = ComposeProjects(env=engine.compose_env())

    view = project_named(overview(engine, projects=projects), project.name)
    assert view.source == "labels" and view.problem is None
    assert view.config_files == (str(project.file),)
    assert [p.name for p in view.profiles] == ["gpu", "ocr"]
    gpu = view.profile("gpu")
    assert gpu.services == ("embed", "fetch") and gpu.state == "down"
    assert view.service("embed").memory_limit == 64 * 2**20
    assert view.service("fetch").one_shot
    assert [s.service for s in view.always_on] == ["web"]

    web_before = container_states(kit, project.name)["web"]
    lines, result = run_to_end(projects.up_command(view, gpu))
    assert result.ok, result.message
    assert any("embed" in line for line in lines), "compose's output is streamed"

    states = container_states(kit, project.name)
    assert states["embed"][0] == "running" and states["fetch"][0] == "exited"
    assert "ocr" not in states, "another profile's services must not start"
    assert states["web"] == web_before, "the always-on service must not be restarted"

    view = project_named(overview(engine, projects=projects), project.name)
    assert view.profile("gpu").state == "up"
    assert {s.service: s.state for s in view.profile("gpu").service_states} == {"embed": "running", "fetch": "done"}
    assert view.profile("ocr").state == "down"

    command, notes = projects.down_command(view, view.profile("gpu"))
    assert notes == ()
    assert command.argv[-3:] == ("stop", "embed", "fetch")
    lines, result = run_to_end(command)
    assert result.ok, result.message
    states = container_states(kit, project.name)
    assert states["embed"][0] == "exited" and states["web"] == web_before
    view = project_named(overview(engine, projects=projects), project.name)
    assert view.profile("gpu").state == "down"

    command, _ = projects.down_command(view, view.profile("gpu"), remove=True)
    _, result = run_to_end(command)
    assert result.ok, result.message
    states = container_states(kit, project.name)
    assert set(states) == {"web"} and states["web"] == web_before


def test_projects_named_in_the_config_show_before_any_container_exists(kit: DockerKit, engine) -> None:
    project = kit.compose_project(PROFILED_PROJECT)
    config = ComposeConfig(files=(str(project.file),))
    projects = ComposeProjects(config, env=engine.compose_env())
    view = project_named(overview(engine, projects=projects), project.name)
    assert view.source == "config" and view.problem is None
    assert all(p.state == "down" for p in view.profiles)
    assert [s.state for s in view.always_on] == ["missing"]
    loads = projects.loads
    overview(engine, projects=projects)
    assert projects.loads == loads, "an unchanged compose file is not read again"
    project.file.write_text(project.file.read_text() + "\n# touched\n")
    os.utime(project.file, ns=(1, 1))
    overview(engine, projects=projects)
    assert projects.loads == loads + 1, "a changed compose file is read again"

    project.compose("up", "-d", "web")
    view = project_named(overview(engine, projects=projects), project.name)
    assert view.source == "labels+config"


def test_a_broken_compose_file_gives_composes_message(kit: DockerKit, engine) -> None:
    broken = kit.compose_project("services:\n  web:\n    image: {image}\n    ports: [\"127.0.0.1:1:2:3\"]\n", suffix="broken")
    unparsable = kit.compose_project("services: [\n", suffix="yaml")
    missing = kit.tmp / "nowhere" / "compose.yaml"
    config = ComposeConfig(
        projects=(
            ComposeProjectConfig(files=(str(broken.file),), name=broken.name),
            ComposeProjectConfig(files=(str(unparsable.file),), name=unparsable.name),
            ComposeProjectConfig(files=(str(missing),), name=kit.name("missing")),
        )
    )
    view = overview(engine, config)
    problems = {p.name: p.problem for p in view.projects if p.name.startswith(kit.prefix)}
    assert "invalid" in problems[broken.name].lower() and "127.0.0.1:1" in problems[broken.name]
    assert "yaml" in problems[unparsable.name]
    assert problems[kit.name("missing")] == f"compose file {missing} no longer exists"
    assert "\n" not in "".join(problems.values())


def test_a_port_already_in_use_fails_with_composes_message_and_the_project_stays_readable(kit: DockerKit, engine) -> None:
    holder = kit.run("holder", "sleep", "300", options=("-p", "127.0.0.1::80"))
    port = kit.inspect(holder)["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"]
    project = kit.compose_project(
        f"""
        name: {{name}}
        services:
          api:
            image: {{image}}
            command: ["sleep", "300"]
            stop_signal: SIGKILL
            profiles: [gpu]
            ports: ["127.0.0.1:{port}:80"]
        """
    )
    config = ComposeConfig(files=(str(project.file),))
    projects = ComposeProjects(config, env=engine.compose_env())
    view = project_named(overview(engine, projects=projects), project.name)
    _, result = run_to_end(projects.up_command(view, view.profile("gpu")))
    assert not result.ok and result.returncode not in (0, None)
    assert "port is already allocated" in result.message
    assert f"127.0.0.1:{port}" in result.message
    view = project_named(overview(engine, projects=projects), project.name)
    assert view.profile("gpu").state == "down"


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spark_tui", *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL
    )


def test_headless_profiles_and_profile_up_down(kit: DockerKit, tmp_path: Path) -> None:
    project = kit.compose_project(PROFILED_PROJECT)
    project.compose("up", "-d", "web")
    state_home = {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config")}

    listed = cli("profiles", "--json", "--project", project.name, env=state_home)
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    (found,) = data["projects"]
    assert {p["name"]: p["state"] for p in found["profiles"]} == {"gpu": "down", "ocr": "down"}

    table = cli("profiles", "--project", project.name, env=state_home)
    assert table.returncode == 0 and "gpu" in table.stdout and "down (0/2)" in table.stdout

    up = cli("profile", "up", "gpu", "--project", project.name, env=state_home)
    assert up.returncode == 0, up.stderr
    assert "embed" in up.stdout  # compose's own progress lines, streamed
    assert "memory:" in up.stderr and f"profile gpu of {project.name}: up (2/2)" in up.stderr
    assert container_states(kit, project.name)["embed"][0] == "running"

    down = cli("profile", "down", "gpu", "--project", project.name, "--remove", env=state_home)
    assert down.returncode == 0, down.stderr
    assert set(container_states(kit, project.name)) == {"web"}

    unknown = cli("profile", "up", "nope", "--project", project.name, env=state_home)
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == f"spark-tui: no profile 'nope' in project {project.name} (known: {project.name}/gpu, {project.name}/ocr)"


def test_headless_profile_up_failure_exits_non_zero_with_composes_message(kit: DockerKit, tmp_path: Path) -> None:
    holder = kit.run("holder", "sleep", "300", options=("-p", "127.0.0.1::80"))
    port = kit.inspect(holder)["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"]
    project = kit.compose_project(
        f"""
        name: {{name}}
        services:
          api:
            image: {{image}}
            command: ["sleep", "300"]
            profiles: [gpu]
            ports: ["127.0.0.1:{port}:80"]
        """
    )
    config = tmp_path / "config.toml"
    config.write_text(f'[docker.compose]\nfiles = ["{project.file}"]\n')
    failed = cli("--config", str(config), "profile", "up", "gpu", "--project", project.name, env={"XDG_STATE_HOME": str(tmp_path)})
    assert failed.returncode == 1
    last = failed.stderr.strip().splitlines()[-1]
    assert last.startswith("spark-tui: ") and "port is already allocated" in last
    assert "Traceback" not in failed.stderr


def test_memory_floor_refuses_without_a_terminal_unless_yes(kit: DockerKit, tmp_path: Path) -> None:
    project = kit.compose_project(PROFILED_PROJECT)
    config = tmp_path / "config.toml"
    config.write_text(f'[docker.compose]\nfiles = ["{project.file}"]\nmemory_floor_gib = 4000\n')
    refused = cli("--config", str(config), "profile", "up", "gpu", "--project", project.name, env={"XDG_STATE_HOME": str(tmp_path)})
    assert refused.returncode == 3
    assert "under the 4000 GiB floor" in refused.stderr and "--yes" in refused.stderr
    assert "embed" not in container_states(kit, project.name)
    forced = cli("--config", str(config), "profile", "up", "gpu", "--project", project.name, "--yes", env={"XDG_STATE_HOME": str(tmp_path)})
    assert forced.returncode == 0, forced.stderr
    assert container_states(kit, project.name)["embed"][0] == "running"


def test_find_profile_needs_a_project_when_two_have_the_profile(kit: DockerKit, engine) -> None:
    first = kit.compose_project(PROFILED_PROJECT, suffix="one")
    second = kit.compose_project(PROFILED_PROJECT, suffix="two")
    view = overview(engine, ComposeConfig(files=(str(first.file), str(second.file))))
    mine = ComposeOverview(view.taken_at, tuple(p for p in view.projects if p.name.startswith(kit.prefix)))
    with pytest.raises(LookupError, match="exists in several projects"):
        find_profile(mine, "gpu")
    project, profile = find_profile(mine, "gpu", second.name)
    assert project.name == second.name and profile.services == ("embed", "fetch")


# An always-on dependency and a profile service that needs it: after db's configuration changes,
# `up -d llm` would recreate db, which is running and outside the profile.
DEPENDENCY_PROJECT = """
name: {name}
x-common: &common
  image: {image}
  command: ["sleep", "3600"]
  stop_signal: SIGKILL
  labels:
    sparktui.test: "{label}"
services:
  db:
    <<: *common
    environment: {MODEL: tiny}
  llm:
    <<: *common
    profiles: [gpu]
    depends_on: [db]
"""


def container_ids(project: str) -> dict[str, str]:
    out = docker("ps", "-a", "--no-trunc", "--filter", f"label=com.docker.compose.project={project}",
                 "--format", '{{.ID}} {{.Label "com.docker.compose.service"}}').stdout
    return {service: cid for cid, service in (line.split() for line in out.splitlines())}


def test_a_start_that_would_recreate_a_running_dependency_is_refused_unless_yes(kit: DockerKit, engine, tmp_path: Path) -> None:
    project = kit.compose_project(DEPENDENCY_PROJECT)
    project.compose("up", "-d", "db")
    db_before = container_ids(project.name)["db"]
    projects = ComposeProjects(env=engine.compose_env())
    view = project_named(overview(engine, projects=projects), project.name)
    containers = ContainerCatalog(engine).refresh().containers
    assert projects.preview_up(view, view.profile("gpu"), containers).recreates == (), "nothing changed: nothing recreated"

    project.file.write_text(project.file.read_text().replace("MODEL: tiny", "MODEL: small"))
    projects.invalidate()
    view = project_named(overview(engine, projects=projects), project.name)
    preview = projects.preview_up(view, view.profile("gpu"), ContainerCatalog(engine).refresh().containers)
    assert preview.recreates == (f"{project.name}-db-1",) and preview.problem is None
    assert container_ids(project.name) == {"db": db_before}, "a dry run changes nothing"

    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    refused = cli("profile", "up", "gpu", "--project", project.name, env=env)
    assert refused.returncode == 3, refused.stderr
    last = refused.stderr.strip().splitlines()[-1]
    assert last == f"spark-tui: not starting gpu: compose would recreate running containers outside the profile: {project.name}-db-1 (use --yes to start anyway)"
    assert container_ids(project.name) == {"db": db_before}, "refused: db untouched and llm not created"

    forced = cli("profile", "up", "gpu", "--project", project.name, "--yes", env=env)
    assert forced.returncode == 0, forced.stderr
    after = container_ids(project.name)
    assert set(after) == {"db", "llm"} and after["db"] != db_before, "with --yes compose did what it said"


def test_the_dry_run_does_not_wait_on_a_dependencys_condition(kit: DockerKit, engine) -> None:
    project = kit.compose_project(PROFILED_PROJECT)  # embed waits for fetch: service_completed_successfully
    project.compose("up", "-d", "web")
    projects = ComposeProjects(env=engine.compose_env())
    view = project_named(overview(engine, projects=projects), project.name)
    started = time.monotonic()
    preview = projects.preview_up(view, view.profile("gpu"), ContainerCatalog(engine).refresh().containers)
    assert preview == UpPreview(), preview
    assert time.monotonic() - started < 10, "a dry run that starts nothing has nothing to wait for"
    assert set(container_states(kit, project.name)) == {"web"}


def test_a_dry_run_that_fails_does_not_block_the_start(kit: DockerKit, engine) -> None:
    project = kit.compose_project(DEPENDENCY_PROJECT)
    projects = ComposeProjects(ComposeConfig(files=(str(project.file),)), env=engine.compose_env())
    view = project_named(overview(engine, projects=projects), project.name)
    projects.env = {**projects.env, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}  # compose cannot reach an engine
    preview = projects.preview_up(view, view.profile("gpu"), ())
    assert preview.recreates == () and "docker" in preview.problem.lower()


def test_unreadable_projects_are_reported_with_composes_words_and_exit_1(kit: DockerKit, tmp_path: Path) -> None:
    good = kit.compose_project(PROFILED_PROJECT, suffix="good")
    broken = kit.compose_project(DEPENDENCY_PROJECT, suffix="broken")
    broken.compose("--profile", "gpu", "up", "-d")  # running containers whose labels name the file
    broken.file.write_text("services: [\n")  # then the file breaks
    config = tmp_path / "config.toml"
    config.write_text(f'[docker.compose]\nfiles = ["{good.file}"]\n')
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config")}

    listed = cli("--config", str(config), "profiles", "--json", env=env)
    assert listed.returncode == 1
    projects = {p["name"]: p for p in json.loads(listed.stdout)["projects"]}
    assert {p["name"]: p["state"] for p in projects[good.name]["profiles"]} == {"gpu": "down", "ocr": "down"}, "the others are still listed"
    unreadable = projects[broken.name]
    assert "yaml" in unreadable["problem"]
    assert unreadable["profiles"] == [] and unreadable["always_on"] == [], "no profile membership is invented"
    assert {s["service"]: s["state"] for s in unreadable["seen"]} == {"db": "running", "llm": "running"}
    assert broken.name in listed.stderr

    table = cli("--config", str(config), "profiles", env=env)
    assert table.returncode == 1
    section = table.stdout.split(f"project {broken.name}")[1].split("project ")[0]
    assert "cannot read its compose model" in section and "yaml" in section
    assert "always on" not in section and "profile unknown" in section

    guessed = cli("--config", str(config), "profile", "up", "gpu", env=env)
    assert guessed.returncode == 1, "not 2 and not the other project's gpu"
    assert f"compose project {broken.name} could not be read" in guessed.stderr and "--project" in guessed.stderr
    assert "embed" not in container_states(kit, good.name)

    named = cli("--config", str(config), "profile", "up", "gpu", "--project", broken.name, env=env)
    assert named.returncode == 1 and "yaml" in named.stderr and "no project has profiles" not in named.stderr


def test_no_docker_cli_is_exit_1_with_the_reason_not_an_unknown_profile(kit: DockerKit, tmp_path: Path) -> None:
    project = kit.compose_project(DEPENDENCY_PROJECT)
    project.compose("up", "-d", "db")
    bare_path = tmp_path / "bin"
    bare_path.mkdir()
    env = {"PATH": str(bare_path), "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config")}

    up = cli("profile", "up", "gpu", "--project", project.name, env=env)
    assert up.returncode == 1 and "docker CLI is not installed" in up.stderr

    listed = cli("profiles", "--json", "--project", project.name, env=env)
    assert listed.returncode == 1
    (found,) = json.loads(listed.stdout)["projects"]
    assert "docker CLI is not installed" in found["problem"]
    assert found["always_on"] == [] and [s["service"] for s in found["seen"]] == ["db"]
