"""Reading saved runs back: list them, load one (also one that was killed), compare two cell by cell.

Blocking file reads: the UI calls these from a thread worker. Nothing here raises for a damaged
run; the problem is reported in `problem` instead.
"""

from __future__ import annotations

import csv
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from spark_tui.core.bench.results import runs_dir
from spark_tui.core.bench.stats import best_cell, summarize_cell
from spark_tui.models.bench import (
    CellSpec,
    CellSummary,
    RequestRecord,
    RunStatus,
    SecondPoint,
    ServerInfo,
)

MAX_LISTED = 500
MAX_SECONDS = 86_400


@dataclass(frozen=True)
class SavedRun:
    run_id: str
    directory: Path
    status: RunStatus
    reason: str | None
    started_at: float | None
    finished_at: float | None
    plan: dict[str, Any] = field(default_factory=dict)
    environment: dict[str, Any] = field(default_factory=dict)
    server: ServerInfo | None = None
    cells: tuple[CellSpec, ...] = ()
    summaries: tuple[CellSummary, ...] = ()
    problem: str | None = None  # why the run could not be read in full

    @property
    def cells_done(self) -> int:
        """Cells that measured something (the `h` screen and `bench runs` both count these)."""
        return sum(1 for s in self.summaries if s.requests)

    @property
    def kind(self) -> str | None:
        return self.plan.get("kind")

    @property
    def adapter(self) -> str | None:
        return self.plan.get("adapter")

    @property
    def url(self) -> str | None:
        return self.plan.get("url")

    @property
    def best_items_per_s(self) -> float | None:
        """The fastest cell whose figures stand (bench.stats.best_cell): never a failed one."""
        best = best_cell(self.summaries)
        return best.items_per_s if best is not None else None


def list_runs(base: str | os.PathLike[str] | None = None, limit: int = MAX_LISTED) -> list[SavedRun]:
    """Saved runs, newest first, read as `load_run` reads one (so a killed run's best rate is the one
    `compare` shows; rebuilding its last cell reads that run's requests.jsonl)."""
    root = runs_dir(base)
    try:
        entries = [entry for entry in os.scandir(root) if entry.is_dir()]
    except FileNotFoundError:
        return []
    except OSError:
        return []
    entries.sort(key=lambda entry: entry.name, reverse=True)
    return [load_run(Path(entry.path)) for entry in entries[:limit]]


def load_run(directory: str | os.PathLike[str], *, recompute: bool = True) -> SavedRun:
    """One run. With `recompute`, cells that have requests but no saved summary (the run was killed
    mid-cell) are summarised from requests.jsonl; not while the run is still going."""
    path = Path(directory)
    run_id = path.name
    try:
        raw = (path / "run.json").read_bytes()
        doc = msgspec.json.decode(raw)
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
    except FileNotFoundError:
        return SavedRun(run_id, path, "interrupted", None, None, None, problem="run.json is missing")
    except (OSError, ValueError, msgspec.DecodeError) as exc:
        return SavedRun(run_id, path, "interrupted", None, None, None, problem=f"run.json is unreadable: {exc}")
    problems: list[str] = []

    def convert(value: Any, kind: Any, what: str) -> Any:
        try:
            return msgspec.convert(value, kind)
        except msgspec.ValidationError as exc:
            problems.append(f"{what}: {exc}")
            return None

    status = doc.get("status") if doc.get("status") in ("running", "completed", "failed", "cancelled", "aborted") else "interrupted"
    if status == "running" and not _still_running(doc):
        status = "interrupted"
    run_id = str(doc.get("run_id") or run_id)
    cells = convert(doc.get("cells") or [], tuple[CellSpec, ...], "cells") or ()
    summaries = list(convert(doc.get("summaries") or [], tuple[CellSummary, ...], "summaries") or ())
    if recompute and status not in ("completed", "running"):
        plan = doc.get("plan") if isinstance(doc.get("plan"), dict) else {}
        slo = plan.get("slo") if isinstance(plan.get("slo"), dict) else None
        summaries.extend(_recompute_missing(path, cells, summaries, problems, slo))
    reason = doc.get("reason") if isinstance(doc.get("reason"), str) else None
    return SavedRun(
        run_id=str(doc.get("run_id") or run_id),
        directory=path,
        status=status,  # type: ignore[arg-type]
        reason=reason if status != "interrupted" else (reason or "the process ended before the run finished"),
        started_at=_time(doc.get("started_at")),
        finished_at=_time(doc.get("finished_at")),
        plan=doc.get("plan") if isinstance(doc.get("plan"), dict) else {},
        environment=doc.get("environment") if isinstance(doc.get("environment"), dict) else {},
        server=convert(doc["server"], ServerInfo, "server") if isinstance(doc.get("server"), dict) else None,
        cells=tuple(cells),
        summaries=tuple(summaries),
        problem="; ".join(problems) or None,
    )


def _time(value: Any) -> float | None:
    """A wall-clock time from run.json, or None when it is not one (a damaged file)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1e11:
        return None
    return float(value)


def _still_running(doc: dict[str, Any]) -> bool:
    if doc.get("hostname") != socket.gethostname():
        return True  # another machine's run: we cannot tell
    pid = doc.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def iter_records(directory: str | os.PathLike[str]) -> Iterator[RequestRecord]:
    """Every request of a run, in order; a torn last line (the run was killed mid-write) is skipped."""
    decoder = msgspec.json.Decoder(RequestRecord)
    try:
        handle = open(Path(directory) / "requests.jsonl", "rb")
    except FileNotFoundError:
        return
    with handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                yield decoder.decode(line)
            except (msgspec.DecodeError, msgspec.ValidationError):
                continue


def read_throughput(directory: str | os.PathLike[str]) -> list[SecondPoint]:
    """Items per second through the run, from timeseries.csv (one row per second, split where a
    cell ended); rows that cannot be read (a torn last line) are skipped. A cell's last fraction
    of a second is folded into its previous point: a few ms of tail would draw as a spike."""
    points: list[SecondPoint] = []
    spans: list[float] = []
    previous = 0.0
    try:
        handle = open(Path(directory) / "timeseries.csv", newline="", encoding="utf-8")
    except OSError:
        return points
    with handle:
        for row in csv.DictReader(handle):
            try:
                t = float(row["t_s"])
                items = float(row["items"] or 0)
                errors = int(row["errors"] or 0)
                cell = int(row["cell"]) if row.get("cell") else None
                span = float(row["span_s"]) if row.get("span_s") else (t - previous if t > previous else 1.0)
            except (KeyError, TypeError, ValueError):
                continue
            previous = t
            if span < 0.25 and points and points[-1].cell == cell:
                last = points[-1]
                spans[-1] += span
                points[-1] = SecondPoint(t, (last.items_per_s * (spans[-1] - span) + items) / spans[-1], cell, last.errors + errors)
                continue
            points.append(SecondPoint(t, items / max(span, 1e-3), cell, errors))
            spans.append(span)
            if len(points) >= MAX_SECONDS:
                break
    return points


def _recompute_missing(path: Path, cells: tuple[CellSpec, ...], summaries: list[CellSummary], problems: list[str],
                       slo: dict[str, float] | None = None) -> list[CellSummary]:
    done = {s.spec.index for s in summaries}
    missing = {c.index: c for c in cells if c.index not in done}
    if not missing:
        return []
    records: dict[int, list[RequestRecord]] = {}
    for record in iter_records(path):
        if record.cell in missing and not record.warmup:
            records.setdefault(record.cell, []).append(record)
    result = []
    for index, cell_records in sorted(records.items()):
        first_start = min(r.t - r.latency_s for r in cell_records)
        elapsed = max(r.t for r in cell_records) - first_start
        result.append(summarize_cell(missing[index], cell_records, elapsed, status="cancelled",
                                     reason="the run stopped during this cell (summary rebuilt from requests.jsonl)", slo=slo))
    return result


@dataclass(frozen=True)
class CellComparison:
    """The same cell (payload, batch, concurrency) in two runs."""

    payload: str
    batch: int
    concurrency: int
    a: CellSummary | None
    b: CellSummary | None
    input_tokens: int | None = None  # generation cells
    output_tokens: int | None = None

    @property
    def items_per_s_ratio(self) -> float | None:
        """b / a: above 1 means run b was faster."""
        if self.a is None or self.b is None or not self.a.items_per_s or self.b.items_per_s is None:
            return None
        return self.b.items_per_s / self.a.items_per_s

    @property
    def p99_ratio(self) -> float | None:
        if self.a is None or self.b is None or self.a.latency is None or self.b.latency is None or not self.a.latency.p99:
            return None
        return self.b.latency.p99 / self.a.latency.p99


def compare_runs(a: SavedRun, b: SavedRun) -> list[CellComparison]:
    """Cells of both runs matched by (payload, batch, concurrency, and the lengths of generation
    cells), in the sweep's order: payload (as the runs list them), then batch, lengths and
    concurrency ascending, so a cell only B ran sits where it belongs (#14: they were appended)."""
    left = {s.spec.key: s for s in a.summaries}
    right = {s.spec.key: s for s in b.summaries}
    payloads = list(dict.fromkeys(k[0] for k in [*left, *right]))

    def place(key: tuple) -> tuple:
        payload, batch, concurrency, input_tokens, output_tokens = key[:5]
        return (payloads.index(payload), batch or 0, input_tokens or 0, output_tokens or 0, concurrency or 0)

    order = sorted({*left, *right}, key=place)
    return [CellComparison(k[0], k[1], k[2], left.get(k), right.get(k), k[3], k[4]) for k in order]


def resolve_run(name: str, base: str | os.PathLike[str] | None = None) -> Path:
    """A run directory from a path, a full run id, or a unique prefix/suffix of one; ValueError otherwise."""
    candidate = Path(name).expanduser()
    if (candidate / "run.json").exists() or (candidate.is_dir() and (candidate / "requests.jsonl").exists()):
        return candidate
    root = runs_dir(base)
    if (root / name).is_dir():
        return root / name
    try:
        names = [entry.name for entry in os.scandir(root) if entry.is_dir()]
    except OSError:
        names = []
    matches = [n for n in names if n.startswith(name) or n.endswith(name)]
    if len(matches) == 1:
        return root / matches[0]
    if not matches:
        raise ValueError(f"no saved run {name!r} in {root}")
    raise ValueError(f"{name!r} matches {len(matches)} runs: {', '.join(sorted(matches)[:4])}…")
