"""A run's directory under $XDG_DATA_HOME/spark-tui/runs/<id>/, written as the run goes:

- run.json        plan, environment, server, cells and their summaries (rewritten atomically);
- requests.jsonl  one line per finished request, appended in batches each second;
- timeseries.csv  one row per second (the part of it a cell had, at a cell's end: `span_s`):
                  throughput, latency, errors, GPU and memory;
- summary.csv     one row per finished cell, the adapters' own figures (OmniParser's elements
                  per frame, TEI's queue and inference times, docling's statuses) after the others.

Every file is readable at any moment, also after a kill: run.json is replaced atomically,
the others only ever grow by whole lines (a reader drops a torn last line).
"""

from __future__ import annotations

import csv
import io
import logging
import os
import platform
import secrets
import socket
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import msgspec

from spark_tui import __version__
from spark_tui.models.bench import (
    CellSpec,
    CellSummary,
    MachineReading,
    RequestRecord,
    RunStatus,
    ServerInfo,
)
from spark_tui.paths import data_dir

log = logging.getLogger(__name__)

FORMAT_VERSION = 1

TIMESERIES_COLUMNS = (
    "t_s", "span_s", "cell", "payload", "batch", "concurrency", "requests", "items", "tokens", "errors",
    "p50_ms", "p99_ms", "gpu_util_pct", "gpu_power_w", "gpu_temp_c",
    "mem_available_bytes", "mem_used_bytes", "gpu_process_mem_bytes",
)
SUMMARY_COLUMNS = (
    "cell", "payload", "batch", "concurrency", "status", "requests", "ok", "errors", "error_classes",
    "elapsed_s", "requests_per_s", "items_per_s", "tokens_per_s", "tokens_estimated",
    "latency_mean_ms", "latency_p50_ms", "latency_p90_ms", "latency_p95_ms", "latency_p99_ms", "latency_max_ms",
    "server_p50_ms", "gpu_util_mean_pct", "gpu_power_mean_w", "gpu_power_max_w", "gpu_temp_max_c",
    "mem_available_min_bytes", "reason",
)

_encoder = msgspec.json.Encoder()


def runs_dir(override: str | os.PathLike[str] | None = None) -> Path:
    return Path(override).expanduser() if override else data_dir() / "runs"


def new_run_id(kind: str, adapter: str, now: float | None = None) -> str:
    stamp = datetime.fromtimestamp(now if now is not None else time.time()).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{kind}-{adapter}-{secrets.token_hex(2)}"


def environment(extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Where the run happened: enough to tell two machines or two software versions apart."""
    env: dict[str, Any] = {
        "spark_tui": __version__,
        "python": platform.python_version(),
        "hostname": socket.gethostname(),
        "machine": platform.machine(),
        "kernel": platform.release(),
        "cpus": os.cpu_count(),
    }
    try:
        with open("/proc/meminfo") as f:
            first = f.readline().split()
        if first and first[0] == "MemTotal:":
            env["mem_total_bytes"] = int(first[1]) * 1024
    except (OSError, ValueError, IndexError) as exc:
        log.debug("memory size not recorded: %r", exc)
    env.update(extra or {})
    return env


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds") if ts is not None else None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


class RunStore:
    """Writes one run's files. Not thread-safe: the runner's loop owns it."""

    def __init__(self, directory: Path, run_id: str) -> None:
        self.directory = directory
        self.run_id = run_id
        self._records: list[RequestRecord] = []
        self.recorded = 0  # requests measured (warm-ups are not records)
        self._requests_bin: BinaryIO | None = None
        self._timeseries: TextIO | None = None
        self._timeseries_csv: Any = None
        self.document: dict[str, Any] = {}

    @classmethod
    def create(cls, base: str | os.PathLike[str] | None, kind: str, adapter: str) -> RunStore:
        """Make the run's directory; OSError (phrased for the user) when it cannot be written."""
        root = runs_dir(base)
        for _ in range(5):
            run_id = new_run_id(kind, adapter)
            directory = root / run_id
            try:
                directory.mkdir(parents=True, exist_ok=False)
            except FileExistsError:
                continue
            except OSError as exc:
                raise OSError(f"cannot save results in {root}: {exc.strerror or exc}") from None
            store = cls(directory, run_id)
            store._open_files()
            return store
        raise OSError(f"cannot create a new run directory in {root}")

    def _open_files(self) -> None:
        self._requests_bin = open(self.directory / "requests.jsonl", "ab")
        self._timeseries = open(self.directory / "timeseries.csv", "w", newline="", encoding="utf-8")
        self._timeseries_csv = csv.writer(self._timeseries)
        self._timeseries_csv.writerow(TIMESERIES_COLUMNS)
        self._timeseries.flush()
        self.write_summary(())

    # --- run.json ---

    def start(self, plan: Mapping[str, Any], env: Mapping[str, Any], cells: Sequence[CellSpec], started_at: float) -> None:
        self.document = {
            "format": FORMAT_VERSION,
            "run_id": self.run_id,
            "status": "running",
            "reason": None,
            "started_at": started_at,
            "started": _iso(started_at),
            "finished_at": None,
            "pid": os.getpid(),
            "hostname": socket.gethostname(),
            "plan": dict(plan),
            "environment": dict(env),
            "server": None,
            "cells": list(cells),
            "summaries": [],
        }
        self._write_document()

    def set_server(self, server: ServerInfo) -> None:
        self.document["server"] = server
        self._write_document()

    def set_summaries(self, summaries: Sequence[CellSummary]) -> None:
        self.flush()
        self.document["summaries"] = list(summaries)
        self._write_document()
        self.write_summary(summaries)

    def finish(self, status: RunStatus, reason: str | None, finished_at: float) -> None:
        self.flush()
        self.document.update(status=status, reason=reason, finished_at=finished_at, finished=_iso(finished_at))
        self._write_document()

    def _write_document(self) -> None:
        data = msgspec.json.format(_encoder.encode(self.document), indent=2)
        _atomic_write(self.directory / "run.json", data + b"\n")

    # --- requests.jsonl and timeseries.csv ---

    def add_record(self, record: RequestRecord) -> None:
        self._records.append(record)
        self.recorded += 1

    def add_second(self, t: float, spec: CellSpec | None, requests: int, items: int, tokens: int | None, errors: int,
                   p50: float | None, p99: float | None, machine: MachineReading | None, *, span: float | None = None) -> None:
        """A row for the requests that finished in the `span` seconds up to `t` (all of one cell)."""
        m = machine or MachineReading(taken_at=0)
        row = (
            round(t, 3), round(span, 3) if span is not None else None, spec.index if spec else None, spec.payload if spec else None, spec.batch if spec else None,
            spec.concurrency if spec else None, requests, items, tokens, errors,
            p50 * 1000 if p50 is not None else None, p99 * 1000 if p99 is not None else None,
            m.gpu_util_pct, m.gpu_power_w, m.gpu_temp_c, m.mem_available_bytes, m.mem_used_bytes, m.gpu_process_mem_bytes,
        )
        if self._timeseries_csv is not None:
            self._timeseries_csv.writerow([_cell(v) for v in row])

    def flush(self) -> None:
        """Write what is buffered: the runner calls this each second and at every cell's end."""
        self.flush_records()
        if self._timeseries is not None:
            self._timeseries.flush()

    def flush_records(self) -> None:
        """Hand the finished requests to the kernel (the runner does so every 50 ms): after that a
        kill -9 cannot lose them."""
        if self._records and self._requests_bin is not None:
            self._requests_bin.write(_encoder.encode_lines(self._records))
            self._records.clear()
            self._requests_bin.flush()

    def write_summary(self, summaries: Sequence[CellSummary]) -> None:
        means = sorted({k for s in summaries for k in s.extra_means})
        counts = sorted({k for s in summaries for k in s.extra_counts})
        generation = any(s.spec.input_tokens is not None for s in summaries)
        gen_columns = GENERATION_COLUMNS if generation else ()
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(SUMMARY_COLUMNS[:-1] + gen_columns + tuple(f"{k}_mean" for k in means) + tuple(f"{k}_counts" for k in counts) + SUMMARY_COLUMNS[-1:])
        for s in summaries:
            row = summary_row(s)
            gen = generation_row(s) if generation else ()
            extras = [s.extra_means.get(k) for k in means] + [";".join(f"{label}:{n}" for label, n in s.extra_counts.get(k, {}).items()) for k in counts]
            writer.writerow([_cell(v) for v in row[:-1] + gen + tuple(extras) + row[-1:]])
        _atomic_write(self.directory / "summary.csv", out.getvalue().encode("utf-8"))

    def close(self) -> None:
        self.flush()
        for handle in (self._requests_bin, self._timeseries):
            if handle is not None:
                handle.close()
        self._requests_bin = self._timeseries = self._timeseries_csv = None

    def discard(self) -> None:
        """Remove this run's own directory: a run that never reached its server measured nothing,
        and the saved runs are kept for what was measured (#14: failed starts cluttered them)."""
        self.close()
        for name in ("requests.jsonl", "timeseries.csv", "summary.csv", "run.json"):
            (self.directory / name).unlink(missing_ok=True)
        try:
            self.directory.rmdir()  # only if empty: nothing but our own files is ever removed
        except OSError as exc:
            log.warning("kept %s: %s", self.directory, exc)


def summary_row(s: CellSummary) -> tuple[Any, ...]:
    lat, server, machine = s.latency, s.server_time, s.machine

    def ms(value: float | None) -> float | None:
        return value * 1000 if value is not None else None

    return (
        s.spec.index, s.spec.payload, s.spec.batch, s.spec.concurrency, s.status, s.requests, s.ok, s.error_count,
        ";".join(f"{k}:{v}" for k, v in s.errors.items()), round(s.elapsed_s, 3),
        s.requests_per_s, s.items_per_s, s.tokens_per_s, s.tokens_estimated if s.tokens_per_s is not None else None,
        ms(lat.mean) if lat else None, ms(lat.p50) if lat else None, ms(lat.p90) if lat else None,
        ms(lat.p95) if lat else None, ms(lat.p99) if lat else None, ms(lat.max) if lat else None,
        ms(server.p50) if server else None,
        machine.gpu_util_mean if machine else None, machine.gpu_power_mean if machine else None,
        machine.gpu_power_max if machine else None, machine.gpu_temp_max if machine else None,
        machine.mem_available_min if machine else None, s.reason,
    )


GENERATION_COLUMNS = (
    "input_tokens", "output_tokens", "output_tokens_per_s", "output_tokens_per_s_per_user", "input_tokens_per_s",
    *(f"{name}_{q}_ms" for name in ("ttft", "itl", "tpot", "e2e", "event_gap") for q in ("mean", "p50", "p90", "p99")),
    "input_tokens_mean", "output_tokens_mean", "short_requests", "tokens_source", "goodput_share", "goodput_requests_per_s",
    "output_tokens_per_joule",
)


def generation_row(s: CellSummary) -> tuple[Any, ...]:
    def ms(stats: Any) -> list[float | None]:
        return [getattr(stats, q) * 1000 if stats is not None else None for q in ("mean", "p50", "p90", "p99")]

    good = s.goodput
    return (
        s.spec.input_tokens, s.spec.output_tokens, s.output_tokens_per_s, s.output_tokens_per_s_per_user, s.input_tokens_per_s,
        *ms(s.ttft), *ms(s.itl), *ms(s.tpot), *ms(s.e2e), *ms(s.event_gap),
        s.input_tokens_mean, s.output_tokens_mean, s.short_requests, s.tokens_source,
        good.share if good else None, good.requests_per_s if good else None, s.output_tokens_per_joule,
    )


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)

