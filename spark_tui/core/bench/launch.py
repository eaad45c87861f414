"""Starting a benchmark for a live view, and stopping it.

`ChildRun` (what the dashboard uses) runs the plan in its own process, `python -m
spark_tui.core.bench.stream`: the load generator gets its own interpreter lock and core, so neither
the screen nor the measurement slows the other (bench/bench_screen_bench.py measured both ways).
`ThreadRun` runs it in a thread of the calling process (scripts, and that comparison).

Both hand `on_event` the LiveEvents of the run from one of their own threads, never the caller's,
ending with RunFinished, always: when the process dies without saying so, RunFinished carries
what its run directory holds (or why nothing could start).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from spark_tui.core.bench.events import (
    EventLineError,
    StreamRequest,
    decode_event,
    encode_request,
    live,
)
from spark_tui.core.bench.runner import run_benchmark
from spark_tui.core.bench.saved_runs import load_run
from spark_tui.models.bench import LiveEvent, RunFinished, RunResult, RunStarted

log = logging.getLogger(__name__)

EventSink = Callable[[LiveEvent], None]
EXIT_WAIT_S = 10.0  # after stdout closed, how long the process may take to exit


class BenchLaunch(Protocol):
    def start(self) -> None: ...

    def cancel(self) -> None:
        """Stop soon, keeping what was measured; RunFinished follows."""

    def stop(self, timeout: float = 3.0) -> None:
        """Cancel and wait up to `timeout` seconds for the results to be written (the app is quitting)."""

    @property
    def running(self) -> bool: ...


class ChildRun:
    def __init__(self, request: StreamRequest, on_event: EventSink, *, python: str | None = None) -> None:
        self.request = request
        self.on_event = on_event
        self.python = python or sys.executable
        self.process: subprocess.Popen[bytes] | None = None
        self.run_dir: str | None = None
        self.finished = threading.Event()  # RunFinished was handed on
        self._stderr: deque[str] = deque(maxlen=20)
        self._stdin_lock = threading.Lock()
        self._reader: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and not self.finished.is_set()

    def start(self) -> None:
        """Spawn the process; OSError (phrased for the user) when it cannot start."""
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        try:
            self.process = subprocess.Popen(
                [self.python, "-m", "spark_tui.core.bench.stream"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True,  # the terminal's Ctrl-C belongs to the dashboard, not to the run
                env=env, close_fds=True,
            )
        except OSError as exc:
            raise OSError(f"cannot start the benchmark process ({self.python}): {exc.strerror or exc}") from None
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(encode_request(self.request))
            self.process.stdin.flush()
        except OSError as exc:
            log.debug("benchmark process did not take its request: %r", exc)  # it died at once: the reader reports why
        threading.Thread(target=self._read_stderr, name="bench-stderr", daemon=True).start()
        self._reader = threading.Thread(target=self._read_events, name="bench-events", daemon=True)
        self._reader.start()

    def cancel(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        with self._stdin_lock:
            try:
                assert process.stdin is not None
                process.stdin.write(b"cancel\n")
                process.stdin.flush()
                return
            except (OSError, ValueError) as exc:
                log.debug("cannot ask the benchmark process to cancel (%r): signalling it", exc)
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)

    def stop(self, timeout: float = 3.0) -> None:
        process = self.process
        if process is None:
            return
        self.cancel()
        deadline = time.monotonic() + timeout
        for sig in (None, signal.SIGTERM, signal.SIGKILL):
            if sig is not None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(sig)
            try:
                process.wait(timeout=max(0.05, deadline - time.monotonic()))
                break
            except subprocess.TimeoutExpired:
                deadline = time.monotonic() + 1.0
        if self._reader is not None:
            self._reader.join(timeout=1.0)

    # --- in the reader threads ---

    def _read_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        for raw in self.process.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                self._stderr.append(line)

    def _read_events(self) -> None:
        process = self.process
        assert process is not None and process.stdout is not None
        bad_lines = 0
        for line in process.stdout:
            try:
                event = decode_event(line)
            except EventLineError as exc:
                bad_lines += 1
                if bad_lines == 1:
                    log.warning("benchmark process: %s", exc)
                continue
            if isinstance(event, RunStarted):
                self.run_dir = event.run_dir
            self._hand_on(event)
            if isinstance(event, RunFinished):
                self.finished.set()
        try:
            code = process.wait(timeout=EXIT_WAIT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        with contextlib.suppress(OSError, ValueError):
            assert process.stdin is not None
            process.stdin.close()
        if not self.finished.is_set():
            self._hand_on(RunFinished(self._result_after_exit(code)))
            self.finished.set()

    def _hand_on(self, event: LiveEvent) -> None:
        try:
            self.on_event(event)
        except Exception:  # noqa: BLE001 - a broken listener must not stop the reader
            log.exception("benchmark event listener failed")

    def _result_after_exit(self, code: int) -> RunResult:
        time.sleep(0.05)  # let the stderr reader catch the last line
        said = self._stderr[-1] if self._stderr else None
        if said and code == 2:  # it refused the request and said why, in one line
            reason = said.removeprefix("spark-tui bench: ")
        else:
            why = f"the benchmark process was killed by signal {-code}" if code < 0 else f"the benchmark process exited with code {code}"
            reason = f"{why}: {said}" if said else why
        now = time.time()
        if self.run_dir:
            saved = load_run(self.run_dir)
            return RunResult(saved.run_id, self.run_dir, "interrupted", reason, saved.server, saved.summaries,
                             saved.started_at or now, saved.finished_at)
        return RunResult("", None, "failed", reason, None, (), now, now)


class ThreadRun:
    """The run in a daemon thread of this process (it shares the interpreter lock with the caller)."""

    def __init__(self, request: StreamRequest, on_event: EventSink, *, machine_sampler=None) -> None:  # type: ignore[no-untyped-def]
        self.request = request
        self.on_event = on_event
        self.machine_sampler = machine_sampler
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self.finished = threading.Event()

    @property
    def running(self) -> bool:
        return self._thread is not None and not self.finished.is_set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="bench-run", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        request = self.request
        try:
            run_benchmark(request.plan, lambda event: self.on_event(live(event)), self._cancel, self.machine_sampler,
                          results_dir=request.results_dir, environment_extra=request.environment)
        except Exception as exc:  # noqa: BLE001 - PlanError, or a bug: the listener still hears the end
            now = time.time()
            self.on_event(RunFinished(RunResult("", None, "failed", str(exc), None, (), now, now)))
        finally:
            self.finished.set()

    def cancel(self) -> None:
        self._cancel.set()

    def stop(self, timeout: float = 3.0) -> None:
        self._cancel.set()
        if self._thread is not None:
            self._thread.join(timeout)
