"""Benchmark runs: what was asked (cells), what each request did, per-second ticks, per-cell summaries.

Everything here is a frozen dataclass that msgspec can encode; a figure the server or the machine
does not report is None, never 0. Times are seconds; `t`/`elapsed_s` count from the run's start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import msgspec

BenchKind = Literal["embed", "parse", "generate"]

ErrorClass = Literal["400", "413", "422", "429", "4xx", "5xx", "timeout", "connection", "bad_response"]
"""How a request failed; every class counts against the cell's error limit.

413 means the batch was too large; 400 and 422 mean that too only when the server's words say so
(the message then ends in adapters_base.TOO_LARGE_HINT), otherwise the request itself was wrong,
most often the wrong adapter for the server. 429: the server was overloaded. 4xx and 5xx: any
other status (404/405: wrong path or adapter). timeout: no answer within the request timeout (or
a docling task not done in time); connection: no connection, or closed before an answer.
bad_response: a wrong answer (malformed JSON, a wrong vector count, a dimension mismatch, a
document docling could not convert), one cut short, or a 1xx/3xx status where a result was due."""

ERROR_CLASSES: tuple[ErrorClass, ...] = ("400", "413", "422", "429", "4xx", "5xx", "timeout", "connection", "bad_response")

CellStatus = Literal["ok", "degraded", "failed", "skipped", "cancelled"]
"""How a cell ended (spark_tui.core.bench.stats.judge_cell; the limit is the plan's max_error_rate, 5 %):

ok: measured, errors (if any) within the limit and none of them a 429;
degraded: measured, with some 429s, all errors together within the limit;
failed: more errors than the limit (429s and wrong answers included), no request answered right,
  none finished, or the payload could not be made: its figures are not the server's;
skipped: not run: over the server's max batch, this or a smaller batch was refused as too large,
  or a lower concurrency of its batch hit 429s or the error limit (spark_tui.core.bench.guards);
cancelled: cut short by a cancel or an abort; what it measured still counts.
Only ok, degraded and cancelled cells compete for the best rate (stats.best_cell)."""

RunStatus = Literal["running", "completed", "failed", "cancelled", "aborted", "interrupted"]
"""interrupted is only ever read back: the process died while run.json still said running."""


@dataclass(frozen=True)
class MachineReading:
    """The machine beside the run, sampled each second. GB10: memory comes from /proc/meminfo."""

    taken_at: float  # wall-clock seconds
    gpu_util_pct: float | None = None
    gpu_power_w: float | None = None
    gpu_temp_c: float | None = None
    mem_available_bytes: int | None = None
    mem_used_bytes: int | None = None
    gpu_process_mem_bytes: int | None = None


@dataclass(frozen=True)
class ServerInfo:
    """What pre-flight learnt about the server, recorded with the run."""

    adapter: str
    url: str
    reachable: bool
    health: str | None = None  # e.g. "ok", "503 Service Unavailable"
    server: str | None = None  # product and version when the API says, e.g. "TEI 1.8.0"
    model: str | None = None
    max_batch: int | None = None  # items per request the server accepts
    max_batch_tokens: int | None = None
    max_concurrency: int | None = None
    dimension: int | None = None  # embedding length seen in the warm-up
    warmup_s: tuple[float, ...] = ()  # latency of each discarded warm-up request
    notes: tuple[str, ...] = ()  # things the user should know, one line each
    problem: str | None = None  # why the run cannot go on; None when it can


@dataclass(frozen=True)
class CellSpec:
    """One point of the sweep: a payload variant at a batch size and a concurrency."""

    index: int
    payload: str  # e.g. "text", "1080p", "pdf"
    batch: int
    concurrency: int
    duration_s: float | None  # the cell ends after this long, or
    requests: int | None  # after this many measured requests
    input_tokens: int | None = None  # generation: prompt length asked for
    output_tokens: int | None = None  # generation: output length asked for

    @property
    def label(self) -> str:
        if self.input_tokens is not None:
            return f"in={self.input_tokens} out={self.output_tokens} c={self.concurrency}"
        return f"{self.payload} b={self.batch} c={self.concurrency}"

    @property
    def key(self) -> tuple[str, int, int, int | None, int | None]:
        """What makes two runs' cells the same cell (compare)."""
        return (self.payload, self.batch, self.concurrency, self.input_tokens, self.output_tokens)


class GenFigures(msgspec.Struct, frozen=True, omit_defaults=True):
    """One generation request's own figures (requests.jsonl: the record's `gen`).

    Times are seconds from the request being written. Token counts come from the server (OpenAI
    `usage`, Ollama's eval counts, llama.cpp's tokens_predicted/evaluated); `tokens_source` says
    which, or how they were estimated when the server did not say."""

    ttft_s: float | None = None  # request written -> first event carrying output
    itl_s: float | None = None  # (last token event - first) / (output tokens - 1), as AIPerf
    tpot_s: float | None = None  # (end - ttft) / (output tokens - 1), as vLLM's bench
    input_tokens: int | None = None
    output_tokens: int | None = None
    asked_tokens: int | None = None  # the output length asked for
    events: int = 0  # events that carried output (several tokens each on some servers)
    tokens_source: str = "usage"  # "usage", "native", or "estimated: …"
    finish: str | None = None  # finish_reason / done_reason / stop_type
    short: bool = False  # stopped before the asked length


class RequestRecord(msgspec.Struct, frozen=True):
    """One finished request, as written to requests.jsonl.

    A msgspec Struct rather than a dataclass: one is made per request, and a frozen dataclass
    takes 3.4 µs to build against 0.2 µs (bench/accuracy.py counts the runner's CPU per request).
    """

    cell: int
    t: float  # completion time, seconds since the run started
    latency_s: float
    ok: bool
    items: int  # items the request carried (texts, frames, pages)
    status: int | None = None  # HTTP status; None when no answer came
    error: ErrorClass | None = None
    message: str | None = None
    tokens: int | None = None
    tokens_estimated: bool = False
    server_s: float | None = None  # the server's own processing time, where the API reports it
    extra: dict[str, float | int | str] | None = None  # adapter-specific figures (queue_s, elements, pages…)
    warmup: bool = False
    gen: GenFigures | None = None  # generation requests only


@dataclass(frozen=True)
class LatencyStats:
    count: int
    mean: float
    p50: float
    p90: float
    p95: float
    p99: float
    max: float
    min: float


@dataclass(frozen=True)
class MachineStats:
    """The machine readings taken while a cell ran."""

    samples: int
    gpu_util_mean: float | None = None
    gpu_util_max: float | None = None
    gpu_power_mean: float | None = None
    gpu_power_max: float | None = None
    gpu_temp_max: float | None = None
    mem_available_min: int | None = None
    mem_used_max: int | None = None
    gpu_process_mem_max: int | None = None


@dataclass(frozen=True)
class GoodputStats:
    """Requests that met every SLO given (--slo ttft=2s,itl=50ms), as vLLM's and AIPerf's goodput."""

    slo: dict[str, float]  # "ttft" | "itl" | "tpot" | "e2e" -> seconds
    good: int
    share: float  # of the successful requests
    requests_per_s: float | None


@dataclass(frozen=True)
class CellSummary:
    spec: CellSpec
    status: CellStatus
    reason: str | None = None  # why skipped/failed/degraded, in words
    requests: int = 0  # measured requests finished (ok + errors)
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)  # error class -> count
    first_error: str | None = None  # the first error message, to show the user
    elapsed_s: float = 0.0
    requests_per_s: float | None = None
    items_per_s: float | None = None
    tokens_per_s: float | None = None
    tokens_estimated: bool = False
    latency: LatencyStats | None = None  # successful requests only
    server_time: LatencyStats | None = None  # server-reported processing time
    extra_means: dict[str, float] = field(default_factory=dict)
    extra_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    machine: MachineStats | None = None
    # generation cells (None elsewhere); times in seconds, rates per second of the cell
    output_tokens_per_s: float | None = None  # all requests together
    output_tokens_per_s_per_user: float | None = None  # mean of each request's 1 / ITL, as AIPerf
    input_tokens_per_s: float | None = None
    ttft: LatencyStats | None = None
    itl: LatencyStats | None = None  # per request, AIPerf's definition
    tpot: LatencyStats | None = None  # per request, vLLM's definition
    e2e: LatencyStats | None = None
    event_gap: LatencyStats | None = None  # every gap between two output events (vLLM's "ITL")
    input_tokens_mean: float | None = None
    output_tokens_mean: float | None = None
    short_requests: int = 0  # stopped before the asked length
    tokens_source: str | None = None  # how tokens were counted ("usage", "native", "estimated: …")
    goodput: GoodputStats | None = None
    output_tokens_per_joule: float | None = None  # output tokens/s over the mean GPU power

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def error_rate(self) -> float:
        return self.error_count / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class RunResult:
    run_id: str
    run_dir: str | None  # None when results could not be saved
    status: RunStatus
    reason: str | None
    server: ServerInfo | None
    cells: tuple[CellSummary, ...]
    started_at: float  # wall clock
    finished_at: float | None

    @property
    def failed(self) -> bool:
        return self.status != "completed" or any(c.status == "failed" for c in self.cells)


# --- events, in the order a run produces them -------------------------------------------------


@dataclass(frozen=True)
class WarmupTick:
    """Each second while a warm-up request waits for its answer (once it has waited half a second):
    before RunStarted, the only sign of life of a server that is loading a model, or is stuck.
    A listener may ignore it: nothing else depends on it."""

    waited_s: float
    timeout_s: float  # no answer within this ends the run
    request: int  # which warm-up request, from 1
    requests: int

    def text(self) -> str:
        """'warming up: waiting for the first answer (model loading?) 12 s, giving up at 120 s'."""
        what = "the first answer (model loading?)" if self.request == 1 else f"warm-up answer {self.request} of {self.requests}:"
        return f"warming up: waiting for {what} {self.waited_s:.0f} s, giving up at {self.timeout_s:g} s"


@dataclass(frozen=True)
class RunStarted:
    run_id: str
    run_dir: str | None
    server: ServerInfo
    cells: tuple[CellSpec, ...]


@dataclass(frozen=True)
class CellStarted:
    spec: CellSpec
    total_cells: int


@dataclass(frozen=True)
class RequestsFinished:
    """Requests that finished since the last such event (a few per second at most)."""

    cell: int
    records: tuple[RequestRecord, ...]


@dataclass(frozen=True)
class RequestsDigest:
    """RequestsFinished folded into counts, for a screen: a busy cell finishes thousands of requests
    a second, and a live view needs how many and which errors, not every record (those are in
    requests.jsonl)."""

    cell: int
    t: float  # completion time of the newest request, seconds since the run started
    requests: int  # measured requests (warm-up excluded)
    ok: int
    items: int  # items of the successful measured requests
    warmup: int = 0  # warm-up requests in the batch (discarded from the figures)
    errors: dict[str, int] = field(default_factory=dict)  # error class -> count
    first_errors: dict[str, str] = field(default_factory=dict)  # error class -> its first message here


@dataclass(frozen=True)
class Tick:
    """Once a second: the second that just closed, rolling latency, progress, the machine.

    Ticks are self-contained: a UI may drop all but the newest.
    """

    t: float  # seconds since the run started
    cell: int | None
    cell_elapsed_s: float
    progress: float  # 0..1 through the current cell
    run_progress: float  # 0..1 through the whole run
    requests_per_s: float
    items_per_s: float
    tokens_per_s: float | None
    errors: int  # errors in the closed second
    cell_errors: int  # errors in the cell so far
    cell_requests: int
    p50_s: float | None  # rolling, over the last few seconds
    p99_s: float | None
    machine: MachineReading | None
    # generation runs: rolling TTFT and ITL (AIPerf's, per request) over the same window;
    # items_per_s is then output tokens per second
    ttft_p50_s: float | None = None
    ttft_p99_s: float | None = None
    itl_p50_s: float | None = None
    itl_p99_s: float | None = None


@dataclass(frozen=True)
class SecondPoint:
    """Throughput of one second of a run, for graphs (live from ticks, afterwards from timeseries.csv)."""

    t: float  # seconds since the run started, at the end of the second
    items_per_s: float
    cell: int | None
    errors: int


@dataclass(frozen=True)
class CellFinished:
    summary: CellSummary


@dataclass(frozen=True)
class Notice:
    """Something the user should see now (a guard tripped, a warm-up failed…)."""

    level: Literal["info", "warning", "error"]
    message: str


@dataclass(frozen=True)
class RunFinished:
    result: RunResult


BenchEvent = WarmupTick | RunStarted | CellStarted | RequestsFinished | Tick | CellFinished | Notice | RunFinished

LiveEvent = WarmupTick | RunStarted | CellStarted | RequestsDigest | Tick | CellFinished | Notice | RunFinished
"""What a live view receives: events with RequestsFinished replaced by its digest."""
