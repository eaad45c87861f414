import json
from pathlib import Path

from spark_tui.models.compose import ComposeProfile, ComposeProject, ComposeService, ServiceState
from spark_tui.models.containers import Container, ContainerStats
from spark_tui.core.compose.memory_budget import PeakStore, profile_budget, state_dir

GIB = 2**30


def project(*services: ComposeService, states: dict[str, str] | None = None) -> tuple[ComposeProject, ComposeProfile]:
    states = states or {}
    service_states = tuple(ServiceState(s.name, states.get(s.name, "missing")) for s in services)
    profile = ComposeProfile("ai", "gpu", tuple(s.name for s in services), "down", service_states)
    return ComposeProject("ai", services=services, profiles=(profile,)), profile


def test_limits_then_reservations_then_peaks(tmp_path: Path) -> None:
    peaks = PeakStore(tmp_path / "peaks.json")
    peaks.record("ai", "embed", 3 * GIB)
    proj, prof = project(
        ComposeService("vllm", ("gpu",), memory_limit=40 * GIB, memory_reservation=30 * GIB),
        ComposeService("ollama", ("gpu",), memory_reservation=10 * GIB),
        ComposeService("embed", ("gpu",)),
    )
    budget = profile_budget(proj, prof, available=100 * GIB, floor_gib=8, peaks=peaks)
    assert [(s.service, s.bytes, s.source) for s in budget.services] == [
        ("vllm", 40 * GIB, "limit"), ("ollama", 10 * GIB, "reservation"), ("embed", 3 * GIB, "peak")
    ]
    assert budget.expected == 53 * GIB and budget.remaining == 47 * GIB
    assert budget.verdict == "ok" and not budget.needs_confirmation
    assert budget.message == "expects 53.0 GiB (limit, peak, reservation), 100.0 GiB available: leaves 47.0 GiB"


def test_warns_below_the_floor_with_numbers() -> None:
    proj, prof = project(ComposeService("vllm", ("gpu",), memory_limit=60 * GIB))
    budget = profile_budget(proj, prof, available=64 * GIB, floor_gib=8)
    assert budget.verdict == "warn" and budget.needs_confirmation
    assert budget.message == "expects 60.0 GiB (limit), 64.0 GiB available: would leave 4.0 GiB, under the 8 GiB floor"


def test_more_than_is_available_says_how_much_more_never_a_negative_figure() -> None:
    proj, prof = project(ComposeService("vllm", ("gpu",), memory_limit=60 * GIB))
    budget = profile_budget(proj, prof, available=int(41.9 * GIB), floor_gib=8)
    assert budget.needs_confirmation
    assert budget.message == "expects 60.0 GiB (limit), 41.9 GiB available: needs 18.1 GiB more than is available"
    assert "-" not in budget.message


def test_the_budget_dialog_says_the_hint_covers_each_service() -> None:
    from spark_tui.ui.containers.controller import budget_text

    proj, prof = project(ComposeService("vllm", ("gpu",)), ComposeService("embed", ("gpu",)), states={"embed": "running"})
    budget = profile_budget(proj, prof, available=50 * GIB, hints={"gpu": 48.0})
    text = budget_text(prof, budget)
    assert "vllm                 counted in the config hint for the profile" in text
    assert "embed                already running" in text
    assert "unknown" not in text


def test_running_services_are_not_counted_again() -> None:
    proj, prof = project(
        ComposeService("vllm", ("gpu",), memory_limit=60 * GIB),
        ComposeService("embed", ("gpu",), memory_limit=4 * GIB),
        states={"vllm": "running"},
    )
    budget = profile_budget(proj, prof, available=20 * GIB, floor_gib=8)
    assert budget.expected == 4 * GIB and budget.verdict == "ok"
    assert [s.running for s in budget.services] == [True, False]


def test_the_config_hint_wins_and_names_itself() -> None:
    proj, prof = project(ComposeService("vllm", ("gpu",), memory_limit=60 * GIB))
    budget = profile_budget(proj, prof, available=100 * GIB, hints={"gpu": 95.0})
    assert budget.expected == 95 * GIB and budget.hint_used and budget.verdict == "warn"
    assert "95.0 GiB (config hint)" in budget.message
    specific = profile_budget(proj, prof, available=100 * GIB, hints={"gpu": 95.0, "ai/gpu": 10.0})
    assert specific.expected == 10 * GIB and specific.verdict == "ok"


def test_unknown_expectations_say_so_and_only_warn_when_already_short() -> None:
    proj, prof = project(ComposeService("vllm", ("gpu",)))
    assert profile_budget(proj, prof, available=100 * GIB).verdict == "unknown"
    short = profile_budget(proj, prof, available=4 * GIB)
    assert short.verdict == "warn" and "expected memory unknown" in short.message
    partly = project(ComposeService("a", ("gpu",), memory_limit=GIB), ComposeService("b", ("gpu",)))
    budget = profile_budget(*partly, available=100 * GIB)
    assert budget.verdict == "unknown" and "at least" in budget.message and "1 service(s) unknown" in budget.message
    assert profile_budget(*partly, available=None).verdict == "unknown"


def test_one_shot_jobs_and_already_up() -> None:
    proj, prof = project(ComposeService("fetch", ("gpu",), one_shot=True), ComposeService("vllm", ("gpu",), memory_limit=2 * GIB))
    assert profile_budget(proj, prof, available=100 * GIB).verdict == "ok"
    up = project(ComposeService("vllm", ("gpu",)), states={"vllm": "running"})
    assert profile_budget(*up, available=1).message == "profile gpu is already up: it needs no more memory"


def c(cid: str, service: str, oneoff: bool = False) -> Container:
    return Container(id=cid, name=cid, image="i", state="running", status="Up", compose_project="ai", compose_service=service, compose_oneoff=oneoff)


def test_peaks_sum_replicas_add_gpu_memory_persist_and_survive_a_bad_file(tmp_path: Path) -> None:
    now = [0.0]
    path = tmp_path / "state" / "service-peaks.json"
    store = PeakStore(path, clock=lambda: now[0])
    containers = [c("a", "embed"), c("b", "embed"), c("x", "embed", oneoff=True), c("v", "vllm")]
    stats = {
        "a": ContainerStats("a", memory_used=GIB), "b": ContainerStats("b", memory_used=GIB, gpu_memory=GIB),
        "x": ContainerStats("x", memory_used=50 * GIB), "v": ContainerStats("v"),
    }
    store.observe(containers, stats)
    assert store.get("ai", "embed") == 3 * GIB and store.get("ai", "vllm") is None
    assert not path.exists(), "saving waits a while"
    store.observe(containers, {"a": ContainerStats("a", memory_used=GIB // 2)})
    assert store.get("ai", "embed") == 3 * GIB, "a peak only rises"
    now[0] = 31.0
    store.observe(containers, {})
    assert json.loads(path.read_text())["peaks"] == {"ai/embed": 3 * GIB}
    assert PeakStore(path).get("ai", "embed") == 3 * GIB
    path.write_text("{not json")
    broken = PeakStore(path)
    assert broken.get("ai", "embed") is None and "cannot read" in broken.problem


def test_state_dir_follows_xdg() -> None:
    assert state_dir({"XDG_STATE_HOME": "/s"}) == Path("/s/spark-tui")
    assert state_dir({"HOME": "/h"}) == Path("/h/.local/state/spark-tui")


def test_peaks_of_services_long_unseen_are_forgotten_and_the_count_is_bounded(tmp_path: Path, monkeypatch) -> None:
    import spark_tui.core.compose.memory_budget as memory_budget

    day = 86_400.0
    wall = [1_000 * day]
    path = tmp_path / "service-peaks.json"
    path.write_text(json.dumps({"version": 1, "peaks": {"old/vllm": 9 * GIB}}))  # before "seen" existed: kept
    store = PeakStore(path, clock=lambda: 0.0, wall_clock=lambda: wall[0])
    assert store.get("old", "vllm") == 9 * GIB
    store.record("ai", "embed", GIB)
    store.save()
    assert json.loads(path.read_text())["seen"] == {"ai/embed": 1_000 * day, "old/vllm": 1_000 * day}

    wall[0] += 60 * day
    store.record("ai", "embed", GIB // 2)  # seen again, not a new high: still remembered as seen
    wall[0] += 40 * day  # old/vllm: 100 days unseen; ai/embed: 40
    store.save()
    assert json.loads(path.read_text())["peaks"] == {"ai/embed": GIB}
    assert PeakStore(path, wall_clock=lambda: wall[0]).get("old", "vllm") is None

    monkeypatch.setattr(memory_budget, "MAX_PEAKS", 3)
    many = PeakStore(tmp_path / "many.json", clock=lambda: 0.0, wall_clock=lambda: wall[0])
    for n in range(5):
        wall[0] += memory_budget.SEEN_STEP_S
        many.record("p", f"s{n}", GIB)
    many.save()
    assert sorted(json.loads((tmp_path / "many.json").read_text())["peaks"]) == ["p/s2", "p/s3", "p/s4"], "the most recently seen stay"
