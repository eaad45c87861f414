"""Canned events of a generation run for the benchmark screens' tests (the events a `bench generate`
child process sends, with figures shaped by the loopback timing model: TTFT = A + queueing, ITL = I),
and a finished generation run written to disk as a run writes it."""

from __future__ import annotations

from pathlib import Path

from spark_tui.core.bench.plan import BenchPlan
from spark_tui.core.bench.results import RunStore
from spark_tui.models.bench import (
    CellFinished,
    CellSpec,
    CellStarted,
    CellSummary,
    GoodputStats,
    LatencyStats,
    MachineStats,
    Notice,
    RequestsDigest,
    RunStarted,
    ServerInfo,
    Tick,
)

GEN_PLAN = BenchPlan("generate", "openai-chat", "http://127.0.0.1:8000", batch_sizes=(1,), concurrencies=(1, 8),
                     lengths=((512, 128), (2048, 128)), duration_s=20.0, service="vllm", slo=(("ttft", 2.0), ("itl", 0.05)))
GEN_SPECS = GEN_PLAN.cells()
GEN_RUN_ID = "20260921-111500-generate-openai-chat-7c1d"
# per cell: (output tokens/s, TTFT p50 s, ITL p50 s, GPU %, GPU W)
GEN_RATES = {0: (71.0, 0.052, 0.0138, 62, 88), 1: (402.0, 0.118, 0.0193, 91, 131), 2: (68.0, 0.171, 0.0142, 70, 97)}


def stats(p50: float, spread: float = 1.6, count: int = 100) -> LatencyStats:
    return LatencyStats(count, p50 * 1.1, p50, p50 * (1 + (spread - 1) / 2), p50 * spread * 0.95, p50 * spread, p50 * spread * 1.2, p50 * 0.8)


def gen_summary(spec: CellSpec, rate: float, ttft: float, itl: float, util: float, power: float, speed: float = 1.0) -> CellSummary:
    rate *= speed
    output = spec.output_tokens or 1
    e2e = ttft + (output - 1) * itl
    requests = int(rate / output * 20)
    return CellSummary(
        spec, "ok", requests=requests, ok=requests, elapsed_s=20.0, requests_per_s=rate / output, items_per_s=rate,
        tokens_per_s=rate, latency=stats(e2e, 1.1, requests), machine=MachineStats(20, gpu_util_mean=util, gpu_power_mean=power),
        output_tokens_per_s=rate, output_tokens_per_s_per_user=1 / itl, input_tokens_per_s=rate / output * (spec.input_tokens or 0),
        ttft=stats(ttft / speed, 1.9, requests), itl=stats(itl / speed, 1.3, requests), tpot=stats(itl * 1.02 / speed, 1.3, requests),
        e2e=stats(e2e / speed, 1.1, requests), event_gap=stats(itl / speed, 1.5, requests), input_tokens_mean=spec.input_tokens,
        output_tokens_mean=output, tokens_source="usage", output_tokens_per_joule=rate / power,
        goodput=GoodputStats({"ttft": 2.0, "itl": 0.05}, requests - 1, (requests - 1) / requests, (requests - 1) / 20),
    )


def canned_gen_run() -> list[object]:
    """A generation run 47 s in: cells 1–2 done, cell 3 (in 2048, c=1) at 35 %."""
    server = ServerInfo("openai-chat", GEN_PLAN.url, True, health="ok", server="vLLM 0.10.2", model="Qwen/Qwen3-32B-FP8", warmup_s=(2.41, 1.03))
    events: list[object] = [
        Notice("info", "prompts calibrated on the server's counts: 512 tokens ≈ 389 words"),
        RunStarted(GEN_RUN_ID, f"/home/spark/.local/share/spark-tui/runs/{GEN_RUN_ID}", server, GEN_SPECS),
    ]
    t = 2.0
    for index in (0, 1, 2):
        spec = GEN_SPECS[index]
        events.append(CellStarted(spec, len(GEN_SPECS)))
        rate, ttft, itl, util, power = GEN_RATES[index]
        for second in range(20 if index < 2 else 7):
            t += 1
            wobble = ((second * 37) % 11 - 5) / 100
            tokens = rate * (1 + wobble) if second else rate * 0.4
            requests = max(1, int(tokens / 128))
            events.append(RequestsDigest(index, t - 0.5, requests, requests, int(tokens)))
            events.append(Tick(t, index, second + 1.0, (second + 1) / 20, (index + (second + 1) / 20) / len(GEN_SPECS), tokens / 128, tokens,
                               tokens, 0, 0, requests * (second + 1), ttft + 127 * itl, (ttft + 127 * itl) * 1.1, None,
                               ttft_p50_s=ttft * (1 + wobble), ttft_p99_s=ttft * 1.9, itl_p50_s=itl * (1 + wobble), itl_p99_s=itl * 1.3))
        if index < 2:
            events.append(CellFinished(gen_summary(spec, rate, ttft, itl, util, power)))
    events.append(RequestsDigest(2, t + 0.2, 1, 1, 128))
    return events


def saved_gen_run(runs: Path, run_id: str = GEN_RUN_ID, speed: float = 1.0, started: float = 1_760_000_000.0) -> Path:
    """A finished generation run of GEN_PLAN, written as a run writes it."""
    directory = runs / run_id
    directory.mkdir(parents=True)
    store = RunStore(directory, run_id)
    store._open_files()
    env = {"spark_tui": "0.1.0", "hostname": "spark-4a2c", "machine": "aarch64", "cpus": 20}
    store.start(GEN_PLAN.describe(), env, GEN_SPECS, started)
    store.set_server(ServerInfo("openai-chat", GEN_PLAN.url, True, health="ok", server="vLLM 0.10.2", model="Qwen/Qwen3-32B-FP8"))
    summaries = []
    t = 2.0
    rates = [*GEN_RATES.values(), (390.0, 0.34, 0.0201, 95, 138)]
    for spec, (rate, ttft, itl, util, power) in zip(GEN_SPECS, rates):
        for second in range(20):
            t += 1
            tokens = rate * speed * (1 + ((second * 37) % 11 - 5) / 100)
            store.add_second(t, spec, int(tokens / 128), int(tokens), int(tokens), 0, ttft * 1000, ttft * 1900, None)
        summaries.append(gen_summary(spec, rate, ttft, itl, util, power, speed))
    store.set_summaries(summaries)
    store.finish("completed", None, started + t)
    store.close()
    return directory
