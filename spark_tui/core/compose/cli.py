"""Running `docker compose`: argv lists only, bounded in time, output line by line, cancellable.

    run = CommandRun(command, timeout_s=900)
    for line in run.lines():       # thread worker: one CommandOutput per line as compose prints it
        post_message(ComposeOutput(line))
    result = run.result            # CommandResult: ok, returncode, compose's own message on failure
    run.cancel()                   # any thread: SIGTERM to compose, SIGKILL 5 s later
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from spark_tui.core.masking import mask_text
from spark_tui.core.untrusted import LINE_MAX, clean
from spark_tui.models.compose import CommandOutput, CommandResult, ComposeCommand

log = logging.getLogger(__name__)

CONFIG_TIMEOUT_S = 30.0
DRY_RUN_TIMEOUT_S = 20.0
KILL_GRACE_S = 5.0
# Plain, colourless output whatever the terminal: we show it in our own panel.
COMPOSE_ENV = {"COMPOSE_ANSI": "never", "COMPOSE_PROGRESS": "plain", "COMPOSE_STATUS_STDOUT": "0"}
DRY_RUN_RECREATE = re.compile(r"^\s*(?:DRY-RUN MODE -\s+)?Container\s+(?P<name>\S+)\s+Recreated?\s*$")


class ComposeUnavailable(Exception):
    """The docker CLI or its compose plugin is missing; the message says how to install it."""


class ComposeError(Exception):
    """docker compose failed; the message is compose's own (secrets masked)."""


def docker_cli() -> str:
    path = shutil.which("docker")
    if path is None:
        raise ComposeUnavailable("the docker CLI is not installed — install docker-ce-cli (or docker.io) and the compose plugin")
    return path


def compose_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, **COMPOSE_ENV, **(extra or {})}


def failure_message(lines: Sequence[str], returncode: int | None) -> str:
    """Compose's own explanation: its error lines, else its last words."""
    meaningful = [line.strip() for line in lines if line.strip()]
    errors = [
        line
        for line in meaningful
        if line.lower().startswith(("error", "service ", "no such", "invalid", "validating", "yaml:", "open ", "failed"))
        or "level=error" in line
        or "Error response from daemon" in line
    ]
    chosen = errors[-3:] if errors else meaningful[-3:]
    if not chosen:
        return f"docker compose exited with status {returncode} and said nothing"
    return clean(mask_text(" / ".join(dict.fromkeys(chosen))))


def run_captured(argv: Sequence[str], env: Mapping[str, str] | None = None, cwd: str | None = None, timeout_s: float = CONFIG_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """Run a short compose command to the end; raise ComposeError (compose's words) on failure."""
    try:
        proc = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout_s, env=compose_env(env), cwd=cwd, stdin=subprocess.DEVNULL
        )
    except FileNotFoundError:
        raise ComposeUnavailable(f"cannot run {argv[0]}: not found") from None
    except subprocess.TimeoutExpired:
        raise ComposeError(f"docker compose did not answer within {timeout_s:.0f} s") from None
    if proc.returncode != 0:
        text = proc.stderr.strip() or proc.stdout.strip()
        if "is not a docker command" in text or "unknown command" in text and "compose" in text:
            raise ComposeUnavailable("the docker compose plugin is not installed — install docker-compose-plugin (Compose v2)")
        raise ComposeError(failure_message(text.splitlines(), proc.returncode))
    return proc


def run_json(argv: Sequence[str], env: Mapping[str, str] | None = None, cwd: str | None = None, timeout_s: float = CONFIG_TIMEOUT_S) -> Any:
    """Run a compose command that prints JSON (config --format json); raise ComposeError on failure."""
    proc = run_captured(argv, env, cwd, timeout_s)
    try:
        return json.loads(proc.stdout or "null")
    except ValueError as exc:
        raise ComposeError(f"docker compose printed something that is not JSON: {clean(str(exc))}") from None


def recreated_containers(lines: Iterable[str]) -> tuple[str, ...]:
    """Containers a dry run says it would recreate. Compose 2.40 prints (plain progress, stderr)
    ` DRY-RUN MODE -  Container ai-db-1  Recreate` then `… Recreated`."""
    names = (match["name"] for line in lines if (match := DRY_RUN_RECREATE.match(line)))
    return tuple(dict.fromkeys(names))


def dry_run_recreations(command: ComposeCommand, timeout_s: float = DRY_RUN_TIMEOUT_S) -> tuple[str, ...]:
    """Run `command` (built with `--dry-run`) and name the containers it would recreate.
    Raises ComposeError or ComposeUnavailable when the dry run fails or is not supported."""
    proc = run_captured(command.argv, command.env, command.cwd, timeout_s)
    return recreated_containers([*proc.stderr.splitlines(), *proc.stdout.splitlines()])


class CommandRun:
    """One run of a compose command. Use once: iterate `lines()`, then read `result`."""

    def __init__(self, command: ComposeCommand, timeout_s: float = 900.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.command = command
        self.timeout_s = timeout_s
        self.result: CommandResult | None = None
        self._clock = clock
        self._process: subprocess.Popen[bytes] | None = None
        self._cancelled = threading.Event()
        self._timed_out = threading.Event()
        self._lock = threading.Lock()

    def cancel(self) -> None:
        """Stop the command (SIGTERM, then SIGKILL after 5 s); safe from any thread, any time."""
        self._cancelled.set()
        self._signal(signal.SIGTERM)

    def _signal(self, sig: int) -> None:
        with self._lock:
            process = self._process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)  # compose and anything it started (buildx, credential helpers)
        except (ProcessLookupError, PermissionError) as exc:
            log.debug("compose process group %d not signalled: %r", process.pid, exc)  # already gone

    def _watchdog(self, process: subprocess.Popen[bytes], started: float) -> None:
        """Enforce the timeout and the SIGKILL after a cancel, without blocking the reader."""
        term_sent_at: float | None = None
        while process.poll() is None:
            now = self._clock()
            if term_sent_at is None and now - started > self.timeout_s:
                self._timed_out.set()
                self._signal(signal.SIGTERM)
            if term_sent_at is None and (self._cancelled.is_set() or self._timed_out.is_set()):
                term_sent_at = now
            if term_sent_at is not None and now - term_sent_at > KILL_GRACE_S:
                self._signal(signal.SIGKILL)
                return
            try:
                process.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                continue

    def lines(self) -> Iterator[CommandOutput]:
        started = self._clock()
        output: list[str] = []
        argv = list(self.command.argv)
        if self._cancelled.is_set():
            self.result = CommandResult(tuple(argv), None, message="cancelled before it started", cancelled=True)
            return
        try:
            process = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=compose_env(self.command.env),
                cwd=self.command.cwd,
                start_new_session=True,
            )
        except OSError as exc:
            message = clean(f"cannot run {argv[0]}: {exc.strerror or exc}")
            self.result = CommandResult(tuple(argv), None, message=message, duration_s=self._clock() - started)
            return
        with self._lock:
            self._process = process
        if self._cancelled.is_set():
            self._signal(signal.SIGTERM)
        threading.Thread(target=self._watchdog, args=(process, started), name="compose-watchdog", daemon=True).start()
        assert process.stdout is not None
        read_to_end = False
        try:
            for raw in iter(process.stdout.readline, b""):
                # Secrets masked on the raw line, then shown safe: compose echoes service names,
                # image names and daemon errors, any of which can carry escape sequences.
                text = clean(mask_text(raw.decode("utf-8", errors="replace").rstrip("\r\n")), max_len=LINE_MAX)
                output.append(text)
                yield CommandOutput(text=text)
            read_to_end = True
        finally:
            process.stdout.close()
            if not read_to_end:
                self.cancel()  # the consumer stopped reading: do not leave compose running unseen
            try:
                returncode: int | None = process.wait(timeout=KILL_GRACE_S + 2)
            except subprocess.TimeoutExpired:
                process.kill()
                returncode = process.wait(timeout=5)
            cancelled = self._cancelled.is_set()
            timed_out = self._timed_out.is_set()
            if cancelled:
                message: str | None = "cancelled"
            elif timed_out:
                message = f"stopped after {self.timeout_s:.0f} s: docker compose did not finish"
            elif returncode != 0:
                message = failure_message(output, returncode)
            else:
                message = None
            self.result = CommandResult(
                argv=tuple(argv),
                returncode=returncode,
                output=tuple(output),
                message=message,
                cancelled=cancelled,
                timed_out=timed_out,
                duration_s=self._clock() - started,
            )


def run_command(
    command: ComposeCommand,
    on_line: Callable[[CommandOutput], None] | None = None,
    timeout_s: float = 900.0,
    cancel: threading.Event | None = None,
) -> CommandResult:
    """Blocking convenience: run to the end, hand each line to `on_line`; `cancel` stops it."""
    run = CommandRun(command, timeout_s)
    stop_watch: threading.Thread | None = None
    finished = threading.Event()
    if cancel is not None:
        def watch() -> None:
            while not finished.is_set():
                if cancel.wait(0.1):
                    run.cancel()
                    return
        stop_watch = threading.Thread(target=watch, name="compose-cancel", daemon=True)
        stop_watch.start()
    try:
        for line in run.lines():
            if on_line is not None:
                on_line(line)
    finally:
        finished.set()
    assert run.result is not None
    return run.result
