"""Issue #13 end to end: spark-tui in a real pseudo-terminal, showing what hostile programs wrote,
and every byte it writes to the terminal searched for the corpus's escape sequences
(tests/hostile.py FORBIDDEN_OUTPUT). The logs and inspect screens read a real busybox container
through the real Docker engine; the services screen probes a loopback service answering the
corpus. A control run proves the search finds a raw pass-through.
"""

from __future__ import annotations

import os
import re
import select
import sys
import time
from pathlib import Path

import pytest
from probe_servers import serving_in_thread

from tests.integration.conftest import DockerKit, wait_for
from tests.integration.test_hostile_text import corpus_bytes, hostile_routes

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))
from hostile import MARKER, find_forbidden  # noqa: E402
from pty_support import ANSI, spawn, stop  # noqa: E402

SIZE = (220, 250)  # tall enough that every line of the corpus is drawn at once
END = "END-OF-CORPUS"
STANDIN_ESC = "␛".encode()


class RawTerminal:
    """A program on a pty; every byte it writes is kept (the terminal's whole input stream)."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.master, self.proc = spawn(command, SIZE, env)
        self.raw = bytearray()
        self.drawn = bytearray()  # the same with escape sequences removed (chunk by chunk)

    def read(self, timeout: float) -> bool:
        if not select.select([self.master], [], [], timeout)[0]:
            return True
        try:
            chunk = os.read(self.master, 1 << 16)
        except OSError:
            return False
        self.raw += chunk
        self.drawn += ANSI.sub(b"", chunk)
        return bool(chunk)

    def wait_for(self, pattern: bytes, timeout: float = 20.0, fresh: bool = False) -> None:
        """Until the drawn text matches `pattern`: anywhere so far, or (fresh) drawn from now on."""
        compiled = re.compile(pattern)
        deadline = time.monotonic() + timeout
        searched = len(self.drawn) + 4096 if fresh else 0
        while time.monotonic() < deadline:
            if compiled.search(self.drawn, max(0, searched - 4096)):
                return
            searched = len(self.drawn)
            if not self.read(0.05):
                break
        raise AssertionError(f"{pattern!r} not drawn within {timeout} s; last output {bytes(self.drawn[-1500:])!r}")

    def key(self, key: bytes) -> None:
        os.write(self.master, key)

    def close(self) -> None:
        stop(self.proc, self.master)


def literal(text: str) -> bytes:
    return re.escape(text.encode())


def env_for(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor", XDG_CONFIG_HOME=str(tmp_path / "xdg"),
               XDG_STATE_HOME=str(tmp_path / "state"), PYTHONPATH=str(ROOT))
    for name in ("SPARK_TUI_CONFIG", "COLUMNS", "LINES"):  # COLUMNS/LINES would override the pty's size
        env.pop(name, None)
    return env


def run_screen(tmp_path: Path, screen: str, container: str) -> RawTerminal:
    return RawTerminal([sys.executable, str(ROOT / "bench" / "tui_screen.py"), screen, container], env_for(tmp_path))


def assert_nothing_forbidden(raw: bytes) -> None:
    found = find_forbidden(raw)
    assert not found, f"raw escape sequences reached the terminal: {found}"


@pytest.fixture
def corpus_container(kit: DockerKit, tmp_path: Path) -> str:
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes(corpus_bytes() + f"{END}\n".encode())
    # Logs the corpus, then stays up (a following logs view, as on a real machine).
    return kit.run("hostile-pty", "sh", "-c", "cat /corpus; exec sleep 600", options=("-v", f"{corpus}:/corpus:ro"))


def test_control_a_raw_pass_through_is_caught(tmp_path: Path) -> None:
    # The same pty and search, with a program that writes the corpus as it is.
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes(corpus_bytes() + f"{END}\n".encode())
    term = RawTerminal(["cat", str(corpus)], env_for(tmp_path))
    try:
        term.wait_for(END.encode(), timeout=10)
    finally:
        term.close()
    found = find_forbidden(bytes(term.raw))
    assert b"\x1b]0;PWNED" in found and b"\x1b[2JPWNED" in found and "\u202e".encode() in found


def test_logs_screen_of_a_real_container_writes_no_escape_of_its_log(corpus_container: str, tmp_path: Path) -> None:
    term = run_screen(tmp_path, "logs", corpus_container)
    try:
        term.wait_for(END.encode())
        term.key(b"g")  # to the top: the first lines of the corpus drawn too
        term.wait_for(literal("osc0_title_bel: before␛]0;PWNED-title␇after"))  # the trick, drawn as text
        term.wait_for(literal("csi_clear_and_home: ␛[2J␛[HPWNED-fake-screen"))
        term.wait_for(rb"sgr_colour: ERROR PWNED palette rgb")  # colour drawn as colour, not as escapes
    finally:
        term.close()
    raw = bytes(term.raw)
    assert_nothing_forbidden(raw)
    assert STANDIN_ESC in raw and MARKER.encode() in raw


def test_inspect_screen_of_a_hostile_container_writes_no_escape(kit: DockerKit, tmp_path: Path) -> None:
    cid = kit.run(
        "hostile-inspect", "sleep", "600",
        options=("--label", "evil=\x1b]0;PWNED-label\x07\x1b[2JPWNED\u202e\x9b", "--env", "NOTE=\x1b]52;c;UFdORUQ=\x07PWNED"),
    )
    wait_for(lambda: kit.inspect(cid)["State"]["Status"] == "running", what="the container to run")
    term = run_screen(tmp_path, "inspect", cid)
    try:
        term.wait_for(rb'"Id": "' + cid.encode())
        for _ in range(40):  # page down until the labels are drawn (Config comes late in inspect)
            try:
                term.wait_for(literal('"evil": "␛]0;PWNED-label␇'), timeout=0.3)
                break
            except AssertionError:
                term.key(b"\x1b[6~")
        term.wait_for(literal('"evil": "␛]0;PWNED-label␇␛[2JPWNED<U+202E>\\\\x9b"'), timeout=1)  # JSON doubles "\\"
        term.wait_for(literal("NOTE=␛]52;c;UFdORUQ=␇PWNED"), timeout=5)
    finally:
        term.close()
    raw = bytes(term.raw)
    assert_nothing_forbidden(raw)
    assert STANDIN_ESC in raw


def test_services_screen_probing_a_hostile_service_writes_no_escape(tmp_path: Path) -> None:
    down_routes, up_routes = hostile_routes()
    with serving_in_thread(down_routes) as down, serving_in_thread(up_routes) as up:
        config = tmp_path / "config.toml"
        config.write_text(
            f'[[probes]]\nname = "evil-down"\nkind = "vllm"\nurl = "{down.url}"\ninterval = 0.5\n'
            f'[[probes]]\nname = "evil-up"\nkind = "vllm"\nurl = "{up.url}"\ninterval = 0.5\n'
        )
        term = RawTerminal([sys.executable, "-m", "spark_tui", "--config", str(config)], env_for(tmp_path))
        try:
            term.wait_for(rb"Containers|Utilization", timeout=20)
            term.key(b"s")
            term.wait_for(rb"evil-down")
            term.wait_for(rb"PWNED-model")  # the served model's id, as text
            term.wait_for(literal("HTTP 503: before␛]0;PWNE"))  # the 503 body, as text
            term.key(b"\r")  # the details of the first row: error body, models, version
            term.wait_for(literal("before␛]0;PWNED-title␇after"), timeout=10, fresh=True)  # whole, not cut
        finally:
            term.close()
    raw = bytes(term.raw)
    assert_nothing_forbidden(raw)
    assert STANDIN_ESC in raw

