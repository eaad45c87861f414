"""The closed-loop load generator for one cell: `concurrency` workers, each on its own keep-alive
connection, each sending its next request as soon as the previous one finished.

A cell: every worker sends one discarded warm-up request (connections open, the batch shape warms),
then all start together at t0 and issue requests until the duration passes or the request count
is reached; requests in flight at the end are waited for and counted. A hard stop (cancel, guard)
abandons requests in flight instead. The hot path does as little as possible: pre-serialised
requests, one small record per request, no I/O (the sink buffers), and each answer checked only
once the worker has written its next request, so the check costs no latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from spark_tui.core.bench.adapters_base import Adapter, Job, Outcome, RequestError
from spark_tui.core.bench.guards import give_up
from spark_tui.core.bench.http import Connection, Endpoint
from spark_tui.models.bench import CellSpec, RequestRecord

RecordSink = Callable[[RequestRecord], None]


class ConnectionPool:
    """One connection per worker, kept across cells so each cell does not pay for new ones."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._connections: list[Connection] = []

    def take(self, count: int) -> list[Connection]:
        while len(self._connections) < count:
            self._connections.append(Connection(self.endpoint))
        for extra in self._connections[count:]:
            extra.close()  # fewer workers now: do not leave idle connections on the server
        return self._connections[:count]

    def close(self) -> None:
        for connection in self._connections:
            connection.close()


@dataclass
class CellProgress:
    """Live state of the running cell, read by the runner's once-a-second tick."""

    spec: CellSpec
    t0: float | None = None  # perf_counter when measuring began
    deadline: float | None = None
    issued: int = 0
    finished: int = 0
    ok: int = 0
    errors: int = 0
    last_done: float | None = None
    stop_reason: str | None = None  # why the cell stopped issuing early

    def fraction(self, now: float) -> float:
        spec = self.spec
        if spec.requests:
            return min(1.0, self.finished / spec.requests)
        if self.t0 is None or not spec.duration_s:
            return 0.0
        return min(1.0, max(0.0, (now - self.t0) / spec.duration_s))


class CellLoad:
    def __init__(
        self,
        spec: CellSpec,
        adapter: Adapter,
        jobs: Sequence[Job],
        connections: Sequence[Connection],
        sink: RecordSink,
        *,
        run_t0: float,
        timeout: float,
        warmup: bool = True,
        gap_sink: Callable[[list[float]], None] | None = None,
    ) -> None:
        if not jobs:
            raise ValueError("a cell needs at least one request to send")
        self.spec = spec
        self.adapter = adapter
        self.jobs = jobs
        self.connections = connections
        self.sink = sink
        self.run_t0 = run_t0
        self.timeout = timeout
        self.warmup = warmup
        self.gap_sink = gap_sink  # generation: each measured request's gaps between output events
        self.progress = CellProgress(spec)
        self._warmed = 0
        self._go = asyncio.Event()
        self._stop_issuing = False

    async def run(self, hard_stop: asyncio.Event) -> tuple[float, bool]:
        """Run the cell; returns (measured seconds, whether a hard stop cut it short)."""
        workers = [asyncio.create_task(self._worker(i)) for i in range(self.spec.concurrency)]
        everyone = asyncio.gather(*workers)
        stopper = asyncio.create_task(hard_stop.wait())
        try:
            await asyncio.wait({everyone, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
        stopped = not everyone.done()
        if stopped:
            everyone.cancel()  # cancels the workers: requests in flight are abandoned, not counted
            with contextlib.suppress(asyncio.CancelledError):
                await everyone
            end = time.perf_counter()
        else:
            everyone.result()  # a bug in a worker surfaces here instead of vanishing
            end = self.progress.last_done or time.perf_counter()
        t0 = self.progress.t0
        return (max(0.0, end - t0) if t0 is not None else 0.0), stopped

    def stop_issuing(self, reason: str) -> None:
        self._stop_issuing = True
        self.progress.stop_reason = self.progress.stop_reason or reason

    def _may_issue(self) -> bool:
        progress = self.progress
        if self._stop_issuing:
            return False
        if self.spec.requests is not None:
            if progress.issued >= self.spec.requests:
                return False
        elif progress.deadline is not None and time.perf_counter() >= progress.deadline:
            return False
        progress.issued += 1
        return True

    async def _worker(self, index: int) -> None:
        connection = self.connections[index]
        jobs, count = self.jobs, len(self.jobs)
        k = index
        if self.warmup:
            settle = await self._one(connection, jobs[k % count], warmup=True)
            if settle is not None:
                settle()
            k += self.spec.concurrency
        self._warmed += 1
        if self._warmed == self.spec.concurrency:
            self._begin()
        else:
            await self._go.wait()
        settle = None
        while self._may_issue():
            settle = await self._one(connection, jobs[k % count], warmup=False, meanwhile=settle)
            k += self.spec.concurrency
        if settle is not None:
            settle()

    def _begin(self) -> None:
        progress = self.progress
        progress.t0 = time.perf_counter()
        if self.spec.requests is None and self.spec.duration_s:
            progress.deadline = progress.t0 + self.spec.duration_s
        self._go.set()

    async def _one(self, connection: Connection, job: Job, *, warmup: bool, meanwhile: Callable[[], None] | None = None) -> Callable[[], None] | None:
        """Send `job`; returns what settles it (check, record, count), for the worker to run once
        its next request is written, as `meanwhile`: the check costs no latency and reads an
        answer still in the CPU's cache. A failed request is settled here, as is `meanwhile`."""
        start = time.perf_counter()
        try:
            check = await self.adapter.fetch(connection, job, self.timeout, meanwhile)
        except Exception as exc:  # noqa: BLE001 - RequestError, or an adapter surprise: one failed request, not a dead run
            end = time.perf_counter()
            if meanwhile is not None:
                meanwhile()
            self._settle(job, start, end, warmup, exc)
            return None
        finally:
            if meanwhile is not None:
                meanwhile()  # a no-op once the request was written (see _Once)
        return _Once(partial(self._settle, job, start, time.perf_counter(), warmup, check))

    def _settle(self, job: Job, start: float, end: float, warmup: bool, answer: Callable[[], Outcome] | Exception) -> None:
        """Check the answer, record the request and count it."""
        try:
            if isinstance(answer, Exception):
                raise answer
            outcome = answer()
        except RequestError as exc:
            record = RequestRecord(self.spec.index, end - self.run_t0, end - start, False, job.items, exc.status, exc.error, exc.message, warmup=warmup)
        except Exception as exc:  # noqa: BLE001 - an adapter surprise is one failed request, not a dead run
            record = RequestRecord(self.spec.index, end - self.run_t0, end - start, False, job.items, None, "bad_response", f"unexpected answer: {exc!r}", warmup=warmup)
        else:
            record = RequestRecord(
                self.spec.index, end - self.run_t0, end - start, True, outcome.items, outcome.status,
                tokens=outcome.tokens, tokens_estimated=outcome.tokens_estimated, server_s=outcome.server_s,
                extra=outcome.extra, warmup=warmup, gen=outcome.gen,
            )
            if outcome.gaps and not warmup and self.gap_sink is not None:
                self.gap_sink(outcome.gaps)
        self.sink(record)
        if warmup:
            return
        progress = self.progress
        progress.finished += 1
        progress.last_done = max(end, progress.last_done or end)
        if record.ok:
            progress.ok += 1
        else:
            progress.errors += 1
            if give_up(progress.ok, progress.errors, self.spec.concurrency):
                self.stop_issuing(f"stopped after {progress.errors} errors without a single success")


class _Once:
    """A callable that runs its function the first time only."""

    __slots__ = ("_function",)

    def __init__(self, function: Callable[[], None]) -> None:
        self._function: Callable[[], None] | None = function

    def __call__(self) -> None:
        function, self._function = self._function, None
        if function is not None:
            function()
