"""Generation benchmarks against loopback servers that stream as vLLM, llama.cpp and Ollama write
their streams (tests/servers/gen_servers.py), and against a real llama.cpp server when installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from servers.gen_servers import GenServer, GenServerProcess

from spark_tui.core.bench.plan import BenchPlan, PlanError
from spark_tui.core.bench.runner import run_benchmark
from spark_tui.core.bench.saved_runs import (
    compare_runs,
    iter_records,
    list_runs,
    load_run,
)
from spark_tui.models.bench import Notice, RunResult

CASES = [("vllm", "openai-chat"), ("vllm", "openai-completions"), ("llamacpp", "openai-chat"), ("llamacpp", "openai-completions"),
         ("llamacpp", "llamacpp"), ("ollama", "ollama")]


def plan(url: str, adapter: str, **changes: object) -> BenchPlan:
    fields: dict[str, object] = {"kind": "generate", "adapter": adapter, "url": url, "batch_sizes": (1,), "concurrencies": (1, 4),
                                 "lengths": ((60, 24),), "requests": 12, "duration_s": None, "warmup_requests": 1, "memory_floor_bytes": 0}
    fields.update(changes)
    return BenchPlan(**fields)  # type: ignore[arg-type]


def run(p: BenchPlan, tmp_path: Path) -> tuple[RunResult, list[object]]:
    events: list[object] = []
    result = run_benchmark(p, events.append, results_dir=str(tmp_path / "runs"))
    return result, events


@pytest.mark.parametrize(("shape", "adapter"), CASES)
def test_every_adapter_measures_its_wire_format(shape: str, adapter: str, tmp_path: Path) -> None:
    with GenServerProcess(shape, a_ms=30, i_ms=4, per_event=1) as server:
        result, events = run(plan(server.url, adapter), tmp_path)
    assert result.status == "completed", result.reason
    for cell in result.cells:
        assert cell.status == "ok", cell.reason
        assert cell.ok == 12 and cell.short_requests == 0
        assert cell.output_tokens_mean == 24
        assert cell.tokens_source == ("usage" if adapter.startswith("openai") else "native")
        assert not cell.tokens_estimated
        assert cell.ttft is not None and cell.itl is not None and cell.tpot is not None and cell.e2e is not None
        # the timing model bounds the figures: A = 30 ms, I = 4 ms (how close they come is
        # bench/gen_accuracy.py's business; here a busy machine may only make them later)
        assert 0.030 <= cell.ttft.p50 <= 0.090
        assert 0.0032 <= cell.itl.p50 <= 0.008
        assert cell.event_gap is not None and 0.0025 <= cell.event_gap.p50 <= 0.008
        expected = cell.spec.concurrency * 24 / (0.030 + 23 * 0.004)
        assert expected * 0.5 <= (cell.output_tokens_per_s or 0) <= expected * 1.02
        assert cell.items_per_s == cell.output_tokens_per_s  # items are output tokens
        assert cell.output_tokens_per_s_per_user is not None and 1 / 0.008 <= cell.output_tokens_per_s_per_user <= 1 / 0.0032
        # prompts were built to the asked length, by the server's own count
        assert cell.input_tokens_mean is not None and abs(cell.input_tokens_mean - 60) <= 3
    notices = [e.message for e in events if isinstance(e, Notice)]
    assert any("calibrated on the server's counts" in n for n in notices), notices
    records = [r for r in iter_records(result.run_dir) if not r.warmup]
    assert len(records) == 24 and all(r.gen is not None and r.gen.output_tokens == 24 for r in records)
    if adapter != "ollama":
        assert all((r.extra or {}).get("finish") in ("length", "limit") for r in records)
    if shape in ("llamacpp", "ollama"):  # the engine's own speed beside ours
        assert all("server_decode_tok_s" in (r.extra or {}) for r in records)


def test_tokens_come_from_usage_not_from_events(tmp_path: Path) -> None:
    """trtllm-serve and vLLM's stream interval: several tokens per event; the counts are the server's."""
    with GenServerProcess("vllm", a_ms=20, i_ms=2, per_event=4) as server:
        result, _ = run(plan(server.url, "openai-chat", lengths=((40, 33),), concurrencies=(2,)), tmp_path)
    cell = result.cells[0]
    assert cell.status == "ok" and cell.output_tokens_mean == 33
    records = [r for r in iter_records(result.run_dir) if not r.warmup]
    assert all(r.gen.events == 9 and r.gen.output_tokens == 33 for r in records)  # 1 + 8 events of 4
    assert cell.itl is not None and 0.0016 <= cell.itl.p50 <= 0.004  # (last - first) / 32 tokens: I = 2 ms
    assert cell.event_gap is not None and 0.006 <= cell.event_gap.p50 <= 0.016  # an event every 4 tokens: 8 ms


def test_without_usage_tokens_are_estimated_and_said_so(tmp_path: Path) -> None:
    with GenServer("vllm", a_ms=5, i_ms=1, usage=False) as server:
        result, events = run(plan(server.url, "openai-chat", concurrencies=(1,)), tmp_path)
    cell = result.cells[0]
    assert cell.status == "ok" and cell.tokens_estimated
    assert cell.tokens_source and cell.tokens_source.startswith("estimated: one token per streamed event")
    assert any(isinstance(e, Notice) and "estimated" in e.message for e in events)
    assert any("did not count prompt tokens" in e.message for e in events if isinstance(e, Notice))


def test_outputs_shorter_than_asked_are_reported(tmp_path: Path) -> None:
    """Ollama has no ignore_eos: a model that meets its EOS stops early, and the run says so."""
    with GenServer("ollama", a_ms=5, i_ms=1, eos_after=10) as server:
        result, events = run(plan(server.url, "ollama", concurrencies=(1,)), tmp_path)
    cell = result.cells[0]
    assert cell.status == "ok" and cell.short_requests == cell.ok == 12 and cell.output_tokens_mean == 10
    assert cell.extra_counts.get("finish") == {"stop": 12}
    assert any(isinstance(e, Notice) and "stopped before 24 tokens" in e.message for e in events)


def test_a_strict_server_gets_requests_without_ignore_eos(tmp_path: Path) -> None:
    with GenServer("vllm", a_ms=5, i_ms=1, strict=True) as server:
        result, events = run(plan(server.url, "openai-completions", concurrencies=(1,)), tmp_path)
        sent = server.bodies[-1]
    assert result.status == "completed", result.reason
    assert "ignore_eos" not in sent and sent["max_tokens"] == 24 and sent["stream_options"] == {"include_usage": True}
    assert any(isinstance(e, Notice) and "refused ignore_eos/min_tokens" in e.message for e in events)


def test_an_error_inside_the_stream_is_a_failed_request_with_the_servers_words(tmp_path: Path) -> None:
    with GenServer("llamacpp", a_ms=2, i_ms=1, fail_after=5) as server:
        result, _ = run(plan(server.url, "llamacpp", concurrencies=(1,), warmup_requests=0), tmp_path)
    cell = result.cells[0]
    assert cell.status == "failed" and cell.errors == {"bad_response": cell.requests}
    assert cell.first_error is not None and "slot failed" in cell.first_error


def test_prompts_never_share_a_prefix_unless_asked(tmp_path: Path) -> None:
    with GenServer("vllm", a_ms=1, i_ms=0.2) as server:
        run(plan(server.url, "openai-completions", concurrencies=(2,)), tmp_path)
        prompts = [b["prompt"] for b in server.bodies]
    assert len(set(prompts)) == len(prompts)
    assert len({p.split(".")[0] for p in prompts}) == len(prompts)  # they differ from the first sentence on
    with GenServer("vllm", a_ms=1, i_ms=0.2) as server:
        run(plan(server.url, "openai-completions", concurrencies=(2,), shared_prefix=True), tmp_path)
        prompts = [b["prompt"] for b in server.bodies[2:]]  # after the two calibration prompts
    assert len(set(prompts)) == len(prompts) and len({p[:200] for p in prompts}) == 1


def test_goodput_counts_requests_meeting_every_slo(tmp_path: Path) -> None:
    with GenServerProcess("vllm", a_ms=20, i_ms=2) as server:
        result, _ = run(plan(server.url, "openai-chat", concurrencies=(1,), slo=(("ttft", 0.5), ("itl", 0.05))), tmp_path)
        strict, _ = run(plan(server.url, "openai-chat", concurrencies=(1,), slo=(("ttft", 0.010),)), tmp_path)
    assert result.cells[0].goodput is not None and result.cells[0].goodput.share == 1.0
    assert strict.cells[0].goodput is not None and strict.cells[0].goodput.good == 0


def test_plan_checks() -> None:
    with pytest.raises(PlanError, match="token lengths"):
        plan("http://127.0.0.1:1", "openai-chat", lengths=((0, 5),)).validate()
    with pytest.raises(PlanError, match="unknown generate adapter"):
        plan("http://127.0.0.1:1", "openai").validate()
    with pytest.raises(PlanError, match="SLO"):
        plan("http://127.0.0.1:1", "ollama", slo=(("latency", 1.0),)).validate()
    cells = plan("http://127.0.0.1:1", "ollama", lengths=((128, 1), (128, 64))).cells()
    assert [(c.input_tokens, c.output_tokens, c.concurrency) for c in cells] == [(128, 1, 1), (128, 1, 4), (128, 64, 1), (128, 64, 4)]


def cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    return subprocess.run([sys.executable, "-m", "spark_tui", "bench", *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def test_cli_json_cells_runs_and_compare(tmp_path: Path) -> None:
    with GenServerProcess("vllm", a_ms=10, i_ms=1) as server:
        args = ("generate", "--url", server.url, "--adapter", "openai-chat", "--concurrency", "1,2", "--input-tokens", "50",
                "--output-tokens", "8,16", "--requests", "6", "--slo", "ttft=1s,itl=50ms")
        first = cli(*args, "--json", tmp_path=tmp_path)
        second = cli(*args, tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert len(result["cells"]) == 4
    for cell in result["cells"]:
        assert cell["output_tokens_per_s"] > 0 and cell["requests_per_s"] > 0
        for name in ("ttft", "itl", "tpot", "e2e"):
            assert set(cell[name]) >= {"p50", "p90", "p99", "mean"}
        assert cell["spec"]["output_tokens"] in (8, 16) and cell["goodput"]["share"] == 1.0
    assert second.returncode == 0, second.stderr
    assert "TTFT p50 ms" in second.stdout and "out tok/s" in second.stdout
    runs = list_runs(tmp_path / "data" / "spark-tui" / "runs")
    assert len(runs) == 2 and all(r.kind == "generate" and r.best_items_per_s for r in runs)
    rows = compare_runs(runs[1], runs[0])
    assert [(r.input_tokens, r.output_tokens, r.concurrency) for r in rows] == [(50, 8, 1), (50, 8, 2), (50, 16, 1), (50, 16, 2)]
    assert all(r.items_per_s_ratio is not None for r in rows)
    summary = (Path(result["run_dir"]) / "summary.csv").read_text().splitlines()
    assert "ttft_p50_ms" in summary[0] and len(summary) == 5
    listed = cli("runs", tmp_path=tmp_path)
    assert listed.returncode == 0 and "openai-chat" in listed.stdout
    compared = cli("compare", runs[1].run_id, runs[0].run_id, tmp_path=tmp_path)
    assert compared.returncode == 0, compared.stderr
    saved = load_run(result["run_dir"])
    assert saved.summaries[0].ttft is not None


def test_cli_preset_and_bad_input(tmp_path: Path) -> None:
    bad = cli("generate", "--url", "http://127.0.0.1:9", "--adapter", "openai-chat", "--slo", "ttft=fast", tmp_path=tmp_path)
    assert bad.returncode == 2 and "--slo" in bad.stderr
    clash = cli("generate", "--url", "http://127.0.0.1:9", "--adapter", "ollama", "--preset", "prefill-decode", "--input-tokens", "5", tmp_path=tmp_path)
    assert clash.returncode == 2 and "preset" in clash.stderr


from servers.llamacpp import llama_server_fixture

llama = llama_server_fixture(parallel=2, ctx=2048)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("adapter", ["openai-chat", "openai-completions", "llamacpp"])
def test_a_real_llama_cpp_server(adapter: str, llama: object, tmp_path: Path) -> None:
    result, _ = run(plan(llama.url, adapter, concurrencies=(1,), lengths=((48, 6),), requests=2, timeout_s=120), tmp_path)  # type: ignore[attr-defined]
    assert result.status == "completed", result.reason
    cell = result.cells[0]
    assert cell.status == "ok" and cell.output_tokens_mean == 6 and not cell.tokens_estimated
    assert cell.input_tokens_mean is not None and abs(cell.input_tokens_mean - 48) <= 6  # calibrated on its tokenizer
    assert cell.ttft is not None and cell.ttft.p50 > 0 and cell.itl is not None
    records = [r for r in iter_records(result.run_dir) if not r.warmup]
    assert all("server_decode_tok_s" in (r.extra or {}) for r in records)  # llama.cpp's own timings
