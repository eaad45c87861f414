"""The generation benchmark's pieces: SLO parsing, prompt calibration, SSE reading, per-cell figures."""

from __future__ import annotations

import pytest

from spark_tui.core.bench.adapters_base import RequestError
from spark_tui.core.bench.adapters_gen import Calibration, _plain_output, sse_data
from spark_tui.core.bench.plan import PRESETS, PlanError, parse_slo
from spark_tui.core.bench.stats import summarize_cell
from spark_tui.models.bench import CellSpec, GenFigures, MachineReading, RequestRecord


def test_slo_parsing() -> None:
    assert parse_slo("ttft=2s,itl=50ms") == (("ttft", 2.0), ("itl", 0.05))
    assert parse_slo("TPOT=0.1, e2e=1500ms") == (("tpot", 0.1), ("e2e", 1.5))
    for bad in ("ttft", "speed=2s", "ttft=fast", "itl=0ms", ""):
        with pytest.raises(PlanError):
            parse_slo(bad)


def test_prefill_decode_preset_is_llama_bench_shaped() -> None:
    lengths = PRESETS["prefill-decode"]
    assert [i for i, o in lengths if o == 1] == [512, 1024, 2048, 4096, 8192, 16384]
    assert all(o == 128 for _, o in lengths if o != 1)


def test_calibration_fits_the_servers_counts() -> None:
    cal = Calibration()
    assert cal.fit([(48, 48 * 1.25 + 12), (240, 240 * 1.25 + 12)])
    assert cal.per_word == pytest.approx(1.25) and cal.overhead == pytest.approx(12)
    assert cal.words_for(512) == round((512 - 12) / 1.25)
    assert not Calibration().fit([(48, 60)])  # one point says nothing of the slope
    assert not Calibration().fit([(48, 60), (240, 60)])  # a count that does not grow is not one


def test_sse_data_and_llama_cpp_error_field() -> None:
    assert sse_data(b'data: {"a":1}\n\n') == b'{"a":1}'
    assert sse_data(b": keep-alive\n\n") is None
    assert sse_data(b'event: message\ndata: {"a":\ndata: 1}\n\n') == b'{"a":\n1}'
    with pytest.raises(RequestError, match="slot failed"):
        sse_data(b'error: {"code":500,"message":"slot failed","type":"server_error"}\n\n')


def test_output_is_read_without_decoding_only_when_it_is_plain() -> None:
    assert _plain_output(b'{"choices":[{"index":0,"delta":{"content":" tok"},"logprobs":null,"finish_reason":null}]}') is True
    assert _plain_output(b'{"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}') is False
    assert _plain_output(b'{"choices":[{"index":0,"text":"x","finish_reason":null}]}') is True
    # anything that may carry usage, errors, an end or timings is decoded
    assert _plain_output(b'{"choices":[{"delta":{"content":"x"},"finish_reason":"length"}]}') is None
    assert _plain_output(b'{"choices":[],"usage":{"prompt_tokens":3}}') is None
    assert _plain_output(b'{"error":{"message":"x"}}') is None
    assert _plain_output(b'{"choices": [{"delta": {"content": "spaced"}}]}') is None  # not compact: decoded
    assert _plain_output(b'{"choices":[{"delta":{"content":"","reasoning_content":"hm"},"finish_reason":null}]}') is None


def record(ttft: float, itl: float | None, latency: float, output: int, *, short: bool = False, source: str = "usage") -> RequestRecord:
    gen = GenFigures(ttft_s=ttft, itl_s=itl, tpot_s=itl, input_tokens=100, output_tokens=output, asked_tokens=10, events=output,
                     tokens_source=source, short=short)
    return RequestRecord(0, 1.0, latency, True, output, 200, tokens=output, gen=gen)


def test_cell_figures_goodput_and_energy() -> None:
    spec = CellSpec(0, "prompt", 1, 2, 10.0, None, 100, 10)
    records = [record(0.1, 0.01, 0.19, 10), record(0.3, 0.01, 0.39, 10), record(0.1, 0.05, 0.55, 10), record(0.2, None, 0.2, 1, short=True)]
    readings = [MachineReading(0, gpu_power_w=50.0), MachineReading(1, gpu_power_w=70.0)]
    s = summarize_cell(spec, records, 2.0, readings=readings, slo={"ttft": 0.25, "itl": 0.02})
    assert s.output_tokens_per_s == pytest.approx(31 / 2.0)
    assert s.items_per_s == s.output_tokens_per_s
    assert s.input_tokens_per_s == pytest.approx(400 / 2.0)
    assert s.ttft is not None and s.ttft.p50 == pytest.approx(0.15)
    assert s.itl is not None and s.itl.count == 3  # the one-token answer has no ITL
    assert s.output_tokens_per_s_per_user == pytest.approx((100 + 100 + 20) / 3)
    assert s.e2e is not None and s.e2e.max == pytest.approx(0.55)
    assert s.short_requests == 1 and s.output_tokens_mean == pytest.approx(31 / 4)
    # goodput: met both SLOs: the first (0.1 s, 10 ms) and the 1-token one (no ITL to miss); not 0.3 s TTFT, not 50 ms ITL
    assert s.goodput is not None and s.goodput.good == 2 and s.goodput.share == 0.5 and s.goodput.requests_per_s == pytest.approx(1.0)
    assert s.output_tokens_per_joule == pytest.approx(31 / 2.0 / 60.0)
    mixed = summarize_cell(spec, [record(0.1, 0.01, 0.2, 10), record(0.1, 0.01, 0.2, 10, source="estimated: x")], 1.0)
    assert mixed.tokens_source is not None and "usage (1)" in mixed.tokens_source and "estimated: x (1)" in mixed.tokens_source


def test_embedding_cells_carry_no_generation_figures() -> None:
    spec = CellSpec(0, "text", 4, 1, 10.0, None)
    s = summarize_cell(spec, [RequestRecord(0, 1.0, 0.1, True, 4, 200, tokens=40)], 1.0)
    assert s.ttft is None and s.output_tokens_per_s is None and s.goodput is None and s.tokens_per_s == 40


def test_a_generation_plan_crosses_the_pipe_to_the_child_runner() -> None:
    from spark_tui.core.bench.events import (
        StreamRequest,
        decode_request,
        encode_request,
    )
    from spark_tui.core.bench.plan import generation_plan_for_service

    plan = generation_plan_for_service("vllm", "http://127.0.0.1:8000", model="m")
    from dataclasses import replace

    plan = replace(plan, lengths=((128, 1), (512, 64)), slo=(("ttft", 2.0),), shared_prefix=True)
    plan.validate()
    back = decode_request(encode_request(StreamRequest(plan))).plan
    assert back == plan and back.cells()[-1].label == "in=512 out=64 c=16"
    assert plan.describe()["lengths"] == [[128, 1], [512, 64]] and plan.describe()["slo"] == {"ttft": 2.0}
