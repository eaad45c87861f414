"""Issue #13: every path where other programs' text enters, fed the hostile corpus (tests/hostile.py)
by real programs: a busybox container logging it, Docker holding it in names/labels/health output,
`docker compose` failing with it in its message, a loopback service answering it in its status
line, error body, model ids and version. What comes out of each source holds no control, C1 or
bidi character; the trick shows as stand-ins ("␛", "␇") next to its PWNED marker.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from pathlib import Path

import pytest
from probe_servers import Reply, serving_in_thread

from spark_tui.core.compose.cli import CommandRun, ComposeError, docker_cli, run_json
from spark_tui.core.compose.projects import ComposeProjects
from spark_tui.core.docker.clean import clean_tree
from spark_tui.core.docker.containers import ContainerCatalog, container_from_inspect, inspect_container
from spark_tui.core.docker.events import event_from_message
from spark_tui.core.docker.logs import LogFollower
from spark_tui.core.services.engine import ProbeEngine
from spark_tui.models.compose import ComposeCommand
from spark_tui.models.probes import ProbeChecked, ProbeEvent, ProbeSpec, ProbeState
from spark_tui.models.settings import ComposeConfig
from tests.integration.conftest import DockerKit, wait_for

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile import (  # noqa: E402
    BENIGN, FORBIDDEN_OUTPUT, HOSTILE, HOSTILE_BYTES, LONG_NAMES, MARKER, find_forbidden,
)

# What no sanitised text may hold: C0 (tab and newline too: they change layout), DEL, C1, the
# bidi embeddings/overrides/isolates, the line/paragraph separators and lone surrogates.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]")


def assert_safe(text: str | None, where: str) -> None:
    assert text is not None, where
    found = UNSAFE.search(text)
    assert found is None, f"{where}: {found.group()!r} at {found.start()} in {text[:200]!r}"


def corpus_bytes(names: bool = True) -> bytes:
    """The whole corpus as a program would write it: one entry per line, named."""
    lines = [f"{name}: {text}".encode("utf-8", "surrogatepass") for name, text in HOSTILE]
    lines += [name.encode() + b": " + raw for name, raw in HOSTILE_BYTES]
    lines += [f"{name}: {text}".encode() for name, text in BENIGN]
    return b"\n".join(lines) + b"\n"


def short_entries() -> list[tuple[str, str]]:
    return [(name, text) for name, text in HOSTILE if name not in LONG_NAMES]


def test_the_corpus_is_hostile_on_its_own() -> None:
    # Control: written as it is, the corpus trips nearly every pattern the pty tests look for.
    found = set(find_forbidden(corpus_bytes()))
    c1 = {pattern for pattern in FORBIDDEN_OUTPUT if len(pattern) == 2 and pattern[0] == 0xC2}
    assert set(FORBIDDEN_OUTPUT) - c1 <= found  # every pattern but the C1 controls the corpus does not use
    assert {b"\xc2\x9b", b"\xc2\x9d", b"\xc2\x90", b"\xc2\x9c", b"\xc2\x85"} <= found


# -- a real container ------------------------------------------------------------------------


def test_container_logging_the_corpus_comes_out_of_the_follower_clean(kit: DockerKit, engine, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.txt"
    secret = "HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz0123"
    corpus.write_bytes(corpus_bytes() + f"\x1b[33m{secret}\x1b[0m\n".encode())
    cid = kit.run("hostile-logs", "cat", "/corpus", options=("-v", f"{corpus}:/corpus:ro"))
    wait_for(lambda: kit.inspect(cid)["State"]["Status"] == "exited", what="the container to print its corpus")
    lines = list(LogFollower(engine, cid, tail=100_000, follow=False).lines())
    assert len(lines) >= len(HOSTILE) + len(HOSTILE_BYTES)
    for line in lines:
        assert_safe(line.text, "log line")
        for start, end, _style in line.spans:
            assert 0 <= start < end <= len(line.text)
    text = "\n".join(line.text for line in lines)
    assert "osc0_title_bel: before␛]0;PWNED-title␇after" in text  # the trick, shown
    assert "csi_clear_and_home: ␛[2J␛[HPWNED-fake-screen" in text
    assert "bidi_rlo: PWNED-<U+202E>txt.exe" in text
    assert "c1_csi_clear: \\x9b2J\\x9bHPWNED-c1-csi" in text
    assert "markup_close_only: [/]PWNED" in text  # markup kept as typed
    for name, benign in BENIGN:
        if benign:
            assert f"{name}: {benign}" in text, name  # Unicode passes unchanged
    coloured = next(line for line in lines if line.text.startswith("sgr_colour"))
    assert "␛" not in coloured.text and "ERROR" in coloured.text and coloured.spans  # colour kept as spans
    masked = next(line for line in lines if "HF_TOKEN" in line.text)
    assert "hf_abcdefghijklmnopqrstuvwxyz0123" not in masked.text and masked.spans  # secret masked first
    longest = max(len(line.text) for line in lines)
    assert longest <= 4_096, longest  # a megabyte line is cut with a mark, not shown whole
    assert any("[cut:" in line.text for line in lines)


def test_names_labels_and_health_output_from_docker_are_clean(kit: DockerKit, engine) -> None:
    title = "\x1b]0;PWNED-label\x07"
    health = "printf 'sick \\033]0;PWNED-health\\007 \\033[2J\\n'; exit 1"
    cid = kit.run(
        "hostile-meta", "sleep", "600",
        options=(
            "--label", f"evil={title}\u202e\x9b",
            "--label", "sparktui.note=[@click=app.quit]PWNED[/]",
            "--health-cmd", health, "--health-interval", "1s", "--health-retries", "1",
        ),
    )

    def health_output_seen() -> bool:
        log = (kit.inspect(cid)["State"].get("Health") or {}).get("Log") or []
        return bool(log and "PWNED" in (log[-1].get("Output") or ""))

    wait_for(health_output_seen, what="the healthcheck to fail with its output")
    container = container_from_inspect(inspect_container(engine, cid))
    assert container.labels["evil"] == "␛]0;PWNED-label␇<U+202E>\\x9b"
    assert container.labels["sparktui.note"] == "[@click=app.quit]PWNED[/]"
    assert_safe(container.health_output, "health output")
    assert "␛]0;PWNED-health␇" in (container.health_output or "")
    listed = next(c for c in ContainerCatalog(engine).refresh().containers if c.id == cid)
    for value in (listed.name, listed.image, listed.status, *listed.labels, *listed.labels.values()):
        assert_safe(value, "listed container")
    shown = clean_tree(inspect_container(engine, cid))  # what the inspect screen draws
    assert shown["Config"]["Labels"]["evil"] == "␛]0;PWNED-label␇<U+202E>\\x9b"
    assert "\x1b" in inspect_container(engine, cid)["Config"]["Labels"]["evil"]  # the data keeps the raw


def test_event_attributes_are_clean() -> None:
    # The engine's event message as it arrives (a label set by whoever made the container).
    event = event_from_message({
        "Type": "container", "Action": "start\x1b[2J", "Actor": {"ID": "a" * 64, "Attributes": {"name": "x\x1b]0;PWNED\x07", "evil\x9b": "\u202ey"}},
    })
    assert event is not None
    assert event.name == "x␛]0;PWNED␇" and event.action == "start␛[2J"
    assert event.attributes == {"name": "x␛]0;PWNED␇", "evil\\x9b": "<U+202E>y"}


# -- docker compose ----------------------------------------------------------------------------


def yaml_quoted(text: str) -> str:
    """A YAML double-quoted scalar holding `text` exactly (escapes for every control)."""
    out = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif code < 0x20 or 0x7F <= code <= 0x9F:
            out.append(f"\\x{code:02x}")
        elif code in (0x2028, 0x2029) or 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def hostile_compose(kit: DockerKit) -> Path:
    """A compose file whose interpolation error repeats the corpus raw (compose 2.x writes the
    `${VAR:?message}` message as it is; its validation errors quote with %q, so not those)."""
    entries = [
        text.replace("$", "S").replace("}", ")")
        for name, text in short_entries()
        if "\n" not in text and "\r" not in text and name != "lone_surrogate"
    ]
    message = " | ".join(entries)
    project = kit.compose_project(
        f"""
        name: {{name}}
        services:
          web:
            image: {yaml_quoted("${SPARKTUI_UNSET_" + kit.prefix.replace("-", "_").upper() + ":?" + message + "}")}
        """
    )
    return project.file


def test_a_compose_error_carrying_the_corpus_is_clean(kit: DockerKit, engine) -> None:
    file = hostile_compose(kit)
    argv = [docker_cli(), "compose", "-f", str(file), "config", "--format", "json"]
    with pytest.raises(ComposeError) as raised:
        run_json(argv, env=engine.compose_env())
    message = str(raised.value)
    assert_safe(message, "compose error")
    assert "␛]0;PWNED-title␇" in message and "required variable" in message

    # Through the projects source, as the profiles panel reads it …
    projects = ComposeProjects(ComposeConfig(files=(str(file),)), env=engine.compose_env())
    [project] = [p for p in projects.overview([]).projects if p.problem]
    assert_safe(project.problem, "project problem")
    assert MARKER in (project.problem or "")

    # … and as a command streams it, line by line, with its result.
    run = CommandRun(ComposeCommand(argv=tuple(argv), description="config", env=engine.compose_env()), timeout_s=30)
    lines = [line.text for line in run.lines()]
    assert run.result is not None and not run.result.ok
    for text in [*lines, run.result.message]:
        assert_safe(text, "compose output")
    assert any("␛[2JPWNED" in text for text in lines)


# -- a loopback service ------------------------------------------------------------------------


async def engine_results(specs: list[ProbeSpec], wanted: set[str], timeout: float = 8.0) -> dict[str, object]:
    """Run the probe engine (the TUI's path) until each wanted probe has a result with extras."""
    seen: dict[str, object] = {}
    arrived = asyncio.Event()

    def record(event: ProbeEvent) -> None:
        if isinstance(event, ProbeChecked) and event.status.result is not None:
            seen[event.status.name] = event.status.result
            arrived.set()

    engine = ProbeEngine(specs, record)
    task = asyncio.create_task(engine.run())
    deadline = time.monotonic() + timeout
    try:
        while not (wanted <= set(seen) and all(getattr(seen[n], "state") is not ProbeState.UP or getattr(seen[n], "model") for n in wanted)):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no results for {wanted - set(seen)}"
            arrived.clear()
            await asyncio.wait_for(arrived.wait(), remaining)
    finally:
        engine.stop()
        await asyncio.wait_for(task, 5)
    return seen


HOSTILE_REASON = "Unavailable \x1b]0;PWNED-reason\x07 \x9b2J \u202eexe [@click=app.quit]x[/]"


def hostile_routes() -> tuple[dict[str, Reply], dict[str, Reply]]:
    # A plain-text body (the error as the service wrote it), the first 900 characters of the corpus.
    body = " ".join(text for _, text in short_entries())[:900].encode("utf-8", "surrogatepass")
    down = {"/health": Reply(503, body, headers={"Content-Type": "text/plain; charset=utf-8"}, reason=HOSTILE_REASON)}
    model_id = "Qwen/\x1b]0;PWNED-model\x07\x1b[2J\u202eevil"
    up = {
        "/health": Reply(200),
        "/v1/models": Reply(200, {"object": "list", "data": [{"id": model_id, "object": "model", "max_model_len": 4096}]}),
        "/version": Reply(200, {"version": "0.11\x1b]0;PWNED-version\x07\x85"}),
    }
    return down, up


async def test_a_service_answering_the_corpus_gives_clean_results() -> None:
    down_routes, up_routes = hostile_routes()
    with serving_in_thread(down_routes) as down, serving_in_thread(up_routes) as up:
        specs = [
            ProbeSpec(name="evil-down", kind="vllm", url=down.url, interval=0.2, timeout=2.0),
            ProbeSpec(name="evil-up", kind="vllm", url=up.url, interval=0.2, timeout=2.0),
        ]
        results = await engine_results(specs, {"evil-down", "evil-up"})
    failed, served = results["evil-down"], results["evil-up"]
    assert failed.state is ProbeState.DOWN  # type: ignore[attr-defined]
    assert_safe(failed.error, "error from a 503 body")  # type: ignore[attr-defined]
    assert "before␛]0;PWNED-title␇after" in failed.error  # type: ignore[attr-defined]
    assert served.state is not ProbeState.DOWN  # type: ignore[attr-defined]
    for value in (served.model, served.version, *(m.name for m in served.models or ())):  # type: ignore[attr-defined]
        assert_safe(value, "served model / version")
    assert served.model == "Qwen/␛]0;PWNED-model␇␛[2J<U+202E>evil"  # type: ignore[attr-defined]
    for key, value in served.details.items():  # type: ignore[attr-defined]
        assert_safe(key, "detail key")
        if isinstance(value, str):
            assert_safe(value, "detail")

