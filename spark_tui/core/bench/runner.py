"""Runs a benchmark plan: pre-flight, warm-up, the sweep of cells, guards, ticks, saved results.

Two entry points:
- `run_benchmark(plan, on_event, cancel, machine_sampler)`: blocking; runs its own asyncio loop in
  the calling thread (a UI thread worker, or the CLI's main thread). `cancel` is a threading.Event.
- `run_benchmark_async(...)`: the same as a coroutine, cancelled through an asyncio.Event.

Events (spark_tui.models.bench.BenchEvent) go to `on_event` in the runner's thread, in this order:
WarmupTick each second a warm-up request has waited; RunStarted, then per
cell CellStarted, RequestsFinished (batched, ≤ 4 per second), Tick (each second, and for the part of
a second up to the cell's end), CellFinished; Notice whenever needed; RunFinished last, always.
A warm-up request that gets no answer within the plan's warm-up timeout ends the run (failed).
An exception raised by `on_event` is logged and ignored: a UI problem never stops a run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, TypeVar

from spark_tui.core.bench.adapters import make_adapter
from spark_tui.core.bench.adapters_base import (
    TOO_LARGE_HINT,
    Adapter,
    Job,
    RequestError,
)
from spark_tui.core.bench.adapters_gen import GenerationAdapter
from spark_tui.core.bench.guards import MemoryGuard, SweepGuard
from spark_tui.core.bench.http import Connection
from spark_tui.core.bench.loadgen import CellLoad, ConnectionPool
from spark_tui.core.bench.machine import MachineSampler, meminfo_sampler
from spark_tui.core.bench.plan import BenchPlan, PlanError
from spark_tui.core.bench.results import RunStore, environment
from spark_tui.core.bench.stats import (
    CellAccumulator,
    RollingLatency,
    SecondBucket,
    percentile,
)
from spark_tui.models.bench import (
    BenchEvent,
    CellFinished,
    CellSpec,
    CellStarted,
    CellSummary,
    MachineReading,
    Notice,
    RequestRecord,
    RequestsFinished,
    RunFinished,
    RunResult,
    RunStarted,
    RunStatus,
    ServerInfo,
    Tick,
    WarmupTick,
)

log = logging.getLogger(__name__)

EventSink = Callable[[BenchEvent], None]
T = TypeVar("T")

EVENT_STEP_S = 0.25  # RequestsFinished at most this often
FLUSH_STEP_S = 0.05  # requests.jsonl is written at least this often: a kill -9 loses no more than this
PREFLIGHT_TIMEOUT_S = 60.0
ROLLING_WINDOW_S = 5.0
WARMUP_QUIET_S = 0.5  # a warm-up answer slower than this is reported while it is awaited (WarmupTick)
MIN_TICK_SPAN_S = 0.25  # a shorter rest of a second at a cell's end is saved, not sent as a Tick
WARMUP_CELL = -1  # the `cell` of run-level warm-up records


def run_benchmark(
    plan: BenchPlan,
    on_event: EventSink | None = None,
    cancel: threading.Event | None = None,
    machine_sampler: MachineSampler | None = None,
    *,
    results_dir: str | None = None,
    environment_extra: Mapping[str, Any] | None = None,
) -> RunResult:
    """Blocking: run `plan` to the end (or until `cancel` is set) and return what was measured.

    Raises PlanError (one line, for the user) when the plan is invalid or results cannot be saved;
    everything that goes wrong once the run started ends up in the RunResult instead.
    """

    async def bridge() -> RunResult:
        stop = asyncio.Event()
        watcher = asyncio.create_task(_watch_thread_event(cancel, stop)) if cancel is not None else None
        try:
            return await run_benchmark_async(plan, on_event, stop, machine_sampler, results_dir=results_dir, environment_extra=environment_extra)
        finally:
            if watcher is not None:
                watcher.cancel()

    plan.validate()
    return asyncio.run(bridge())


async def _watch_thread_event(cancel: threading.Event, stop: asyncio.Event) -> None:
    while not cancel.is_set():
        await asyncio.sleep(0.05)
    stop.set()


async def run_benchmark_async(
    plan: BenchPlan,
    on_event: EventSink | None = None,
    cancel: asyncio.Event | None = None,
    machine_sampler: MachineSampler | None = None,
    *,
    results_dir: str | None = None,
    environment_extra: Mapping[str, Any] | None = None,
) -> RunResult:
    plan.validate()
    try:
        store = RunStore.create(results_dir, plan.kind, plan.adapter)
    except OSError as exc:
        raise PlanError(str(exc)) from None
    try:
        store.start(plan.describe(), environment(environment_extra), plan.cells(), time.time())
    except OSError as exc:
        store.close()
        raise PlanError(f"cannot save results in {store.directory}: {exc.strerror or exc}") from None
    run = _Run(plan, store, on_event, machine_sampler or meminfo_sampler())
    return await run.run(cancel or asyncio.Event())


def generation_warnings(summary: CellSummary) -> list[str]:
    """What a generation cell's figures need said: outputs shorter than asked, prompts far from
    the asked length (checked against the server's own count), token counts estimated."""
    spec, out = summary.spec, []
    if spec.input_tokens is None or not summary.ok:
        return out
    label = f"cell {spec.index + 1} ({spec.label})"
    if summary.short_requests:
        out.append(f"{label}: {summary.short_requests} of {summary.ok} requests stopped before {spec.output_tokens} tokens "
                   f"(mean {summary.output_tokens_mean or 0:.0f}): the server stopped early")
    if summary.input_tokens_mean is not None and abs(summary.input_tokens_mean - spec.input_tokens) > max(8, 0.1 * spec.input_tokens):
        out.append(f"{label}: prompts were {summary.input_tokens_mean:.0f} tokens by the server's count, not {spec.input_tokens}")
    if summary.tokens_source and summary.tokens_source.startswith("estimated"):
        out.append(f"{label}: token counts {summary.tokens_source}")
    return out


def warmup_stop_reason(exc: RequestError, timeout_s: float) -> str | None:
    """Why a failed warm-up request ends the run, or None when the sweep may still learn something:
    nothing answers, the wrong adapter or path, a refusal that is not about the batch's size."""
    if exc.error == "timeout":
        return (f"warm-up: no answer within {timeout_s:g} s — the server took the request and said nothing "
                "(still loading a model? raise --warmup-timeout; stuck? check its logs)")
    if exc.error == "connection" or exc.status in (404, 405):
        return f"warm-up failed: {exc.message}"
    if exc.error in ("400", "422", "4xx") and TOO_LARGE_HINT not in exc.message:
        return f"warm-up failed: {exc.message}"
    return None


class _Stopped(Exception):
    """The run was cancelled or aborted while waiting for something."""


class _Run:
    def __init__(self, plan: BenchPlan, store: RunStore, on_event: EventSink | None, sampler: MachineSampler) -> None:
        self.plan = plan
        self.store = store
        self._on_event = on_event
        self.sampler = sampler
        self.cells = plan.cells()
        self.adapter: Adapter = make_adapter(plan.adapter, plan.url, plan.options, plan.payload, plan.kind)
        if isinstance(self.adapter, GenerationAdapter):
            self.adapter.shared_prefix = plan.shared_prefix
            self.adapter.force_length = plan.force_length
        self.pool = ConnectionPool(self.adapter.endpoint)
        self.memory_guard = MemoryGuard(plan.memory_floor_bytes)
        self.summaries: list[CellSummary] = []
        self.server: ServerInfo | None = None
        self.hard_stop = asyncio.Event()
        self.cancelled = False
        self.abort_reason: str | None = None
        self.run_t0 = time.perf_counter()
        self.started_at = store.document.get("started_at") or time.time()
        # live state, touched by the sink (per request) and the ticker (per step)
        self.load: CellLoad | None = None
        self.cell = CellAccumulator()
        self.cell_readings: list[MachineReading] = []
        self.bucket = SecondBucket(0)
        self.last_tick = self.run_t0
        self.rolling = RollingLatency(ROLLING_WINDOW_S)
        self.rolling_ttft = RollingLatency(ROLLING_WINDOW_S)
        self.rolling_itl = RollingLatency(ROLLING_WINDOW_S)
        self.pending: list[RequestRecord] = []
        self.pending_cell = WARMUP_CELL
        self.warmup_wait: tuple[int, float] | None = None  # (warm-up request number, perf_counter when sent)
        self.reading: MachineReading | None = None
        self._sampling = False
        self._sampler_failed = False
        self._sampler_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-sampler")
        self._jobs: dict[tuple[Any, ...], list[Job]] = {}
        self._event_errors = 0

    # --- events ---

    def emit(self, event: BenchEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # noqa: BLE001 - a broken listener must not break the run
            self._event_errors += 1
            if self._event_errors == 1:
                log.exception("benchmark event listener failed; further failures are not logged")

    def notice(self, level: str, message: str) -> None:
        self.emit(Notice(level, message))  # type: ignore[arg-type]

    # --- the run ---

    async def run(self, cancel: asyncio.Event) -> RunResult:
        loop = asyncio.get_running_loop()
        canceller = asyncio.create_task(self._watch_cancel(cancel))
        ticker = asyncio.create_task(self._ticker())
        flusher = asyncio.create_task(self._flusher())
        self._sample(loop)
        status: RunStatus = "failed"
        reason: str | None = None
        try:
            status, reason = await self._run_cells()
        except Exception as exc:  # noqa: BLE001 - whatever breaks, what was measured is kept
            log.exception("benchmark run failed")
            status, reason = "failed", f"internal error: {exc!r}"
        finally:
            canceller.cancel()
            ticker.cancel()
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            self._flush_events()
            self.pool.close()
            self._sampler_pool.shutdown(wait=False, cancel_futures=True)
        finished_at = time.time()
        reached = self.store.recorded > 0  # a run that measured nothing (refused, bad URL, cancelled in warm-up) is not kept
        try:
            if reached:
                self.store.finish(status, reason, finished_at)
            else:
                self.store.discard()
        except OSError as exc:
            self.notice("error", f"could not write {self.store.directory / 'run.json'}: {exc.strerror or exc}")
        finally:
            self.store.close()
        result = RunResult(
            run_id=self.store.run_id,
            run_dir=str(self.store.directory) if reached else None,
            status=status,
            reason=reason,
            server=self.server,
            cells=tuple(self.summaries),
            started_at=self.started_at,
            finished_at=finished_at,
        )
        self.emit(RunFinished(result))
        return result

    async def _run_cells(self) -> tuple[RunStatus, str | None]:
        try:
            server = await self._until_stopped(self._preflight_and_warmup())
        except _Stopped:
            return self._stopped_status()
        self.server = server
        self.store.set_server(server)
        self.emit(RunStarted(self.store.run_id, str(self.store.directory), server, self.cells))
        if server.problem:
            return "failed", server.problem
        guard = SweepGuard(max_batch=server.max_batch, max_error_rate=self.plan.max_error_rate)
        for spec in self.cells:
            if self.hard_stop.is_set():
                break
            skip = guard.skip_reason(spec)
            if skip is not None:
                self._finish_cell(CellSummary(spec, "skipped", skip))
                continue
            summary = await self._run_cell(spec)
            self._finish_cell(summary)
            abort = guard.after_cell(summary)
            if abort and not self.hard_stop.is_set():
                self.abort_reason = abort
                self.hard_stop.set()
        if self.cancelled or self.abort_reason:
            return self._stopped_status()
        if not any(s.status in ("ok", "degraded") for s in self.summaries):
            first = next((s.reason for s in self.summaries if s.reason), "no cell ran")
            return "failed", f"no cell succeeded: {first}"
        return "completed", None

    def _stopped_status(self) -> tuple[RunStatus, str | None]:
        measured = sum(1 for s in self.summaries if s.requests)
        if self.abort_reason:
            return "aborted", self.abort_reason
        return "cancelled", f"cancelled; {measured} of {len(self.cells)} cells measured"

    async def _watch_cancel(self, cancel: asyncio.Event) -> None:
        await cancel.wait()
        self.cancelled = True
        self.hard_stop.set()

    async def _until_stopped(self, work: Awaitable[T]) -> T:
        task = asyncio.ensure_future(work)
        stopper = asyncio.create_task(self.hard_stop.wait())
        try:
            await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            raise _Stopped
        return task.result()

    async def _preflight_and_warmup(self) -> ServerInfo:
        connection = Connection(self.adapter.endpoint)
        try:
            try:
                async with asyncio.timeout(PREFLIGHT_TIMEOUT_S):
                    server = await self.adapter.preflight(connection)
            except TimeoutError:
                return ServerInfo(self.adapter.name, self.adapter.endpoint.url(), reachable=True,
                                  problem=f"pre-flight checks took over {PREFLIGHT_TIMEOUT_S:g} s: the server is not answering in time")
            for note in server.notes:
                self.notice("info", note)
            if server.problem or not self.plan.warmup_requests:
                return server
            return await self._warmup(connection, server)
        finally:
            connection.close()

    async def _calibrate(self, connection: Connection, adapter: GenerationAdapter, notes: list[str]) -> str | None:
        """Generation: learn how many words make how many prompt tokens on this server (two short
        prompts it counts), and whether it takes ignore_eos / min_tokens. Returns why the run
        cannot go on, or None."""
        points: list[tuple[int, int]] = []
        for index in range(len(adapter.calibration_jobs())):
            for attempt in range(2):
                job = adapter.calibration_jobs()[index]  # made again: the fields sent may have changed
                start = time.perf_counter()
                try:
                    outcome = await adapter.execute(connection, job, self.plan.warmup_timeout_s)
                except RequestError as exc:
                    end = time.perf_counter()
                    self._sink(RequestRecord(WARMUP_CELL, end - self.run_t0, end - start, False, job.items, exc.status, exc.error, exc.message, warmup=True))
                    if attempt == 0 and exc.error in ("400", "422") and adapter.without_length_fields():
                        notes.append(f"the server refused ignore_eos/min_tokens ({exc.message}): sent without them, outputs may stop early")
                        self.notice("warning", notes[-1])
                        continue
                    stop = warmup_stop_reason(exc, self.plan.warmup_timeout_s)
                    if stop is not None:
                        return stop
                    notes.append(f"prompt length calibration failed: {exc.message}")
                    return None
                end = time.perf_counter()
                self._sink(RequestRecord(WARMUP_CELL, end - self.run_t0, end - start, True, outcome.items, outcome.status,
                                         tokens=outcome.tokens, tokens_estimated=outcome.tokens_estimated, server_s=outcome.server_s,
                                         extra=outcome.extra, warmup=True, gen=outcome.gen))
                if outcome.gen is not None and outcome.gen.input_tokens:
                    points.append((job.meta.words, outcome.gen.input_tokens))
                break
        if adapter.calibration.fit(points):
            cal = adapter.calibration
            notes.append(f"prompt lengths calibrated on the server's counts: {cal.per_word:.2f} tokens per word, {cal.overhead:+.0f} per prompt")
            self.notice("info", notes[-1])
        else:
            notes.append(f"the server did not count prompt tokens usably: prompts are built at ~{adapter.calibration.per_word:g} tokens per word (estimated)")
            self.notice("warning", notes[-1])
        self._jobs.clear()
        return None

    async def _warmup(self, connection: Connection, server: ServerInfo) -> ServerInfo:
        spec = self.cells[0]
        batch = min(s.batch for s in self.cells)
        if server.max_batch is not None:
            batch = min(batch, server.max_batch)
        notes = list(server.notes)
        if isinstance(self.adapter, GenerationAdapter):
            stop = await self._calibrate(connection, self.adapter, notes)
            if stop is not None:
                return replace(server, problem=stop, notes=tuple(notes))
        jobs = await self._jobs_for(replace(spec, batch=batch))
        latencies: list[float] = []
        checked_tokens = False
        for i in range(self.plan.warmup_requests):
            job = jobs[i % len(jobs)]
            start = time.perf_counter()
            self.warmup_wait = (i + 1, start)  # the ticker reports the wait (WarmupTick)
            try:
                outcome = await self.adapter.execute(connection, job, self.plan.warmup_timeout_s)
            except RequestError as exc:
                end = time.perf_counter()
                self._sink(RequestRecord(WARMUP_CELL, end - self.run_t0, end - start, False, job.items, exc.status, exc.error, exc.message, warmup=True))
                stop = warmup_stop_reason(exc, self.plan.warmup_timeout_s)
                if stop is not None:
                    return replace(server, problem=stop)
                notes.append(f"warm-up request failed: {exc.message}")
                self.notice("warning", f"warm-up request failed: {exc.message}")
                continue
            finally:
                self.warmup_wait = None
            end = time.perf_counter()
            latencies.append(end - start)
            check_tokens = getattr(self.adapter, "check_token_counts", None)
            if check_tokens is not None and not checked_tokens and outcome.tokens and not outcome.tokens_estimated:
                checked_tokens = True
                said = await check_tokens(connection, job, outcome.tokens)
                if said:
                    notes.append(said)
                    self.notice("warning", said)
            self._sink(RequestRecord(WARMUP_CELL, end - self.run_t0, end - start, True, outcome.items, outcome.status,
                                     tokens=outcome.tokens, tokens_estimated=outcome.tokens_estimated,
                                     server_s=outcome.server_s, extra=outcome.extra, warmup=True, gen=outcome.gen))
        vectors = getattr(self.adapter, "vectors", None)
        return replace(server, warmup_s=tuple(latencies), notes=tuple(notes), dimension=getattr(vectors, "dimension", None),
                       model=self.adapter.model or server.model)

    async def _jobs_for(self, spec: CellSpec) -> list[Job]:
        key = self.adapter.jobs_key(spec)
        if key not in self._jobs:
            # payloads (4K frames, documents, 16k-token prompts) can take a moment to make: keep the ticks going meanwhile
            self._jobs[key] = await asyncio.to_thread(self.adapter.cell_jobs, spec)
        return self._jobs[key]

    async def _run_cell(self, spec: CellSpec) -> CellSummary:
        self.emit(CellStarted(spec, len(self.cells)))
        try:
            jobs = await self._until_stopped(self._jobs_for(spec))
        except _Stopped:
            return CellSummary(spec, "cancelled", self._stop_reason())
        except (ValueError, OSError) as exc:
            return CellSummary(spec, "failed", f"cannot make the {spec.payload} payload: {exc}")
        self.cell = CellAccumulator()
        self.cell_readings = []
        self.rolling.clear()
        self.rolling_ttft.clear()
        self.rolling_itl.clear()
        load = CellLoad(spec, self.adapter, jobs, self.pool.take(spec.concurrency), self._sink,
                        run_t0=self.run_t0, timeout=self.plan.timeout_s, warmup=self.plan.cell_warmup, gap_sink=self._gaps)
        self.load = load
        try:
            elapsed, stopped = await load.run(self.hard_stop)
            self._tick(time.perf_counter(), closing_cell=True)  # the cell's part of this second is its own row
        finally:
            self.load = None
        self._flush_events()
        summary = self.cell.summary(
            spec,
            elapsed,
            status="cancelled" if stopped else None,
            reason=self._stop_reason() if stopped else None,
            readings=self.cell_readings,
            max_error_rate=self.plan.max_error_rate,
            slo=self.plan.slo_map or None,
        )
        token_count = getattr(self.adapter, "token_count", None)
        if token_count and summary.tokens_per_s is not None:  # the server's "tokens" are not tokens: say how to read them
            summary = replace(summary, tokens_source=token_count)
        return summary

    def _gaps(self, gaps: list[float]) -> None:
        self.cell.add_gaps(gaps)

    def _stop_reason(self) -> str:
        return self.abort_reason or "cancelled by the user"

    def _finish_cell(self, summary: CellSummary) -> None:
        for warning in generation_warnings(summary):
            self.notice("warning", warning)
        self.summaries.append(summary)
        try:
            self.store.set_summaries(self.summaries)
        except OSError as exc:
            self.notice("error", f"could not save results in {self.store.directory}: {exc.strerror or exc}")
        self.emit(CellFinished(summary))

    # --- per request: keep it small ---

    def _sink(self, record: RequestRecord) -> None:
        self.store.add_record(record)
        if record.cell != self.pending_cell:
            self._flush_events()
            self.pending_cell = record.cell
        self.pending.append(record)
        if record.warmup:
            return
        self.cell.add(record)
        self.bucket.add(record)
        if record.ok:
            self.rolling.add(record.t, record.latency_s)
            gen = record.gen
            if gen is not None:
                if gen.ttft_s is not None:
                    self.rolling_ttft.add(record.t, gen.ttft_s)
                if gen.itl_s is not None:
                    self.rolling_itl.add(record.t, gen.itl_s)

    # --- per step and per second ---

    async def _ticker(self) -> None:
        loop = asyncio.get_running_loop()
        next_step = self.run_t0 + EVENT_STEP_S
        next_second = 1
        while True:
            await asyncio.sleep(max(0.0, next_step - time.perf_counter()))
            now = time.perf_counter()
            next_step = max(next_step + EVENT_STEP_S, now + EVENT_STEP_S / 4)
            self._flush_events()
            if now - self.run_t0 >= next_second:
                next_second = math.floor(now - self.run_t0) + 1
                self._tick(now)
                self._sample(loop)

    async def _flusher(self) -> None:
        """Write finished requests to requests.jsonl every FLUSH_STEP_S: a process killed with
        SIGKILL keeps every request answered before that (a write to the page cache survives the
        process; no fsync: a power cut is not the case here)."""
        while True:
            await asyncio.sleep(FLUSH_STEP_S)
            try:
                self.store.flush_records()
            except OSError as exc:
                self.notice("error", f"could not write results: {exc.strerror or exc}")
                return

    def _flush_events(self) -> None:
        if self.pending:
            records, self.pending = tuple(self.pending), []
            self.emit(RequestsFinished(self.pending_cell, records))

    def _tick(self, now: float, *, closing_cell: bool = False) -> None:
        """Close the second (or, at a cell's end, the part of it the cell had): a timeseries row,
        a Tick; while a warm-up request waits, a WarmupTick too."""
        try:
            self._close_bucket(now, closing_cell)
        except OSError as exc:
            self.notice("error", f"could not write results: {exc.strerror or exc}")
        if self.warmup_wait is not None and now - self.warmup_wait[1] >= WARMUP_QUIET_S:
            number, sent = self.warmup_wait
            self.emit(WarmupTick(now - sent, self.plan.warmup_timeout_s, number, self.plan.warmup_requests))

    def _close_bucket(self, now: float, closing_cell: bool) -> None:
        bucket, self.bucket = self.bucket, SecondBucket(self.bucket.second + 1)
        span = max(1e-6, now - self.last_tick)
        self.last_tick = now
        t = now - self.run_t0
        load = self.load
        spec = load.spec if load else None
        progress = load.progress if load else None
        measuring = progress is not None and progress.t0 is not None
        if measuring and self.reading is not None and not closing_cell:  # one reading per second
            self.cell_readings.append(self.reading)
        p50, p99 = self.rolling.percentiles(t)
        ttft50, ttft99 = self.rolling_ttft.percentiles(t)
        itl50, itl99 = self.rolling_itl.percentiles(t)
        done = len(self.summaries)
        fraction = progress.fraction(now) if progress else 0.0
        tokens = bucket.tokens if bucket.tokens_known and bucket.requests else None
        tick = Tick(
            t=t,
            cell=spec.index if spec else None,
            cell_elapsed_s=(now - progress.t0) if measuring and progress and progress.t0 else 0.0,
            progress=fraction,
            run_progress=min(1.0, (done + fraction) / len(self.cells)) if self.cells else 1.0,
            requests_per_s=bucket.requests / span,
            items_per_s=bucket.items / span,
            tokens_per_s=tokens / span if tokens is not None else None,
            errors=bucket.errors,
            cell_errors=progress.errors if progress else 0,
            cell_requests=progress.finished if progress else 0,
            p50_s=p50,
            p99_s=p99,
            machine=self.reading,
            ttft_p50_s=ttft50,
            ttft_p99_s=ttft99,
            itl_p50_s=itl50,
            itl_p99_s=itl99,
        )
        bucket_p50 = bucket_p99 = None
        if bucket.latencies:
            ordered = sorted(bucket.latencies)
            bucket_p50, bucket_p99 = percentile(ordered, 50), percentile(ordered, 99)
        try:
            self.store.add_second(t, spec, bucket.requests, bucket.items, tokens, bucket.errors, bucket_p50, bucket_p99, self.reading, span=span)
            self.store.flush()
        finally:
            if not closing_cell or span >= MIN_TICK_SPAN_S:  # a cell's last few ms would draw as a spike
                self.emit(tick)  # after the flush: what a listener is told about is on disk

    def _sample(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start a machine reading in a thread unless one is still running (a slow sampler skips a beat)."""
        if self._sampling:
            return
        self._sampling = True
        future = loop.run_in_executor(self._sampler_pool, self.sampler)
        future.add_done_callback(self._sampled)

    def _sampled(self, future: asyncio.Future[MachineReading]) -> None:
        self._sampling = False
        if future.cancelled():
            return
        exc = future.exception()
        if exc is not None:
            if not self._sampler_failed:
                self.notice("warning", f"machine readings failed, the run goes on without them: {exc}")
            self._sampler_failed = True
            return
        self.reading = future.result()
        reason = self.memory_guard.check(self.reading)
        if reason and not self.hard_stop.is_set():
            self.abort_reason = reason
            self.notice("error", reason)
            self.hard_stop.set()
