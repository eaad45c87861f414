"""Events as JSON lines between the benchmark process and the dashboard."""

from __future__ import annotations

from typing import get_args

import pytest

from spark_tui.core.bench.events import (
    EventLineError,
    StreamRequest,
    decode_event,
    decode_request,
    digest,
    encode_event,
    encode_request,
)
from spark_tui.core.bench.plan import BenchPlan, plan_for_service
from spark_tui.models.bench import (
    CellFinished,
    CellSpec,
    CellStarted,
    CellSummary,
    LatencyStats,
    LiveEvent,
    MachineReading,
    Notice,
    RequestRecord,
    RequestsDigest,
    RequestsFinished,
    RunFinished,
    RunResult,
    RunStarted,
    ServerInfo,
    Tick,
    WarmupTick,
)

SPEC = CellSpec(0, "text", 8, 4, 20.0, None)
SUMMARY = CellSummary(SPEC, "degraded", "the server answered 429 (overloaded) 2 times", requests=10, ok=8, errors={"429": 2},
                      first_error="HTTP 429", elapsed_s=2.0, requests_per_s=4.0, items_per_s=32.0,
                      latency=LatencyStats(8, 0.01, 0.01, 0.02, 0.02, 0.03, 0.03, 0.005))
EVENTS = [
    RunStarted("r1", "/tmp/r1", ServerInfo("tei", "http://h:8080", True, max_batch=32, warmup_s=(0.1, 0.05), notes=("note",)), (SPEC,)),
    CellStarted(SPEC, 1),
    RequestsDigest(0, 1.5, 10, 8, 64, 1, {"429": 2}, {"429": "HTTP 429 from POST /embed"}),
    Tick(2.0, 0, 1.0, 0.1, 0.1, 4.0, 32.0, None, 2, 2, 10, 0.01, 0.03, MachineReading(1.0, gpu_power_w=120.0)),
    CellFinished(SUMMARY),
    Notice("warning", "memory is low"),
    WarmupTick(12.4, 120.0, 1, 2),
    RunFinished(RunResult("r1", "/tmp/r1", "completed", None, None, (SUMMARY,), 1.0, 3.0)),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_every_event_survives_a_line(event: object) -> None:
    line = encode_event(event)  # type: ignore[arg-type]
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode_event(line) == event


def test_every_kind_of_live_event_is_tried_above() -> None:
    assert {type(e) for e in EVENTS} == set(get_args(LiveEvent))


def test_requests_cross_as_a_digest() -> None:
    records = (
        RequestRecord(-1, 0.1, 0.1, True, 8, 200, warmup=True),
        RequestRecord(0, 1.2, 0.01, True, 8, 200),
        RequestRecord(0, 1.3, 0.01, False, 8, 413, "413", "batch size 8 > maximum allowed batch size 4"),
        RequestRecord(0, 1.4, 0.01, False, 8, 413, "413", "second message"),
        RequestRecord(0, 1.6, 0.01, False, 8, None, "timeout", "no answer within 5 s"),
    )
    decoded = decode_event(encode_event(RequestsFinished(0, records)))
    assert decoded == digest(RequestsFinished(0, records))
    assert decoded == RequestsDigest(0, 1.6, requests=4, ok=1, items=8, warmup=1, errors={"413": 2, "timeout": 1},
                                     first_errors={"413": "batch size 8 > maximum allowed batch size 4", "timeout": "no answer within 5 s"})


@pytest.mark.parametrize("line", [b"", b"not json", b'{"type": "Nope", "event": {}}', b'{"type": "Tick", "event": {"t": "x"}}'])
def test_a_bad_line_is_named(line: bytes) -> None:
    with pytest.raises(EventLineError):
        decode_event(line)


def test_the_request_keeps_the_whole_plan() -> None:
    plan = plan_for_service("nim", "http://127.0.0.1:8000", model="nv-embedqa")
    request = StreamRequest(plan, results_dir="/tmp/runs", demo=True, environment={"started_from": "test"})
    assert decode_request(encode_request(request)) == request
    assert decode_request(encode_request(request)).plan.options.extra_body == {"input_type": "passage"}
    with pytest.raises(EventLineError, match="cannot read the run request"):
        decode_request(b'{"plan": {"kind": "embed"}}')
    assert isinstance(decode_request(encode_request(StreamRequest(BenchPlan("embed", "openai", "http://h")))).plan, BenchPlan)


def test_warm_up_waits_read_as_the_user_sees_them() -> None:
    assert WarmupTick(12.4, 120.0, 1, 2).text() == "warming up: waiting for the first answer (model loading?) 12 s, giving up at 120 s"
    assert WarmupTick(3.0, 120.0, 2, 2).text() == "warming up: waiting for warm-up answer 2 of 2: 3 s, giving up at 120 s"
