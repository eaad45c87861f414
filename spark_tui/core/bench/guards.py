"""Guards that keep a run from hurting the machine or wasting time on a server that cannot cope.

- memory: abort when MemAvailable falls below the floor (NVML cannot see GB10's unified memory);
- ramp: after a cell with 429s or too many errors, skip the higher concurrencies of that batch size;
- batch limit: skip batches above the server's advertised limit, and above one it refused as too
  large (413; 400/422 when the server's message is about size, see adapters_base.describe_failure);
- dead server: abort after consecutive cells in which nothing but connection errors/timeouts came back;
- give-up: end a cell early when it has only errors so far.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spark_tui.core.bench.adapters_base import TOO_LARGE_HINT
from spark_tui.models.bench import CellSpec, CellSummary, MachineReading

GIB = 1024**3
DEAD = ("connection", "timeout")


@dataclass(frozen=True)
class MemoryGuard:
    floor_bytes: int

    def check(self, reading: MachineReading | None) -> str | None:
        """Why the run must stop now, or None."""
        if reading is None or reading.mem_available_bytes is None or self.floor_bytes <= 0:
            return None
        if reading.mem_available_bytes < self.floor_bytes:
            return (
                f"available memory fell to {reading.mem_available_bytes / GIB:.1f} GiB, "
                f"below the {self.floor_bytes / GIB:g} GiB floor: run aborted to keep the machine responsive"
            )
        return None


def give_up(ok: int, errors: int, concurrency: int) -> bool:
    """True when a cell has seen only errors for long enough to stop trying."""
    return ok == 0 and errors >= max(10, 2 * concurrency)


@dataclass
class SweepGuard:
    """Decides which of the remaining cells to skip, from the server's limits and the cells so far."""

    max_batch: int | None = None  # from pre-flight (TEI max_client_batch_size)
    max_error_rate: float = 0.05
    dead_cells_to_abort: int = 2
    _stopped_ramps: dict[tuple[str, int], str] = field(default_factory=dict)
    _refused_batch: dict[str, tuple[int, str]] = field(default_factory=dict)
    _dead_in_a_row: int = 0

    def skip_reason(self, spec: CellSpec) -> str | None:
        if self.max_batch is not None and spec.batch > self.max_batch:
            return f"batch {spec.batch} is over the server's limit of {self.max_batch} items per request"
        refused = self._refused_batch.get(spec.payload)
        if refused is not None and spec.batch >= refused[0]:
            return f"the server refused batch {refused[0]} as too large ({refused[1]})"
        return self._stopped_ramps.get((spec.payload, spec.batch))

    def after_cell(self, summary: CellSummary) -> str | None:
        """Learn from a finished cell; returns a reason to abort the whole run, or None."""
        spec = summary.spec
        if summary.status == "skipped":
            return None
        errors = summary.errors
        refused = ("413", "400", "422") if TOO_LARGE_HINT in (summary.first_error or "") else ("413",)
        too_large = sum(errors.get(code, 0) for code in refused)
        if summary.ok == 0 and too_large and too_large >= summary.error_count / 2:
            codes = "/".join(code for code in refused if errors.get(code))
            self._refused_batch.setdefault(spec.payload, (spec.batch, f"HTTP {codes}"))
        elif errors.get("429") or summary.error_rate > self.max_error_rate:
            why = "the server answered 429 (overloaded)" if errors.get("429") else f"{summary.error_rate:.0%} of requests failed"
            self._stopped_ramps.setdefault(
                (spec.payload, spec.batch), f"concurrency not raised further: at {spec.concurrency} {why}"
            )
        if summary.ok == 0 and summary.requests and all(cls in DEAD for cls in errors):
            self._dead_in_a_row += 1
        else:
            self._dead_in_a_row = 0
        if self._dead_in_a_row >= self.dead_cells_to_abort:
            return f"the server stopped answering ({summary.first_error or 'connection errors and timeouts'})"
        return None
