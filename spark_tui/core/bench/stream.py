"""The dashboard's benchmark process: `python -m spark_tui.core.bench.stream`.

Protocol (spark_tui.core.bench.child drives it):
- stdin, first line: a StreamRequest as JSON (plan, results directory, demo flag: with it the
  run records this machine's memory only, never the simulated GPU);
- stdin afterwards: a line `cancel` cancels the run; end of input (the dashboard quit or died)
  cancels it too, so a run never outlives the screen that started it unattended;
- SIGINT / SIGTERM cancel as well (a second one stops at once);
- stdout: one event per line (spark_tui.core.bench.events), RunFinished last;
- stderr: a one-line reason when the run cannot start.

Cancelling keeps what was measured: run.json ends as "cancelled". Exit codes as `spark-tui bench`:
0 every cell ran, 1 the run or a cell failed, 2 bad request, 130 cancelled.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Any, BinaryIO

from spark_tui.core.bench.allocator import keep_answers_in_heap
from spark_tui.core.bench.events import EventLineError, decode_request, encode_event
from spark_tui.core.bench.machine import machine_sampler, meminfo_sampler
from spark_tui.core.bench.plan import PlanError
from spark_tui.core.bench.runner import run_benchmark
from spark_tui.models.bench import BenchEvent

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130


class EventWriter:
    """Writes each event as a line and flushes it; when the reader is gone, cancels the run."""

    def __init__(self, out: BinaryIO, cancel: threading.Event) -> None:
        self.out = out
        self.cancel = cancel
        self.broken = False

    def __call__(self, event: BenchEvent) -> None:
        if self.broken:
            return
        try:
            self.out.write(encode_event(event))
            self.out.flush()
        except (BrokenPipeError, OSError, ValueError):  # ValueError: the stream was closed
            self.broken = True
            self.cancel.set()  # nobody is watching: stop, keep what was measured


class RawLines:
    """Lines from a file descriptor, read with os.read: a daemon thread blocked in a buffered
    stdin read would abort the interpreter at exit (it cannot take the buffer's lock)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pending = b""

    def readline(self) -> bytes:
        """The next line with its newline; what is left at the end of input; b"" after it."""
        while b"\n" not in self.pending:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                line, self.pending = self.pending, b""
                return line
            self.pending += chunk
        line, _, self.pending = self.pending.partition(b"\n")
        return line + b"\n"


def watch_stdin(lines: RawLines, cancel: threading.Event) -> None:
    """`cancel` on its own line, or the end of input, cancels the run."""
    while True:
        line = lines.readline()
        if not line or line.strip() == b"cancel":
            break
    cancel.set()


def install_signal_handlers(cancel: threading.Event) -> None:
    def on_signal(signum: int, frame: Any) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt  # the second signal: stop at once
        cancel.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)


def main() -> int:
    stdin, stdout = RawLines(sys.stdin.fileno()), sys.stdout.buffer
    cancel = threading.Event()
    install_signal_handlers(cancel)
    try:
        request = decode_request(stdin.readline())
    except EventLineError as exc:
        print(f"spark-tui bench: {exc}", file=sys.stderr)
        return EXIT_USAGE
    threading.Thread(target=watch_stdin, args=(stdin, cancel), name="bench-stdin", daemon=True).start()
    environment = dict(request.environment)
    if request.demo:
        # the dashboard simulates a Spark: save this machine's real memory and no made-up GPU figures
        sampler, sources = meminfo_sampler(), None
        environment["machine_readings"] = "memory only (the dashboard ran in demo mode)"
    else:
        sampler, sources = machine_sampler()
    keep_answers_in_heap()  # this process only runs the benchmark
    try:
        result = run_benchmark(request.plan, EventWriter(stdout, cancel), cancel, sampler,
                               results_dir=request.results_dir, environment_extra=environment)
    except PlanError as exc:
        print(f"spark-tui bench: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        if sources is not None:
            sources.close()
    if result.status == "cancelled":
        return EXIT_CANCELLED
    return EXIT_FAILED if result.failed else EXIT_OK


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(EXIT_CANCELLED)
