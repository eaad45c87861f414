"""Helpers for the benchmark screens' tests: a launcher that never starts a process (events are
posted by the test), canned events of a run, and driving the form like a user."""

from __future__ import annotations


from support import wait_for
from textual.widgets import Input, Select

from spark_tui.core.bench.events import StreamRequest
from spark_tui.core.bench.plan import BenchPlan
from spark_tui.ui.messages import BenchEventArrived
from spark_tui.models.bench import (
    CellFinished,
    CellSpec,
    CellStarted,
    CellSummary,
    LatencyStats,
    MachineStats,
    Notice,
    RequestsDigest,
    RunStarted,
    ServerInfo,
    Tick,
)
from spark_tui.ui.bench.screen import BenchScreen
from spark_tui.ui.bench.form import BenchForm




class FakeLaunch:
    """Records what the app asked for; the test posts the events."""

    def __init__(self, request: StreamRequest, sink) -> None:  # type: ignore[no-untyped-def]
        self.request = request
        self.sink = sink
        self.started = False
        self.cancelled = False
        self.stopped = False

    def start(self) -> None:
        self.started = True

    def cancel(self) -> None:
        self.cancelled = True

    def stop(self, timeout: float = 3.0) -> None:
        self.stopped = True

    @property
    def running(self) -> bool:
        return self.started and not self.stopped


def post(app, *events: object) -> None:  # type: ignore[no-untyped-def]
    for event in events:
        app.post_message(BenchEventArrived(app.bench._run, event))  # type: ignore[arg-type]


async def fill_form(pilot, app, **fields: str) -> BenchForm:  # type: ignore[no-untyped-def]
    """Open the benchmark screen (key b) and type into the form; adapter= picks the adapter."""
    await pilot.press("b")
    await wait_for(pilot, lambda: isinstance(app.screen, BenchScreen) and app.screen.query(BenchForm))
    form = app.screen.query_one(BenchForm)
    await pilot.pause()
    if "adapter" in fields:
        form.query_one("#form-adapter", Select).value = fields.pop("adapter")
        await pilot.pause()
    for name, value in fields.items():
        form.query_one(f"#form-{name}", Input).value = value
    await pilot.pause()
    return form


async def start_from_form(pilot, app, **fields: str) -> None:  # type: ignore[no-untyped-def]
    await fill_form(pilot, app, **fields)
    app.screen.query_one("#form-url", Input).focus()
    await pilot.press("enter")
    await wait_for(pilot, lambda: app.bench.live is not None)


# --- a canned run: 2 batch sizes × 2 concurrencies, the third cell under way with 429s ----------

PLAN = BenchPlan("embed", "tei", "http://127.0.0.1:8080", batch_sizes=(8, 32), concurrencies=(1, 4), duration_s=20.0, service="tei-embedder")
SPECS = PLAN.cells()


def summary(spec: CellSpec, rate: float, p50: float, p99: float, util: float, power: float) -> CellSummary:
    requests = int(rate / spec.batch * 20)
    return CellSummary(
        spec, "ok", requests=requests, ok=requests, elapsed_s=20.0, requests_per_s=rate / spec.batch, items_per_s=rate,
        tokens_per_s=rate * 180, latency=LatencyStats(requests, p50 * 1.04, p50, p99 * 0.9, p99 * 0.95, p99, p99 * 1.2, p50 * 0.8),
        machine=MachineStats(20, gpu_util_mean=util, gpu_util_max=util + 3, gpu_power_mean=power, gpu_power_max=power + 8,
                             mem_available_min=70 * 1024**3),
    )


def canned_run() -> list[object]:
    """Events of a run 47 s in: cells 1–2 done, cell 3 at 35% with a 429 burst."""
    server = ServerInfo("tei", "http://127.0.0.1:8080", True, health="ok", server="TEI 1.8.0", model="BAAI/bge-m3", max_batch=32,
                        dimension=1024, warmup_s=(1.84, 0.061))
    events: list[object] = [RunStarted("20260921-101500-embed-tei-3f2a", "/home/spark/.local/share/spark-tui/runs/20260921-101500-embed-tei-3f2a", server, SPECS)]
    t = 2.0
    rates = {0: (310.0, 0.0255, 0.0301, 38, 61), 1: (1180.0, 0.027, 0.041, 88, 121), 2: (620.0, 0.051, 0.062, 71, 104)}
    for index in (0, 1, 2):
        spec = SPECS[index]
        events.append(CellStarted(spec, len(SPECS)))
        seconds = 20 if index < 2 else 7
        rate, p50, p99, util, power = rates[index]
        for second in range(seconds):
            t += 1
            wobble = ((second * 37) % 11 - 5) / 100
            items = rate * (1 + wobble) if second else rate * 0.6
            errors = 3 if index == 2 and second in (4, 5) else 0
            events.append(RequestsDigest(index, t - 0.5, int(items / spec.batch), int(items / spec.batch) - errors, int(items) - errors * spec.batch,
                                         errors={"429": errors} if errors else {}, first_errors={"429": "HTTP 429 Too Many Requests from POST /embed: Model is overloaded — the server is overloaded"} if errors else {}))
            events.append(Tick(t, index, second + 1.0, (second + 1) / 20, (index + (second + 1) / 20) / len(SPECS), items / spec.batch, items,
                               items * 180, errors, 6 if index == 2 and second >= 5 else (3 if index == 2 and second == 4 else 0),
                               int(items / spec.batch * (second + 1)), p50 * (1 + wobble), p99 * (1 + wobble), None))
        if index < 2:
            events.append(CellFinished(summary(spec, rate, p50, p99, util, power)))
    events.append(Notice("info", "TEI caps batches at 32 items (max_client_batch_size)"))
    events.append(RequestsDigest(2, t + 0.2, 12, 12, 384))
    return events
