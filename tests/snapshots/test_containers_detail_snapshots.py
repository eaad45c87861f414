"""What the user sees on the containers screen's detail views: a container's logs (`l`) and its
`docker inspect` (`i`), each small and large, with hostile text from tests/hostile.py in them.

The demo fleet is the machine; only the engine's answers for the one container are the corpus.
Log lines are Docker's own bytes ("<RFC 3339 stamp> <text>" per line) cut by the real follower's
line path (core.docker.logs.lines_from_chunks: secrets masked, then sanitised); the inspect
document is shaped as the engine sends it and masked as the real backend masks it (mask_any).
Everything else (the screens, their keys, the message path) is the app's own. Stamps are
fixed, and the log stream goes quiet after its tail: nothing moves between two runs.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from containers_support import feed_containers
from hostile import HOSTILE_TEXT, MARKER
from rich.json import JSON
from support import EPOCH, FakeClock, demo_sources, drawn, wait_for
from textual.containers import VerticalScroll
from textual.widgets import Log, Static

from spark_tui.core.demo.docker import DemoDocker
from spark_tui.core.demo.fleet import utc
from spark_tui.core.docker.clean import clean_tree
from spark_tui.core.docker.logs import lines_from_chunks
from spark_tui.core.masking import MASK, mask_any
from spark_tui.models.containers import LogLine
from spark_tui.ui.app import make_app
from spark_tui.ui.containers.inspect import InspectScreen
from spark_tui.ui.containers.logs import LogsScreen
from spark_tui.ui.containers.screen import ContainersScreen
from spark_tui.ui.containers.table import ContainerTable

VLLM = "0002".ljust(64, "d")  # ai-vllm-1 in the demo fleet

# (what the line is, its text as the container wrote it): a vLLM server's log with the corpus
# in it. Few enough lines that 80x24 shows them all.
LOG_LINES: list[tuple[str, str]] = [
    ("vllm", "INFO 09-21 14:15:20 [api_server.py:1024] Starting vLLM API server on http://0.0.0.0:8000"),
    ("sgr_colour", HOSTILE_TEXT["sgr_colour"]),
    ("markup", "[red]x[/red] PWNED"),
    ("markup_click_action", HOSTILE_TEXT["markup_click_action"]),
    ("markup_close_only", HOSTILE_TEXT["markup_close_only"]),
    ("osc0_title_bel", HOSTILE_TEXT["osc0_title_bel"]),
    ("osc8_link_st", HOSTILE_TEXT["osc8_link_st"]),
    ("osc52_clipboard_bel", HOSTILE_TEXT["osc52_clipboard_bel"]),
    ("csi_clear_and_home", HOSTILE_TEXT["csi_clear_and_home"]),
    ("c1_csi_clear", HOSTILE_TEXT["c1_csi_clear"]),
    ("backspace_run", HOSTILE_TEXT["backspace_run"]),
    ("cr_overwrite", HOSTILE_TEXT["cr_overwrite"]),
    ("nul", HOSTILE_TEXT["nul"]),
    ("bidi_rlo", HOSTILE_TEXT["bidi_rlo"]),
    ("secret", "TOKEN=abc PWNED"),
    ("bearer", 'curl -H "Authorization: Bearer eyPWNEDabcdefgh12345678" http://127.0.0.1:8000/v1/models'),
    ("one_megabyte_line", HOSTILE_TEXT["one_megabyte_line"]),
    ("vllm", "INFO 09-21 14:15:38 [metrics.py:455] GPU KV cache usage: 37.5%, Prefix cache hit rate: 61.2%"),
]
RAW_BYTES = b"invalid_utf8 | PWNED-\xff\xfe \xc2\x9b2J"  # undecodable bytes and a UTF-8 encoded C1 CSI


@pytest.fixture(autouse=True)
def fresh_stamps(monkeypatch):
    """The logs screen caches each second's "HH:MM:SS" for the process: one drawn before the
    snapshots' UTC (by another test in this worker, in the machine's zone) must not be reused."""
    monkeypatch.setattr("spark_tui.ui.containers.logs._STAMPS", {})


def docker_time(seconds: float) -> str:
    """A time as the engine writes it: UTC, nanoseconds, "Z"."""
    return utc(seconds).strftime("%Y-%m-%dT%H:%M:%S") + ".412345678Z"


def docker_log_bytes() -> bytes:
    """The log as the engine sends it with timestamps=1: one stamped line per line written, a
    second apart before the demo clock's now."""
    out = []
    # "name | text", not "name: text": the masker would read "name: TOKEN=abc" as one setting named "name".
    texts = [f"{name} | {text}".encode("utf-8", "surrogatepass") if name != "vllm" else text.encode() for name, text in LOG_LINES]
    texts.insert(len(texts) - 2, RAW_BYTES)
    for n, raw in enumerate(texts):
        stamp = utc(EPOCH + 120 + n).strftime("%Y-%m-%dT%H:%M:%S") + f".{n:03d}456789Z"
        out.append(stamp.encode() + b" " + raw + b"\n")
    return b"".join(out)


class QuietAfterTail:
    """A follow that sent its tail and then nothing more: lines cut by the real follower's path,
    one batch, then quiet until the screen stops it."""

    error: str | None = None

    def __init__(self, container_id: str, data: bytes) -> None:
        self.container_id = container_id
        self.data = data
        self._stopped = threading.Event()

    def batches(self) -> Iterator[list[LogLine]]:
        yield list(lines_from_chunks(self.container_id, [self.data]))
        self._stopped.wait(60)

    def stop(self) -> None:
        self._stopped.set()


def inspect_document(container_id: str, name: str) -> dict[str, Any]:
    """The parts of `docker inspect` that matter here, in the engine's order and shape: a vLLM
    container whose health check printed the corpus, with a secret in its env and markup and
    escapes in a label."""
    created = docker_time(EPOCH - 3 * 3600)
    return {
        "Id": container_id,
        "Created": created,
        "Path": "vllm",
        "Args": ["serve", "Qwen/Qwen3-32B-FP8", "--api-key", "sk-PWNEDdemo0123456789abcdef"],
        "State": {
            "Status": "running", "Running": True, "Paused": False, "Restarting": False, "OOMKilled": False,
            "Dead": False, "Pid": 41873, "ExitCode": 0, "Error": "", "StartedAt": created,
            "FinishedAt": "0001-01-01T00:00:00Z",
            "Health": {
                "Status": "unhealthy", "FailingStreak": 3,
                "Log": [{
                    "Start": docker_time(EPOCH + 120), "End": docker_time(EPOCH + 121), "ExitCode": 1,
                    "Output": "curl: (7) Failed to connect\n" + HOSTILE_TEXT["osc0_title_bel"] + "\n" + HOSTILE_TEXT["markup_style"] + "\n",
                }],
            },
        },
        "Image": "sha256:" + "5e".ljust(64, "0"),
        "Name": f"/{name}",
        "RestartCount": 2,
        "Config": {
            "Hostname": container_id[:12],
            "ExposedPorts": {"8000/tcp": {}},
            "Env": [
                "TOKEN=abc",
                "HF_TOKEN=hf_PWNEDdemoDemoDemoDemoDemoDemo",
                "HF_HOME=/models/huggingface",
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ],
            "Cmd": ["serve", "Qwen/Qwen3-32B-FP8", "--api-key", "sk-PWNEDdemo0123456789abcdef"],
            "Healthcheck": {"Test": ["CMD-SHELL", "curl -fsS http://127.0.0.1:8000/health"], "Interval": 30_000_000_000},
            "Image": "vllm/vllm-openai:v0.11.0",
            "Labels": {
                "com.docker.compose.project": "ai",
                "com.docker.compose.service": "vllm",
                "org.opencontainers.image.title": "[red]x[/red] " + HOSTILE_TEXT["markup_click_action"],
                "org.opencontainers.image.description": HOSTILE_TEXT["csi_clear_and_home"] + " " + HOSTILE_TEXT["bidi_rlo"],
            },
        },
        "NetworkSettings": {"Ports": {"8000/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8000"}, {"HostIp": "::", "HostPort": "8000"}]}},
        "Mounts": [{"Type": "bind", "Source": "/home/spark/models", "Destination": "/models", "Mode": "", "RW": True, "Propagation": "rprivate"}],
    }


class CorpusDocker(DemoDocker):
    """The demo fleet, whose vLLM container logs and inspects as above."""

    def follow_logs(self, container_id: str, tail: int) -> QuietAfterTail:  # type: ignore[override]
        self._container(container_id, "read the logs of")
        return QuietAfterTail(container_id, docker_log_bytes())

    def inspect(self, container_id: str) -> dict[str, Any]:
        container = self._container(container_id, "inspect")
        return mask_any(inspect_document(container.id, container.name))  # as core.docker.containers.inspect_container


def detail_app():
    clock = FakeClock()
    docker = CorpusDocker(clock=clock, pace_s=0.01)
    app = make_app(None, sources=demo_sources(clock), start_polling=False, containers=docker)
    return app, docker


async def open_on_vllm(pilot, app, docker: CorpusDocker, key: str) -> None:
    await feed_containers(pilot, app, docker)
    await pilot.press("c")
    await wait_for(pilot, lambda: isinstance(app.screen, ContainersScreen) and app.screen.query_one(ContainerTable).row_count > 0, what="the containers screen")
    app.screen.query_one(ContainerTable).select(VLLM)
    await pilot.press(key)


def logs_app():
    app, docker = detail_app()
    expected = len(LOG_LINES) + 1

    async def run_before(pilot) -> None:
        await open_on_vllm(pilot, app, docker, "l")
        await wait_for(pilot, lambda: isinstance(app.screen, LogsScreen) and app.screen.query_one(Log).line_count == expected, what="the log lines")
        log = app.screen.query_one(Log)
        await wait_for(pilot, lambda: f"{expected} lines" in str(log.border_subtitle), what="the line count in the subtitle")
        # What the snapshot must show, checked on the screen's own lines: no trick came through.
        shown = "\n".join(log.lines)
        corpus = [line for line in log.lines if " | " in line and " bearer | " not in line]  # the bearer's marker is in its token
        assert len(corpus) == len(LOG_LINES) - 2 and all(MARKER in line for line in corpus)
        assert "TOKEN=abc" not in shown and "eyPWNEDabcdefgh" not in shown
        assert not any(ch in shown for ch in "\x1b\x07\x08\x00\r\x9b\u202e")
        await drawn(pilot)

    return app, run_before


def inspect_app(scroll_to: str | None = None):
    app, docker = detail_app()

    async def run_before(pilot) -> None:
        await open_on_vllm(pilot, app, docker, "i")
        await wait_for(pilot, lambda: isinstance(app.screen, InspectScreen) and app.screen.data is not None, what="inspect")
        body = app.screen.query_one("#inspect-body", Static)
        await wait_for(pilot, lambda: '"Id"' in str(body.render()), what="the inspect body")
        shown = str(body.render())
        assert f'"TOKEN={MASK}"' in shown and f'"HF_TOKEN={MASK}"' in shown and f'"{MASK}"' in shown
        assert "hf_PWNED" not in shown and "sk-PWNED" not in shown
        assert not any(ch in shown for ch in "\x1b\x07\u202e")
        if scroll_to is not None:
            # The key the user scrolls to, found in the JSON the screen draws (Rich's JSON does
            # not wrap: its line n is the body's row n).
            lines = JSON.from_data(clean_tree(app.screen.data), indent=2, default=str).text.plain.splitlines()
            row = next(n for n, line in enumerate(lines) if line.lstrip().startswith(f'"{scroll_to}":'))
            view = app.screen.query_one("#inspect-view", VerticalScroll)
            await wait_for(pilot, lambda: view.max_scroll_y >= row, what="the body laid out")
            view.scroll_to(y=row, animate=False, immediate=True)
            await wait_for(pilot, lambda: view.scroll_y == row, what="the scroll")
        await drawn(pilot)

    return app, run_before


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_logs_screen_with_hostile_lines(snap_compare, size):
    app, run_before = logs_app()
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_inspect_screen_as_opened(snap_compare, size):
    """The top of the document: the command with its key masked; at 160x48 the health check's
    output too, the corpus in it shown as text."""
    app, run_before = inspect_app()
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize(("size", "key"), [((80, 24), "Env"), ((80, 24), "Labels"), ((160, 48), "Config")],
                         ids=["80x24-env", "80x24-labels", "160x48-config"])
def test_inspect_screen_scrolled(snap_compare, size, key):
    """Scrolled down to the env and command (secrets masked); to the labels (markup and escapes
    as text), whose long lines fold at 80 columns rather than lose their ends; at 160x48 the
    labels and the ports too."""
    app, run_before = inspect_app(scroll_to=key)
    assert snap_compare(app, terminal_size=size, run_before=run_before)
