"""A run as a live view sees it: events folded into what the benchmark screen draws.

Plain Python, fed on one thread (the UI's): `apply(event)` returns the parts that changed, so a
screen redraws only those. Bounded: the per-second series and the notices keep their newest.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Literal

from spark_tui.core.bench.adapters import adapter_class
from spark_tui.core.bench.plan import BenchPlan
from spark_tui.core.bench.report import cell_notes
from spark_tui.core.bench.stats import describe_errors
from spark_tui.models.bench import (
    CellFinished,
    CellSpec,
    CellStarted,
    CellSummary,
    LiveEvent,
    Notice,
    RequestsDigest,
    RunFinished,
    RunResult,
    RunStarted,
    SecondPoint,
    ServerInfo,
    Tick,
    WarmupTick,
)

Part = Literal["header", "plot", "progress", "cells", "notices"]
Phase = Literal["starting", "running", "finished"]
CellState = Literal["pending", "running", "done", "not run"]

MAX_SECONDS = 3600  # per-second throughput points kept for the graph
MAX_NOTICES = 100

ERROR_WORDS = {
    "400": "request refused (HTTP 400)",
    "413": "batch too large (HTTP 413)",
    "422": "request refused (HTTP 422)",
    "429": "server overloaded (HTTP 429), backing off",
    "timeout": "timeouts",
    "connection": "connection errors",
    "bad_response": "bad answers",
}


@dataclass
class CellLive:
    spec: CellSpec
    state: CellState = "pending"
    summary: CellSummary | None = None
    requests: int = 0  # measured requests finished so far (from digests)
    ok: int = 0
    items: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    progress: float = 0.0
    items_per_s: float | None = None  # the last closed second while running


@dataclass(frozen=True)
class NoticeLine:
    at: float  # wall clock
    level: Literal["info", "warning", "error"]
    message: str


class LiveRun:
    def __init__(self, plan: BenchPlan, *, clock=time.time) -> None:  # type: ignore[no-untyped-def]
        self.plan = plan
        self.unit = adapter_class(plan.adapter, plan.kind).unit
        self.clock = clock
        self.began_at = clock()
        self.phase: Phase = "starting"
        self.run_id: str | None = None
        self.run_dir: str | None = None
        self.server: ServerInfo | None = None
        self.cells: dict[int, CellLive] = {spec.index: CellLive(spec) for spec in plan.cells()}
        self.current: int | None = None
        self.tick: Tick | None = None
        self.seconds: deque[SecondPoint] = deque(maxlen=MAX_SECONDS)
        self.open_items = 0  # items finished since the last tick (the second still open)
        self.errors: Counter[str] = Counter()
        self.first_errors: dict[str, str] = {}
        self.warmup_requests = 0
        self.warmup: WarmupTick | None = None  # while a warm-up request waits: `warmup.text()` says for how long
        self.notices: deque[NoticeLine] = deque(maxlen=MAX_NOTICES)
        self.result: RunResult | None = None

    # --- reading ---

    @property
    def running(self) -> bool:
        return self.phase != "finished"

    @property
    def total_cells(self) -> int:
        return len(self.cells)

    @property
    def cells_done(self) -> int:
        return sum(1 for c in self.cells.values() if c.state == "done")

    @property
    def current_cell(self) -> CellLive | None:
        return self.cells.get(self.current) if self.current is not None else None

    @property
    def summaries(self) -> list[CellSummary]:
        return [c.summary for c in sorted(self.cells.values(), key=lambda c: c.spec.index) if c.summary is not None]

    @property
    def run_progress(self) -> float:
        if self.phase == "finished":
            return 1.0
        if self.tick is not None:
            return self.tick.run_progress
        return 0.0

    def eta_s(self) -> float | None:
        """Seconds left if every remaining cell runs its full duration (None for request counts)."""
        if self.phase == "finished" or self.plan.requests is not None or not self.plan.duration_s:
            return None if self.phase != "finished" else 0.0
        per_cell = self.plan.duration_s
        pending = sum(1 for c in self.cells.values() if c.state == "pending")
        current = self.current_cell
        left = pending * per_cell
        if current is not None and current.state == "running":
            left += (1 - current.progress) * per_cell
        return left

    def error_line(self) -> str:
        return describe_errors(dict(self.errors)) if self.errors else ""

    # --- folding events ---

    def apply(self, event: LiveEvent) -> set[Part]:
        if isinstance(event, WarmupTick):
            self.warmup = event
            return {"progress"}
        if isinstance(event, RequestsDigest):
            return self._digest(event)
        if isinstance(event, Tick):
            return self._tick(event)
        if isinstance(event, CellStarted):
            return self._cell_started(event)
        if isinstance(event, CellFinished):
            return self._cell_finished(event.summary)
        if isinstance(event, Notice):
            self.note(event.level, event.message)
            return {"notices"}
        if isinstance(event, RunStarted):
            return self._run_started(event)
        if isinstance(event, RunFinished):
            return self._run_finished(event.result)
        return set()

    def note(self, level: Literal["info", "warning", "error"], message: str) -> None:
        self.notices.append(NoticeLine(self.clock(), level, message))

    def _run_started(self, event: RunStarted) -> set[Part]:
        self.phase = "running"
        self.warmup = None
        self.run_id, self.run_dir, self.server = event.run_id, event.run_dir, event.server
        known = {spec.index for spec in event.cells}
        if known != set(self.cells):
            self.cells = {spec.index: CellLive(spec) for spec in event.cells}
        if event.server.problem:
            self.note("error", event.server.problem)
        return {"header", "cells", "notices", "progress"}

    def _cell_started(self, event: CellStarted) -> set[Part]:
        cell = self.cells.setdefault(event.spec.index, CellLive(event.spec))
        cell.state = "running"
        self.current = event.spec.index
        return {"cells", "progress"}

    def _digest(self, event: RequestsDigest) -> set[Part]:
        self.warmup_requests += event.warmup
        if event.cell < 0:
            answered, self.warmup = self.warmup is not None, None  # the waiting warm-up request finished
            return {"progress"} if answered else set()
        cell = self.cells.get(event.cell)
        parts: set[Part] = {"plot"}
        self.open_items += event.items
        if cell is not None:
            cell.requests += event.requests
            cell.ok += event.ok
            cell.items += event.items
            for error, count in event.errors.items():
                if error not in cell.errors:
                    message = event.first_errors.get(error) or ""
                    self.note("error" if error in ("400", "413", "422", "connection", "bad_response") else "warning",
                              f"cell {cell.spec.index + 1} ({cell.spec.label}): {ERROR_WORDS.get(error, 'HTTP ' + error)}"
                              + (f" — {message}" if message else ""))
                    parts.add("notices")
                cell.errors[error] += count
        for error, count in event.errors.items():
            self.errors[error] += count
            if error not in self.first_errors and error in event.first_errors:
                self.first_errors[error] = event.first_errors[error]
        if event.errors:
            parts.add("progress")
        return parts

    def _tick(self, tick: Tick) -> set[Part]:
        self.tick = tick
        self.open_items = 0
        self.seconds.append(SecondPoint(tick.t, tick.items_per_s, tick.cell, tick.errors))
        cell = self.cells.get(tick.cell) if tick.cell is not None else None
        if cell is not None and cell.state == "running":
            cell.progress = tick.progress
            cell.items_per_s = tick.items_per_s
        return {"plot", "progress", "cells"}

    def _cell_finished(self, summary: CellSummary) -> set[Part]:
        cell = self.cells.setdefault(summary.spec.index, CellLive(summary.spec))
        cell.state = "done"
        cell.summary = summary
        cell.progress = 1.0
        if self.current == summary.spec.index:
            self.current = None
        for line in cell_notes([summary]):
            self.note("info" if summary.status == "skipped" else "warning", line)
        return {"cells", "notices", "progress", "plot"}

    def _run_finished(self, result: RunResult) -> set[Part]:
        self.phase = "finished"
        self.warmup = None
        self.result = result
        self.current = None
        self.run_id = result.run_id or self.run_id
        self.run_dir = result.run_dir or self.run_dir
        self.server = result.server or self.server
        for summary in result.cells:
            cell = self.cells.setdefault(summary.spec.index, CellLive(summary.spec))
            cell.state, cell.summary, cell.progress = "done", summary, 1.0
        for cell in self.cells.values():
            if cell.summary is None:
                cell.state = "not run"  # the run ended before it (cancelled, aborted, failed)
        level = "info" if result.status == "completed" else ("warning" if result.status == "cancelled" else "error")
        text = f"run {result.status}" + (f": {result.reason}" if result.reason else "")
        if result.run_dir:
            text += f" · results in {result.run_dir}"
        self.note(level, text)
        return {"header", "cells", "notices", "progress", "plot"}
