"""Plans (validation, sweep order, defaults per service, masking) and guards."""

from __future__ import annotations

from dataclasses import replace

import pytest

from spark_tui.core.bench.adapters_base import AdapterOptions
from spark_tui.core.bench.guards import MemoryGuard, SweepGuard, give_up
from spark_tui.core.bench.plan import GIB, BenchPlan, PlanError, parse_int_list, plan_for_service, plan_from_settings
from spark_tui.models.settings import BenchConfig
from spark_tui.core.masking import MASK
from spark_tui.models.bench import CellSpec, CellSummary, MachineReading

PLAN = BenchPlan("embed", "openai", "http://127.0.0.1:8000", batch_sizes=(1, 8), concurrencies=(1, 4), duration_s=5)


def test_cells_sweep_concurrency_innermost() -> None:
    assert [(c.index, c.batch, c.concurrency, c.duration_s) for c in PLAN.cells()] == [(0, 1, 1, 5), (1, 1, 4, 5), (2, 8, 1, 5), (3, 8, 4, 5)]
    counted = replace(PLAN, requests=50).cells()[0]
    assert (counted.requests, counted.duration_s) == (50, None)
    assert PLAN.estimated_seconds() == 20


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"adapter": "nope"}, "unknown embed adapter 'nope': expected one of openai, tei, ollama, nvembed"),
        ({"adapter": "omniparser"}, "unknown embed adapter 'omniparser'"),
        ({"url": "http://"}, "no host name"),
        ({"batch_sizes": ()}, "give at least one batch size"),
        ({"batch_sizes": (0,)}, "batch size 0 is out of range"),
        ({"concurrencies": (4, 4)}, "concurrency values repeat: 4, 4"),
        ({"duration_s": None}, "needs a duration in seconds or a number of requests"),
        ({"requests": 0}, "at least 1"),
        ({"timeout_s": 0}, "request timeout"),
        ({"warmup_timeout_s": 0}, "warm-up timeout must be between 0 and 3600 seconds"),
        ({"max_error_rate": 2}, "fraction between 0 and 1"),
        ({"batch_sizes": tuple(range(1, 30)), "concurrencies": tuple(range(1, 30))}, "too many for one run"),
    ],
)
def test_invalid_plans_say_why_in_one_line(changes: dict[str, object], message: str) -> None:
    with pytest.raises(PlanError, match=message.replace("(", r"\(").replace(")", r"\)")) as exc:
        replace(PLAN, **changes).validate()  # type: ignore[arg-type]
    assert "\n" not in str(exc.value)


def test_parse_plans_check_payloads_and_fixed_batches() -> None:
    omni = BenchPlan("parse", "omniparser", "http://h:9989", batch_sizes=(1,), payloads=("4k",))
    omni.validate()
    assert omni.payload_variants == ("4k",)
    with pytest.raises(PlanError, match="omniparser cannot send 'pdf'"):
        replace(omni, payloads=("pdf",)).validate()
    assert BenchPlan("parse", "docling", "http://h:5001").payload_variants == ("pdf",)


def test_int_lists() -> None:
    assert parse_int_list(" 1, 8,32 ") == (1, 8, 32)
    with pytest.raises(PlanError, match="--batch: 'x' is not a whole number"):
        parse_int_list("1,x", "--batch")


def test_plan_for_service_uses_the_right_adapter_and_settings() -> None:
    settings = BenchConfig(batch_sizes=(2, 4), duration=7, memory_floor_gib=4)
    infinity = plan_for_service("infinity", "http://h:7997", settings, service="infinity-1")
    assert (infinity.adapter, infinity.options.path, infinity.batch_sizes, infinity.duration_s) == ("openai", "/embeddings", (2, 4), 7)
    assert infinity.memory_floor_bytes == 4 * GIB and infinity.service == "infinity-1"
    assert plan_for_service("nim", "http://h:8000").options.extra_body == {"input_type": "passage"}
    omni = plan_for_service("omniparser", "http://h:9989")
    assert (omni.kind, omni.batch_sizes, omni.concurrencies) == ("parse", (1,), (1, 2))
    assert plan_from_settings(BenchConfig(), "parse", "docling", "http://h").batch_sizes == (1,)
    with pytest.raises(PlanError, match="no benchmark for 'postgres' services"):
        plan_for_service("postgres", "http://h")


def test_saved_plan_masks_secrets() -> None:
    options = AdapterOptions(headers=(("Authorization", "Bearer abcdefghijkl"), ("X-Api-Key", "k123"), ("X-Trace", "1")),
                             extra_body={"api_key": "s3cret", "input_type": "query"})
    described = replace(PLAN, url="http://user:pw@h:1", options=options).describe()
    assert described["options"]["headers"] == {"Authorization": MASK, "X-Api-Key": MASK, "X-Trace": "1"}
    assert described["options"]["extra_body"] == {"api_key": MASK, "input_type": "query"}
    assert "pw" not in described["url"]


def test_memory_guard() -> None:
    guard = MemoryGuard(8 * GIB)
    assert guard.check(MachineReading(0, mem_available_bytes=9 * GIB)) is None
    assert guard.check(MachineReading(0)) is None
    reason = guard.check(MachineReading(0, mem_available_bytes=7 * GIB))
    assert reason and reason.startswith("available memory fell to 7.0 GiB, below the 8 GiB floor")
    assert MemoryGuard(0).check(MachineReading(0, mem_available_bytes=1)) is None


def cell(index: int, batch: int, concurrency: int, ok: int, errors: dict[str, int], status: str = "ok") -> CellSummary:
    return CellSummary(CellSpec(index, "text", batch, concurrency, 1.0, None), status, requests=ok + sum(errors.values()), ok=ok, errors=errors)  # type: ignore[arg-type]


def test_sweep_guard_skips_what_cannot_work() -> None:
    guard = SweepGuard(max_batch=32, max_error_rate=0.05)
    assert "over the server's limit of 32" in (guard.skip_reason(CellSpec(0, "text", 64, 1, 1, None)) or "")
    assert guard.after_cell(cell(0, 8, 1, 100, {})) is None
    assert guard.after_cell(cell(1, 8, 4, 90, {"429": 10}, "degraded")) is None
    assert "concurrency not raised further: at 4 the server answered 429" in (guard.skip_reason(CellSpec(2, "text", 8, 16, 1, None)) or "")
    assert guard.skip_reason(CellSpec(3, "text", 16, 16, 1, None)) is None
    guard.after_cell(cell(4, 16, 1, 0, {"413": 10}, "failed"))
    assert "refused batch 16 as too large (HTTP 413)" in (guard.skip_reason(CellSpec(5, "text", 24, 1, 1, None)) or "")
    assert guard.skip_reason(CellSpec(6, "other", 24, 1, 1, None)) is None


def test_dead_server_and_give_up() -> None:
    guard = SweepGuard()
    assert guard.after_cell(cell(0, 1, 1, 0, {"connection": 10}, "failed")) is None
    assert "stopped answering" in (guard.after_cell(cell(1, 2, 1, 0, {"timeout": 3}, "failed")) or "")
    assert not give_up(ok=1, errors=100, concurrency=1)
    assert not give_up(ok=0, errors=9, concurrency=1)
    assert give_up(ok=0, errors=10, concurrency=4) and not give_up(ok=0, errors=10, concurrency=8)


def cell_with(index: int, batch: int, errors: dict[str, int], first_error: str) -> CellSummary:
    return CellSummary(CellSpec(index, "text", batch, 1, 1.0, None), "failed", requests=sum(errors.values()), errors=errors, first_error=first_error)


def test_only_refusals_about_size_stop_larger_batches() -> None:
    guard = SweepGuard()
    guard.after_cell(cell_with(0, 1, {"422": 10}, "HTTP 422 from POST /embed: missing inputs — is the adapter right for this server?"))
    assert guard.skip_reason(CellSpec(1, "text", 8, 1, 1, None)) is None
    guard.after_cell(cell_with(1, 8, {"422": 10}, "HTTP 422 from POST /embed: batch size 8 > maximum allowed batch size 4 — batch too large for the server"))
    assert "refused batch 8 as too large (HTTP 422)" in (guard.skip_reason(CellSpec(2, "text", 16, 1, 1, None)) or "")
    assert guard.skip_reason(CellSpec(3, "text", 4, 1, 1, None)) is None


def test_warm_up_failures_that_end_the_run() -> None:
    from spark_tui.core.bench.adapters_base import RequestError
    from spark_tui.core.bench.runner import warmup_stop_reason

    assert "no answer within 120 s" in (warmup_stop_reason(RequestError("timeout", "no answer within 120 s"), 120) or "")
    assert warmup_stop_reason(RequestError("422", "HTTP 422: missing inputs — is the adapter right for this server?", 422), 120)
    assert warmup_stop_reason(RequestError("4xx", "HTTP 401 Unauthorized", 401), 120)
    for carry_on in (RequestError("413", "HTTP 413 — batch too large for the server", 413), RequestError("5xx", "HTTP 503", 503),
                     RequestError("429", "HTTP 429", 429), RequestError("bad_response", "dimension mismatch")):
        assert warmup_stop_reason(carry_on, 120) is None


def test_the_warm_up_timeout_defaults_to_two_minutes() -> None:
    plan = plan_from_settings(BenchConfig(), "embed", "ollama", "http://h:11434")
    assert plan.warmup_timeout_s == 120 and plan.describe()["warmup_timeout_s"] == 120
