from datetime import datetime, timezone
from pathlib import Path

import pytest

from spark_tui.models.settings import ComposeConfig
from spark_tui.models.compose import ComposeOverview, UpPreview
from spark_tui.models.containers import Container
from spark_tui.core.compose.cli import ComposeError, recreated_containers
from spark_tui.core.compose.model import InvalidName, parse_memory, profile_state, service_state, services_from_config
from spark_tui.core.compose.projects import ComposeProjects, ProfileNotFound, ProjectUnreadable, find_profile

MODEL = {
    "name": "ai",
    "services": {
        "webui": {"image": "open-webui", "environment": {"HF_TOKEN": "x"}},
        "vllm": {
            "image": "vllm/vllm-openai",
            "profiles": ["gpu"],
            "deploy": {"resources": {"limits": {"memory": "42949672960"}, "reservations": {"devices": [{"capabilities": ["gpu"], "count": "all"}]}}},
            "depends_on": {"download": {"condition": "service_completed_successfully", "required": True}},
        },
        "download": {"image": "hf-cli", "profiles": ["gpu"]},
        "ollama": {"image": "ollama/ollama", "profiles": ["gpu", "ollama"], "runtime": "nvidia", "mem_reservation": "8g"},
        "docling": {"image": "docling-serve", "profiles": ["ocr"], "gpus": "all", "deploy": {"replicas": 2}},
    },
}


def container(service: str, state: str = "running", health: str | None = None, exit_code: int | None = None, project: str = "ai", oneoff: bool = False, n: int = 1) -> Container:
    return Container(
        id=f"{service}{n}".ljust(64, "0"), name=f"{project}-{service}-{n}", image="i", state=state, status=state, health=health,
        exit_code=exit_code, compose_project=project, compose_service=service, compose_oneoff=oneoff,
        compose_config_files=("/srv/ai/compose.yaml",), compose_working_dir="/srv/ai",
        created_at=datetime(2026, 1, n, tzinfo=timezone.utc),
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [("536870912", 512 * 2**20), (536870912, 512 * 2**20), ("512m", 512 * 2**20), ("8g", 8 * 2**30), ("1.5GB", 3 * 2**29),
     ("0", None), (None, None), ("lots", None), (True, None)],
)
def test_parse_memory(value, expected) -> None:
    assert parse_memory(value) == expected


def test_services_from_config() -> None:
    services = {s.name: s for s in services_from_config(MODEL)}
    assert services["vllm"].profiles == ("gpu",) and services["vllm"].gpu and services["vllm"].memory_limit == 40 * 2**30
    assert services["vllm"].depends_on == ("download",)
    assert services["download"].one_shot and not services["vllm"].one_shot
    assert services["ollama"].gpu and services["ollama"].memory_reservation == 8 * 2**30 and services["ollama"].memory_limit is None
    assert services["docling"].gpu and services["docling"].replicas == 2
    assert services["webui"].profiles == () and not services["webui"].gpu


@pytest.mark.parametrize("bad", ["-rm", "a b", "x;rm", ""])
def test_names_that_compose_would_not_produce_are_refused(bad: str) -> None:
    with pytest.raises(InvalidName):
        services_from_config({"services": {bad: {"image": "x"}}})
    with pytest.raises(InvalidName):
        services_from_config({"services": {"ok": {"image": "x", "profiles": [bad]}}})


def test_service_states() -> None:
    svc = {s.name: s for s in services_from_config(MODEL)}
    assert service_state(svc["vllm"], []).state == "missing"
    assert service_state(svc["vllm"], [container("vllm", "exited", exit_code=0)]).state == "stopped"
    assert service_state(svc["download"], [container("download", "exited", exit_code=0)]).state == "done"
    assert service_state(svc["download"], [container("download", "exited", exit_code=1)]).state == "stopped"
    assert service_state(svc["vllm"], [container("vllm", health="starting")]).state == "starting"
    assert service_state(svc["vllm"], [container("vllm", health="unhealthy")]).state == "unhealthy"
    assert service_state(svc["vllm"], [container("vllm", "restarting")]).state == "unhealthy"
    assert service_state(svc["vllm"], [container("vllm", health="healthy")]).state == "running"


def overview_of(containers: list[Container], config: ComposeConfig | None = None, model: dict = MODEL, tmp: Path | None = None) -> tuple[ComposeOverview, ComposeProjects, list]:
    calls: list = []

    def load_json(argv, env=None, cwd=None):
        calls.append((argv, env, cwd))
        return model

    projects = ComposeProjects(config, env={"DOCKER_HOST": "unix:///x.sock"}, docker="/usr/bin/docker", load_json=load_json)
    return projects.overview(containers), projects, calls


def test_profile_states_up_partial_down(tmp_path: Path) -> None:
    compose_file = tmp_path / "compose.yaml"
    compose_file.write_text("services: {}")
    containers = [
        container("webui"),
        container("vllm", health="healthy"),
        container("download", "exited", exit_code=0),
        container("ollama", "exited", exit_code=0),
        container("webui", oneoff=True, n=2),
    ]
    containers = [c.__class__(**{**c.__dict__, "compose_config_files": (str(compose_file),), "compose_working_dir": str(tmp_path)}) for c in containers]
    overview, _, calls = overview_of(containers)
    (project,) = overview.projects
    states = {p.name: p.state for p in project.profiles}
    assert states == {"gpu": "partial", "ocr": "down", "ollama": "down"}
    assert project.profile("gpu").summary == "partial (2/3)"
    assert project.profile("gpu").gpu
    assert [(s.service, s.state) for s in project.always_on] == [("webui", "running")]
    argv, env, cwd = calls[0]
    assert argv == ["/usr/bin/docker", "compose", "-p", "ai", "-f", str(compose_file), "--project-directory", str(tmp_path), "--profile", "*", "config", "--format", "json"]
    assert env == {"DOCKER_HOST": "unix:///x.sock"} and cwd == str(tmp_path)


def test_all_satisfied_is_up_and_nothing_running_is_down() -> None:
    from spark_tui.models.compose import ServiceState

    assert profile_state([ServiceState("a", "running"), ServiceState("b", "done")]) == "up"
    assert profile_state([ServiceState("a", "stopped"), ServiceState("b", "done")]) == "down"
    assert profile_state([ServiceState("a", "starting"), ServiceState("b", "missing")]) == "partial"
    assert profile_state([]) == "down"


def test_up_and_down_commands_touch_only_the_profiles_services(tmp_path: Path) -> None:
    compose_file = tmp_path / "compose.yaml"
    compose_file.write_text("services: {}")
    overview, projects, _ = overview_of([], ComposeConfig(files=(str(compose_file),)))
    project = overview.projects[0]
    assert project.source == "config" and project.name == "ai"
    up = projects.up_command(project, project.profile("gpu"))
    assert up.argv == ("/usr/bin/docker", "compose", "-p", "ai", "-f", str(compose_file), "--profile", "gpu", "up", "-d", "download", "ollama", "vllm")
    assert up.env == {"DOCKER_HOST": "unix:///x.sock"}
    down, notes = projects.down_command(project, project.profile("ollama"), remove=True)
    assert down.argv[-5:] == ("ollama", "rm", "--stop", "--force", "ollama") and notes == ()


def test_down_keeps_a_service_another_running_profile_shares(tmp_path: Path) -> None:
    compose_file = tmp_path / "compose.yaml"
    compose_file.write_text("services: {}")
    running = [container("vllm"), container("ollama"), container("download", "exited", exit_code=0)]
    running = [c.__class__(**{**c.__dict__, "compose_config_files": (str(compose_file),), "compose_working_dir": None}) for c in running]
    overview, projects, _ = overview_of(running)
    project = overview.projects[0]
    down, notes = projects.down_command(project, project.profile("ollama"))
    assert down is None
    assert notes == ("kept ollama: profile gpu also uses it and is running",)
    down, notes = projects.down_command(project, project.profile("gpu"))
    assert down.argv[-4:] == ("stop", "download", "ollama", "vllm") and notes == ()


def test_unreadable_projects_keep_their_containers_and_say_why(tmp_path: Path) -> None:
    compose_file = tmp_path / "compose.yaml"
    compose_file.write_text("services: [")

    def failing(argv, env=None, cwd=None):
        raise ComposeError("yaml: line 1: did not find expected node content")

    projects = ComposeProjects(ComposeConfig(files=(str(compose_file),)), docker="docker", load_json=failing)
    gone = container("webui")  # labels name a file that no longer exists
    gone = gone.__class__(**{**gone.__dict__, "compose_project": "old", "compose_config_files": (str(tmp_path / "moved.yaml"),)})
    overview = projects.overview([gone])
    problems = {p.name: p.problem for p in overview.projects}
    assert problems[tmp_path.name] == "yaml: line 1: did not find expected node content"
    assert problems["old"] == f"compose file {tmp_path / 'moved.yaml'} no longer exists"
    old = next(p for p in overview.projects if p.name == "old")
    assert old.always_on == () and old.profiles == (), "an unread model invents no profile membership"
    assert [(s.service, s.state) for s in old.seen] == [("webui", "running")]


def test_a_missing_docker_cli_is_the_projects_problem_not_always_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no docker here
    (tmp_path / "compose.yaml").write_text("services: {}")
    labelled = container("vllm")
    labelled = labelled.__class__(**{**labelled.__dict__, "compose_config_files": (str(tmp_path / "compose.yaml"),)})
    overview = ComposeProjects(ComposeConfig()).overview([labelled])
    (project,) = overview.projects
    assert "docker CLI is not installed" in project.problem
    assert project.always_on == () and [s.service for s in project.seen] == ["vllm"]


def test_an_unreadable_project_stops_find_profile_from_guessing(tmp_path: Path) -> None:
    good = tmp_path / "good" / "compose.yaml"
    good.parent.mkdir()
    good.write_text("services: {}")
    broken = container("vllm", project="broken")
    broken = broken.__class__(**{**broken.__dict__, "compose_config_files": (str(tmp_path / "moved.yaml"),)})
    overview, _, _ = overview_of([broken], ComposeConfig(files=(str(good),)))
    assert {p.name for p in overview.projects} == {"ai", "broken"}
    with pytest.raises(ProjectUnreadable) as raised:
        find_profile(overview, "gpu")  # "ai" has gpu, but so might "broken"
    message = str(raised.value)
    assert "compose project broken could not be read" in message and "moved.yaml" in message and "--project" in message
    with pytest.raises(ProjectUnreadable, match=r"^compose project broken could not be read \(compose file .*moved.yaml no longer exists\)$"):
        find_profile(overview, "gpu", "broken")
    project, profile = find_profile(overview, "gpu", "ai")
    assert (project.name, profile.name) == ("ai", "gpu")


def test_find_profile_messages(tmp_path: Path) -> None:
    compose_file = tmp_path / "compose.yaml"
    compose_file.write_text("services: {}")
    overview, _, _ = overview_of([], ComposeConfig(files=(str(compose_file),)))
    project, profile = find_profile(overview, "gpu")
    assert (project.name, profile.name) == ("ai", "gpu")
    with pytest.raises(ProfileNotFound, match=r"no profile 'gpux' \(known: ai/gpu, ai/ocr, ai/ollama\)"):
        find_profile(overview, "gpux")
    with pytest.raises(ProfileNotFound, match=r"no compose project named 'x' \(known: ai\)"):
        find_profile(overview, "gpu", "x")


# What compose 2.40 prints (stderr, plain progress) for `--dry-run … --profile gpu up -d llm`
# after db's environment changed: db is recreated, and started under a temporary name
# (with --no-start, as preview_up runs it, the Starting/Started lines are absent).
DRY_RUN_OUTPUT = """\
 DRY-RUN MODE -  Container ai-webui-1  Recreate
 DRY-RUN MODE -  Container ai-webui-1  Recreated
 DRY-RUN MODE -  Container ai-vllm-1  Recreate
 DRY-RUN MODE -  Container ai-vllm-1  Recreated
 DRY-RUN MODE -  Container ai-old-1  Recreate
 DRY-RUN MODE -  Container ai-download-1  Creating
 DRY-RUN MODE -  Container 1c15c0c6fe6b_ai-webui-1  Starting
 DRY-RUN MODE -  Container 1c15c0c6fe6b_ai-webui-1  Started
 DRY-RUN MODE -  Container ai-ollama-1  Running
"""


def test_dry_run_output_names_the_containers_compose_would_recreate() -> None:
    assert recreated_containers(DRY_RUN_OUTPUT.splitlines()) == ("ai-webui-1", "ai-vllm-1", "ai-old-1")
    assert recreated_containers(["Container ai-db-1  Recreate", "some other line", ""]) == ("ai-db-1",)


def test_preview_up_names_only_running_containers_outside_the_profile(tmp_path: Path) -> None:
    compose_file = tmp_path / "compose.yaml"
    compose_file.write_text("services: {}")
    ran: list = []

    def dry_run(command):
        ran.append(command)
        return recreated_containers(DRY_RUN_OUTPUT.splitlines())

    stopped_dependency = container("old", "exited", exit_code=0)
    containers = [container("webui"), container("vllm"), stopped_dependency]
    overview, projects, _ = overview_of(containers, ComposeConfig(files=(str(compose_file),)))
    projects._dry_run = dry_run
    project = overview.projects[0]
    preview = projects.preview_up(project, project.profile("gpu"), containers)
    assert preview == UpPreview(recreates=("ai-webui-1",)), "vllm is the profile's own; old does not run"
    (command,) = ran
    up = projects.up_command(project, project.profile("gpu")).argv
    assert command.argv == (*up[:2], "--dry-run", *up[2:-3], "--no-start", *up[-3:]), "up -d as it would run, starting nothing"


def test_a_failed_dry_run_checks_nothing_and_says_why(tmp_path: Path) -> None:
    compose_file = tmp_path / "compose.yaml"
    compose_file.write_text("services: {}")

    def unsupported(command):
        raise ComposeError("unknown flag: --dry-run")

    overview, projects, _ = overview_of([container("webui")], ComposeConfig(files=(str(compose_file),)))
    projects._dry_run = unsupported
    project = overview.projects[0]
    assert projects.preview_up(project, project.profile("gpu"), [container("webui")]) == UpPreview(problem="unknown flag: --dry-run")
