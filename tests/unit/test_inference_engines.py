"""Each engine over loopback: detection, figures from its own page shapes, faults, and the figures'
accuracy against what the server really emitted."""

import asyncio
import dataclasses
import importlib
import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from servers.inference_servers import (
    PROMETHEUS_TEXT,
    LlamaCppEngine,
    MetricsServer,
    OllamaEngine,
    SglangEngine,
    TeiEngine,
    TgiEngine,
    TritonEngine,
    TrtllmEngine,
    VllmEngine,
    llamacpp_server,
    ollama_server,
    sglang_server,
    tei_server,
    tgi_server,
    triton_server,
    trtllm_server,
    vllm_server,
)
from spark_tui.core.inference import engines
from spark_tui.core.inference.scrape import (
    InferenceTarget,
    InferenceTracker,
    Scrape,
    figures_from,
    scrape,
    scrape_blocking,
)
from spark_tui.models.inference import ProblemKind

ISSUE_KEYS = {"name", "url", "engine", "model", "running", "waiting", "kv_cache_usage", "prompt_tokens_per_s",
              "generation_tokens_per_s", "ttft", "itl", "sources", "problem"}


@pytest.fixture
async def fetch():
    async with httpx.AsyncClient() as client:
        async def get(url: str) -> tuple[int, bytes]:
            response = await client.get(url)
            return response.status_code, response.content

        yield get


def blocking_fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def emitted(body: bytes, sample: str) -> float:
    """A sample's total on a page, read with the Prometheus parser directly (independent of ours)."""
    total = 0.0
    for family in text_string_to_metric_families(body.decode()):
        total += sum(s.value for s in family.samples if s.name == sample)
    return total


async def two_polls(tracker: InferenceTracker, fetch, between=None, pause: float = 0.2):
    await tracker.poll(fetch)
    if between is not None:
        between()
    await asyncio.sleep(pause)
    return await tracker.poll(fetch)


# -- vLLM ---------------------------------------------------------------------------------------


async def test_vllm_figures_and_sources(fetch):
    engine = VllmEngine()
    with vllm_server(engine) as server:
        tracker = InferenceTracker(InferenceTarget("vllm", server.url))

        def load():
            engine.set_load(running=4, waiting=2, kv_usage=0.375)
            engine.add_tokens(prompt=2000, generation=600)
            engine.prefix_cache(queries=1000, hits=250)
            engine.preempt()
            for ttft in (0.15, 0.2, 0.22, 0.3):
                engine.finish_request(ttft=ttft, itls=[0.02] * 9 + [0.06], e2e=1.4)

        figures = await two_polls(tracker, fetch, load)
    assert figures.engine == "vllm" and figures.model == "meta-llama/Llama-3.1-8B-Instruct"
    assert (figures.running, figures.waiting, figures.kv_cache_usage) == (4, 2, 0.375)
    assert figures.prompt_tokens_per_s * figures.window_s == pytest.approx(2000)
    assert figures.generation_tokens_per_s * figures.window_s == pytest.approx(600)
    assert figures.requests_per_s * figures.window_s == pytest.approx(4)
    assert figures.preemptions_per_s * figures.window_s == pytest.approx(1)
    assert figures.prefix_cache_hit_rate == pytest.approx(0.25)
    # TTFTs 0.15, 0.2, 0.22 fall in (0.1, 0.25], 0.3 in (0.25, 0.5]: p50 ranks 2 of 3 in the first.
    assert figures.ttft.p50 == pytest.approx(0.1 + 0.15 * 2 / 3)
    assert 0.25 < figures.ttft.p95 <= 0.5
    assert figures.ttft.mean == pytest.approx((0.15 + 0.2 + 0.22 + 0.3) / 4)
    assert figures.itl.count == 40 and figures.itl.p50 == pytest.approx(0.01 + 0.015 * 20 / 36)
    assert figures.sources["itl"] == "vLLM /metrics (vllm:inter_token_latency_seconds)"
    assert figures.sources["kv_cache_usage"] == "vLLM /metrics (vllm:kv_cache_usage_perc)"
    assert figures.problem is None
    out = figures.to_json()
    assert set(out) == ISSUE_KEYS and set(out["ttft"]) == {"p50", "p95"}
    json.dumps(figures.to_json(detail=True))


async def test_vllm_rates_match_what_the_server_emitted_under_load(fetch):
    """Counters advance from a thread while we poll. Every window's increase is exactly what the
    server emitted, and the rate is within a few percent of that increase over the server's own
    render times; the only error left is where inside each request the server read its counters."""
    engine = VllmEngine(engines=2)
    step_s, seconds = 0.005, 3.2
    stop = threading.Event()
    driven = {"prompt": 0, "generation": 0}

    def drive():
        deadline = time.monotonic() + seconds
        index = 0
        while time.monotonic() < deadline and not stop.is_set():
            engine.add_tokens(prompt=40, generation=7, engine=index % 2)
            driven["prompt"] += 40
            driven["generation"] += 7
            index += 1
            time.sleep(step_s)

    with vllm_server(engine) as server:
        await fetch(server.url + "/health")  # the connection is open before the first timed scrape
        tracker = InferenceTracker(InferenceTarget("vllm", server.url, engine="vllm"))
        await tracker.poll(fetch)
        scrapes = [tracker.last]
        worker = threading.Thread(target=drive)
        worker.start()
        windows = []
        try:
            while worker.is_alive():
                await asyncio.sleep(0.75)
                windows.append(await tracker.poll(fetch))
                scrapes.append(tracker.last)
        finally:
            stop.set()
            worker.join()
        windows.append(await tracker.poll(fetch))
        scrapes.append(tracker.last)
        renders = list(server.renders)

    assert len(windows) >= 4
    total = {"prompt": 0.0, "generation": 0.0}
    errors = []
    for index, figures in enumerate(windows):
        (t0, body0), (t1, body1) = renders[index], renders[index + 1]
        s0, s1 = scrapes[index], scrapes[index + 1]
        # The server's render times lie inside our requests: the timestamps are the right ones.
        assert s0.at <= t0 <= s0.at + s0.fetch_s and s1.at <= t1 <= s1.at + s1.fetch_s
        for kind in ("prompt", "generation"):
            sample = f"vllm:{kind}_tokens_total"
            increase = emitted(body1, sample) - emitted(body0, sample)
            rate = getattr(figures, f"{kind}_tokens_per_s")
            assert rate * figures.window_s == pytest.approx(increase)  # exactly what was emitted
            truth = increase / (t1 - t0)
            errors.append(abs(rate - truth) / truth if truth else 0.0)
            total[kind] += rate * figures.window_s
    assert total["prompt"] == pytest.approx(driven["prompt"])
    assert total["generation"] == pytest.approx(driven["generation"])
    errors.sort()
    assert errors[len(errors) // 2] < 0.03, errors  # the median window: within 3 %


async def test_vllm_restart_counts_from_zero_not_negative(fetch):
    engine = VllmEngine()
    with vllm_server(engine) as server:
        tracker = InferenceTracker(InferenceTarget("vllm", server.url))
        engine.add_tokens(prompt=50_000, generation=9_000)
        engine.finish_request(ttft=0.5, itls=[0.05], e2e=2.0)

        def restart_and_work():
            engine.restart()
            engine.add_tokens(prompt=300, generation=120)
            engine.finish_request(ttft=0.09, itls=[0.02, 0.02], e2e=0.4)

        figures = await two_polls(tracker, fetch, restart_and_work)
    assert figures.prompt_tokens_per_s * figures.window_s == pytest.approx(300)
    assert figures.generation_tokens_per_s * figures.window_s == pytest.approx(120)
    assert figures.ttft.count == 1 and figures.ttft.p50 < 0.1  # the new process' one request
    assert figures.itl.count == 2


async def test_vllm_restart_that_overtook_the_old_count_is_caught_by_created(fetch):
    engine = VllmEngine()
    with vllm_server(engine) as server:
        tracker = InferenceTracker(InferenceTarget("vllm", server.url))
        engine.add_tokens(prompt=100)
        await tracker.poll(fetch)
        time.sleep(0.01)  # a new _created stamp
        engine.restart()
        engine.add_tokens(prompt=700)
        figures = await tracker.poll(fetch)
    assert figures.prompt_tokens_per_s * figures.window_s == pytest.approx(700)  # not 700 - 100


async def test_histogram_without_new_observations_says_nothing(fetch):
    engine = VllmEngine()
    engine.finish_request(ttft=0.3, itls=[0.05] * 5, e2e=1.0)
    with vllm_server(engine) as server:
        tracker = InferenceTracker(InferenceTarget("vllm", server.url))
        figures = await two_polls(tracker, fetch, lambda: engine.add_tokens(generation=10))
    assert figures.ttft.p50 is None and figures.ttft.p95 is None and figures.ttft.count == 0
    assert figures.itl.p50 is None and figures.e2e.mean is None
    assert "ttft" in figures.sources  # exposed, just nothing new: unlike a server without it
    assert figures.generation_tokens_per_s > 0
    assert figures.to_json()["ttft"] == {"p50": None, "p95": None}


async def test_vllm_older_names_and_data_parallel_engines(fetch):
    engine = VllmEngine(engines=2, legacy=True)
    with vllm_server(engine) as server:
        tracker = InferenceTracker(InferenceTarget("vllm", server.url))

        def load():
            engine.set_load(running=3, waiting=0, kv_usage=0.2, engine=0)
            engine.set_load(running=5, waiting=1, kv_usage=0.7, engine=1)
            engine.finish_request(ttft=0.1, itls=[0.03] * 4, e2e=0.5, engine=1)

        figures = await two_polls(tracker, fetch, load)
    assert figures.running == 8 and figures.waiting == 1  # engines add up
    assert figures.kv_cache_usage == 0.7  # the fullest engine
    assert figures.sources["kv_cache_usage"] == "vLLM /metrics (vllm:gpu_cache_usage_perc)"
    assert figures.sources["itl"] == "vLLM /metrics (vllm:time_per_output_token_seconds)"
    assert figures.itl.count == 4


async def test_several_megabyte_page(fetch):
    engine = VllmEngine()
    with vllm_server(engine, fault="big", big_mb=4.0) as server:
        tracker = InferenceTracker(InferenceTarget("vllm", server.url))
        figures = await two_polls(tracker, fetch, lambda: engine.add_tokens(prompt=4000, generation=500))
        last = tracker.last
    assert last.body_bytes > 4_000_000
    assert figures.engine == "vllm"  # found although its families come after 4 MB of others
    assert "http_request_duration_highr_seconds" not in last.families  # only the families we read
    assert figures.prompt_tokens_per_s * figures.window_s == pytest.approx(4000)
    assert 0 < last.parse_cpu_s < 0.5


async def test_the_page_is_parsed_off_the_event_loop(fetch, monkeypatch):
    scrape_module = importlib.import_module("spark_tui.core.inference.scrape")
    threads = []
    original = scrape_module._read_page

    def recording(*args):
        threads.append(threading.get_ident())
        return original(*args)

    monkeypatch.setattr(scrape_module, "_read_page", recording)
    with vllm_server(VllmEngine()) as server:
        result = await scrape(InferenceTarget("vllm", server.url), fetch)
    assert result.ok and threads and threads[0] != threading.get_ident()


# -- SGLang -------------------------------------------------------------------------------------


async def test_sglang_ranks_count_once_and_tokenizer_counters_appear(fetch):
    engine = SglangEngine(tp=2, dp=2, all_schedulers=True)
    with sglang_server(engine) as server:
        tracker = InferenceTracker(InferenceTarget("sglang", server.url))

        def load():
            engine.set_load(running=6, queued=2, token_usage=0.45)
            engine.finish_request(prompt=1000, generation=200, cached=400, ttft=0.5, itl=0.025, e2e=5.5)
            engine.finish_request(prompt=500, generation=100, cached=100, ttft=0.7, itl=0.03, e2e=3.0,
                                  streaming=False)

        figures = await two_polls(tracker, fetch, load)
    assert figures.engine == "sglang" and figures.model == "Qwen/Qwen2.5-7B-Instruct"
    # 2 DP groups of 6 running each; the two TP ranks of a group report the same batch once.
    assert figures.running == 12 and figures.waiting == 4
    assert figures.kv_cache_usage == 0.45
    # The tokenizer counters did not exist at the first poll: all they hold came since.
    assert figures.prompt_tokens_per_s * figures.window_s == pytest.approx(1500)
    assert figures.generation_tokens_per_s * figures.window_s == pytest.approx(300)
    assert figures.prefix_cache_hit_rate == pytest.approx(500 / 1500)
    assert figures.ttft.count == 2 and 0.4 < figures.ttft.p50 <= 0.6
    assert figures.itl.count == 199 + 99
    assert figures.sources["running"] == "SGLang /metrics (sglang:num_running_reqs)"


async def test_sglang_without_enable_metrics_says_how_to_turn_them_on(fetch):
    with sglang_server(SglangEngine(), metrics=False) as server:
        tracker = InferenceTracker(InferenceTarget("sglang", server.url))
        figures = await tracker.poll(fetch)
        assert figures.problem_kind is ProblemKind.METRICS_OFF
        assert figures.engine == "sglang" and figures.hint == "start SGLang with --enable-metrics"
        assert figures.problem == ("SGLang metrics are off (/metrics answered HTTP 404): "
                                   "start SGLang with --enable-metrics")  # the headless JSON says how
        assert figures.running is None and figures.to_json()["problem"] == figures.problem
        named = await scrape(InferenceTarget("s", server.url, engine="sglang"), fetch)
        assert named.problem_kind is ProblemKind.METRICS_OFF
        assert server.requests[-1] == "/metrics"  # named: no probing of other paths


# -- llama.cpp ----------------------------------------------------------------------------------


async def test_llamacpp_rates_from_counters_despite_another_scraper(fetch):
    engine = LlamaCppEngine()
    with llamacpp_server(engine) as server:
        tracker = InferenceTracker(InferenceTarget("llama", server.url))

        def load():
            engine.set_load(processing=2, deferred=1)
            engine.generate(prompt=900, prompt_ms=300.0, predicted=250, predicted_ms=5000.0)
            blocking_fetch(server.url + "/metrics")  # a Prometheus scraping too: the *_seconds gauges reset

        figures = await two_polls(tracker, fetch, load)
    assert figures.engine == "llamacpp" and figures.model is None
    assert (figures.running, figures.waiting) == (2, 1)
    assert figures.prompt_tokens_per_s * figures.window_s == pytest.approx(900)
    assert figures.generation_tokens_per_s * figures.window_s == pytest.approx(250)
    assert figures.itl.mean == pytest.approx(5.0 / 250) and figures.itl.p50 is None
    assert figures.kv_cache_usage is None and "kv_cache_usage" not in figures.sources
    assert figures.ttft.empty and "ttft" not in figures.sources


async def test_llamacpp_six_digit_counters_cost_at_most_a_step(fetch):
    engine = LlamaCppEngine()
    engine.generate(prompt=0, prompt_ms=0, predicted=2_000_003, predicted_ms=1e6)
    with llamacpp_server(engine) as server:
        tracker = InferenceTracker(InferenceTarget("llama", server.url))
        figures = await two_polls(tracker, fetch, lambda: engine.generate(
            prompt=0, prompt_ms=0, predicted=5_000, predicted_ms=100_000.0))
    # 2.00000e+06 -> 2.00500e+06: printed with 6 digits, the increase is known to within 10 tokens.
    assert abs(figures.generation_tokens_per_s * figures.window_s - 5_000) <= 10


async def test_llamacpp_without_metrics_flag(fetch):
    with llamacpp_server(LlamaCppEngine(), metrics=False) as server:
        figures = await InferenceTracker(InferenceTarget("llama", server.url)).poll(fetch)
    assert figures.problem_kind is ProblemKind.METRICS_OFF and figures.engine == "llamacpp"
    assert figures.hint == "start llama-server with --metrics"
    assert "HTTP 501" in figures.problem


# -- TEI and TGI --------------------------------------------------------------------------------


async def test_tei_embedding_figures(fetch):
    engine = TeiEngine()
    engine.embed(inputs=[10], duration=0.01)
    with tei_server(engine) as server:
        tracker = InferenceTracker(InferenceTarget("tei", server.url))

        def load():
            engine.gauge("te_queue_size", 3)
            for _ in range(4):
                engine.embed(inputs=[100, 28], duration=0.02)

        figures = await two_polls(tracker, fetch, load)
    assert figures.engine == "tei" and figures.waiting == 3 and figures.running is None
    assert figures.prompt_tokens_per_s * figures.window_s == pytest.approx(4 * 128)
    assert figures.requests_per_s * figures.window_s == pytest.approx(4)
    assert figures.e2e.count == 4 and figures.e2e.mean == pytest.approx(0.02)
    assert figures.generation_tokens_per_s is None and "generation_tokens_per_s" not in figures.sources
    assert figures.problem_kind is ProblemKind.NOTE and "generates no tokens" in figures.problem
    assert figures.sources["prompt_tokens_per_s"].startswith("TEI /metrics (te_request_input_length_sum)")


async def test_fresh_tei_with_an_empty_page(fetch):
    with tei_server(TeiEngine()) as server:
        unknown = await scrape(InferenceTarget("tei", server.url), fetch)
        named = await InferenceTracker(InferenceTarget("tei", server.url, engine="tei")).poll(fetch)
    assert unknown.problem_kind is ProblemKind.ERROR and "empty page" in unknown.problem
    assert named.ok and named.problem_kind is ProblemKind.NOTE and "counted nothing yet" in named.problem


async def test_tgi_generation_from_histogram_sums_and_no_ttft(fetch):
    engine = TgiEngine()
    engine.set_load(batch=0, queue=0)
    with tgi_server(engine) as server:
        tracker = InferenceTracker(InferenceTarget("tgi", server.url))

        def load():
            engine.set_load(batch=5, queue=2)
            for _ in range(3):
                engine.generate(input_length=700, generated=150, duration=3.0)

        figures = await two_polls(tracker, fetch, load)
    assert figures.engine == "tgi" and (figures.running, figures.waiting) == (5, 2)
    assert figures.generation_tokens_per_s * figures.window_s == pytest.approx(450)
    assert figures.prompt_tokens_per_s * figures.window_s == pytest.approx(2100)
    assert figures.ttft.empty and "ttft" not in figures.sources
    assert figures.itl.count == 3 and figures.e2e.count == 3
    assert "prefill included" in figures.sources["itl"]


# -- Triton, TensorRT-LLM, NIM ------------------------------------------------------------------


async def test_triton_units_become_seconds(fetch):
    engine = TritonEngine()
    with triton_server(engine) as server:
        tracker = InferenceTracker(InferenceTarget("triton", server.url))

        def load():
            engine.set_load(scheduled=3, waiting=4, kv_used=3120)
            for first in (0.03, 0.04, 0.045):
                engine.infer(duration_s=1.5, first_response_s=first)

        figures = await two_polls(tracker, fetch, load)
    assert figures.engine == "triton"
    assert (figures.running, figures.waiting) == (3, 4)
    assert figures.kv_cache_usage == pytest.approx(3120 / 6239)
    assert 0.02 <= figures.ttft.p50 <= 0.05  # ms buckets read as seconds
    assert figures.e2e.mean == pytest.approx(1.5) and figures.e2e.p50 is None
    assert figures.requests_per_s * figures.window_s == pytest.approx(3)
    assert figures.prompt_tokens_per_s is None


async def test_trtllm_found_behind_its_json_metrics_page(fetch):
    engine = TrtllmEngine()
    with trtllm_server(engine) as server:
        tracker = InferenceTracker(InferenceTarget("trt", server.url))

        def load():
            engine.set_load(running=2, waiting=0, kv=0.3)
            engine.finish_request(prompt=800, generation=64, ttft=0.12, tpot=0.011, e2e=0.9)

        figures = await two_polls(tracker, fetch, load)
        requests = list(server.requests)
    assert figures.engine == "trtllm"
    assert figures.model is None  # trtllm-serve labels every series model_name="undefined"
    assert figures.generation_tokens_per_s * figures.window_s == pytest.approx(64)
    assert figures.kv_cache_usage == 0.3 and figures.ttft.count == 1
    assert requests[:2] == ["/metrics", "/prometheus/metrics"]
    assert requests[2:] == ["/prometheus/metrics"]  # found once, then read directly


async def test_trtllm_without_perf_metrics(fetch):
    with trtllm_server(TrtllmEngine(), metrics=False) as server:
        figures = await InferenceTracker(InferenceTarget("trt", server.url)).poll(fetch)
    assert figures.problem_kind is ProblemKind.METRICS_OFF and "return_perf_metrics" in figures.hint


def nim1_page() -> tuple[CollectorRegistry, Counter, Histogram]:
    registry = CollectorRegistry()
    labels = ["model_name"]
    Gauge("num_requests_running", "Running", labels, registry=registry).labels("meta/llama-3.1-8b-instruct").set(2)
    Gauge("num_requests_waiting", "Waiting", labels, registry=registry).labels("meta/llama-3.1-8b-instruct").set(1)
    Gauge("gpu_cache_usage_perc", "KV", labels, registry=registry).labels("meta/llama-3.1-8b-instruct").set(0.5)
    tokens = Counter("generation_tokens_total", "Generated", labels, registry=registry)
    ttft = Histogram("time_to_first_token_seconds", "TTFT", labels, buckets=[0.1, 0.5, 1.0], registry=registry)
    return registry, tokens, ttft


async def test_nim1_unprefixed_names_at_v1_metrics(fetch):
    registry, tokens, ttft = nim1_page()
    server = MetricsServer({"/v1/metrics": lambda: (200, PROMETHEUS_TEXT, generate_latest(registry))},
                           metrics_path="/v1/metrics")
    with server:
        tracker = InferenceTracker(InferenceTarget("nim", server.url, engine="nim"))

        def load():
            tokens.labels("meta/llama-3.1-8b-instruct").inc(333)
            ttft.labels("meta/llama-3.1-8b-instruct").observe(0.3)

        figures = await two_polls(tracker, fetch, load)
        detected = engines.detect(generate_latest(registry).decode())
    assert detected is engines.NIM
    assert figures.engine == "nim" and figures.model == "meta/llama-3.1-8b-instruct"
    assert (figures.running, figures.waiting, figures.kv_cache_usage) == (2, 1, 0.5)
    assert figures.generation_tokens_per_s * figures.window_s == pytest.approx(333)
    assert figures.sources["generation_tokens_per_s"] == "NIM /v1/metrics (generation_tokens_total)"
    assert 0.1 < figures.ttft.p50 <= 0.5


# -- Ollama -------------------------------------------------------------------------------------


def go_time(when: datetime) -> str:
    """Go's RFC 3339 with nanoseconds and the local offset, as encoding/json writes time.Time."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123" + when.strftime("%z")[:3] + ":" + when.strftime("%z")[3:]


async def test_ollama_loaded_models_and_the_plain_note(fetch):
    engine = OllamaEngine()
    local = timezone(timedelta(hours=-7))
    engine.load("llama3.1:8b", size=6_654_289_920, size_vram=6_654_289_920, context_length=8192,
                expires_at=go_time(datetime.now(local) + timedelta(seconds=300)))
    engine.load("nomic-embed-text:latest", size=700_000_000, size_vram=0, context_length=None,
                expires_at="2318-03-01T10:00:00.000000001Z", parameter_size="137M", quantization="F16")
    with ollama_server(engine) as server:
        tracker = InferenceTracker(InferenceTarget("ollama", server.url))
        first = await tracker.poll(fetch)
        second = await tracker.poll(fetch)
        requests = list(server.requests)
    assert requests == ["/metrics", "/api/ps", "/api/ps"]  # found by its 404, then asked directly
    for figures in (first, second):
        assert figures.engine == "ollama" and figures.ok
        assert figures.model == "llama3.1:8b, nomic-embed-text:latest"
        assert figures.prompt_tokens_per_s is None and figures.running is None
        assert figures.problem_kind is ProblemKind.NOTE
        assert figures.problem.startswith("Ollama exposes no token rates")
    llama, embed = second.loaded_models
    assert (llama.vram_bytes, llama.context_length, llama.quantization) == (6_654_289_920, 8192, "Q4_K_M")
    assert 290 < llama.expires_in_s <= 300
    assert embed.context_length is None and embed.vram_bytes == 0 and embed.expires_in_s > 1e9
    assert second.sources == {"model": "Ollama /api/ps", "loaded_models": "Ollama /api/ps"}
    assert set(second.to_json()) == ISSUE_KEYS
    assert second.to_json(detail=True)["loaded_models"][1]["parameter_size"] == "137M"


async def test_ollama_named_goes_straight_to_api_ps(fetch):
    with ollama_server(OllamaEngine()) as server:
        figures = await scrape(InferenceTarget("o", server.url, engine="ollama"), fetch)
        assert server.requests == ["/api/ps"]
    assert figures.ok and figures.ollama.models == ()


# -- faults -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fault", "says"), [("garbage", "not a metrics page"), ("html", "HTML")])
async def test_garbage_is_a_one_line_problem(fetch, fault, says):
    with vllm_server(VllmEngine(), fault=fault) as server:
        figures = await InferenceTracker(InferenceTarget("x", server.url)).poll(fetch)
    assert figures.problem_kind is ProblemKind.ERROR and says in figures.problem
    assert "\n" not in figures.problem and "\x1b" not in figures.problem
    assert figures.running is None and dict(figures.sources) == {}


async def test_garbage_with_the_engine_named(fetch):
    with vllm_server(VllmEngine(), fault="garbage") as server:
        figures = await InferenceTracker(InferenceTarget("x", server.url, engine="vllm")).poll(fetch)
    assert figures.problem_kind is ProblemKind.ERROR and "bad line" in figures.problem


async def test_hung_metrics_page_times_out_cleanly(fetch):
    with vllm_server(VllmEngine(), fault="hang") as server:
        started = time.monotonic()
        figures = await InferenceTracker(InferenceTarget("x", server.url, engine="vllm")).poll(fetch, timeout=0.3)
        took = time.monotonic() - started
    assert figures.problem == "no answer from /metrics in 0.3 s"
    assert took < 2.0


async def test_hung_page_with_the_callers_own_timeout():
    with vllm_server(VllmEngine(), fault="hang") as server:
        async with httpx.AsyncClient(timeout=0.3) as client:
            async def fetch(url):
                response = await client.get(url)
                return response.status_code, response.content

            result = await scrape(InferenceTarget("x", server.url), fetch)
    assert result.problem == "no answer from /metrics in time"


async def test_refused_connection(fetch):
    with vllm_server(VllmEngine()) as server:
        url = server.url
    figures = await InferenceTracker(InferenceTarget("x", url)).poll(fetch)
    assert figures.problem_kind is ProblemKind.ERROR
    assert figures.problem == "cannot connect: All connection attempts failed"  # httpx's words

    async def lean_fetch(_url):  # spark_tui's lean HTTP client raises the OS error itself
        raise ConnectionRefusedError(111, "Connection refused")

    assert (await scrape(InferenceTarget("x", url), lean_fetch)).problem == "connection refused"
    assert scrape_blocking(InferenceTarget("x", url), blocking_fetch).problem.startswith("cannot connect:")


async def test_a_metrics_page_of_something_else(fetch):
    body = b"# HELP go_goroutines Goroutines.\n# TYPE go_goroutines gauge\ngo_goroutines 7\n"
    server = MetricsServer({"/metrics": lambda: (200, PROMETHEUS_TEXT, body)})
    with server:
        figures = await InferenceTracker(InferenceTarget("x", server.url)).poll(fetch)
    assert figures.problem == "/metrics is a metrics page, but of no inference engine this knows"


async def test_nothing_at_all_on_404(fetch):
    with MetricsServer({}) as server:
        figures = await InferenceTracker(InferenceTarget("x", server.url)).poll(fetch)
        assert server.requests == ["/metrics", "/api/ps", "/get_model_info"]
    assert figures.problem == "/metrics answered HTTP 404" and figures.engine is None


# -- the pieces together ------------------------------------------------------------------------


def test_blocking_scrape_and_the_pure_pair_function():
    engine = VllmEngine()
    with vllm_server(engine) as server:
        target = InferenceTarget("vllm", server.url)
        first = scrape_blocking(target, blocking_fetch)
        engine.add_tokens(prompt=10, generation=5)
        time.sleep(0.05)
        second = scrape_blocking(target, blocking_fetch, engine_hint=first.engine)
    figures = figures_from(target, first, second)
    assert figures.generation_tokens_per_s * figures.window_s == pytest.approx(5)
    alone = figures_from(target, None, second)
    assert alone.generation_tokens_per_s is None and alone.running == 0 and alone.window_s is None
    assert "generation_tokens_per_s" in alone.sources


def test_scrapes_of_different_engines_are_not_paired():
    target = InferenceTarget("x", "http://127.0.0.1:1")
    failed = Scrape(at=1.0, wall=1.0, engine="vllm", problem="connection refused", problem_kind=ProblemKind.ERROR)
    figures = figures_from(target, failed, failed)
    assert figures.problem == "connection refused" and figures.engine == "vllm"


async def test_tracker_starts_over_when_another_engine_answers(fetch):
    vllm, llama = VllmEngine(), LlamaCppEngine()
    current = {"engine": vllm}
    server = MetricsServer({"/metrics": lambda: (200, PROMETHEUS_TEXT, current["engine"].render())})
    with server:
        tracker = InferenceTracker(InferenceTarget("x", server.url))
        vllm.add_tokens(prompt=10)
        await tracker.poll(fetch)
        current["engine"] = llama
        llama.generate(prompt=5, prompt_ms=1, predicted=1, predicted_ms=1)
        figures = await tracker.poll(fetch)
    assert figures.engine == "llamacpp"
    assert figures.prompt_tokens_per_s is None  # one llama.cpp scrape: no pair yet
    assert len(tracker.series) == 1


async def test_rates_over_a_longer_window_than_the_interval(fetch):
    engine = VllmEngine()
    with vllm_server(engine) as server:
        tracker = InferenceTracker(InferenceTarget("vllm", server.url), rate_window_s=0.25)
        await tracker.poll(fetch)
        scrapes = [tracker.last]
        for _ in range(5):
            engine.add_tokens(generation=100)
            await asyncio.sleep(0.1)
            figures = await tracker.poll(fetch)
            scrapes.append(tracker.last)
        renders = list(server.renders)
    window = tracker.series.window(0.25)
    baseline = next(index for index, s in enumerate(scrapes) if s is window[0])
    assert len(window) >= 3 and figures.window_s >= 0.25  # more than the last interval
    increase = emitted(renders[-1][1], "vllm:generation_tokens_total") - emitted(
        renders[baseline][1], "vllm:generation_tokens_total")
    assert figures.generation_tokens_per_s * figures.window_s == pytest.approx(increase)
    assert increase == 100 * (len(scrapes) - 1 - baseline)


def test_target_checks_its_engine_and_path():
    with pytest.raises(ValueError, match="unknown engine"):
        InferenceTarget("x", "http://h", engine="vllm2")
    with pytest.raises(ValueError, match="must start"):
        InferenceTarget("x", "http://h", metrics_path="metrics")


def test_url_credentials_are_masked_in_json():
    target = InferenceTarget("x", "http://user:secret@127.0.0.1:8000")
    failed = Scrape(at=1.0, wall=1.0, problem="connection refused", problem_kind=ProblemKind.ERROR)
    assert figures_from(target, None, failed).to_json()["url"] == "http://user:***@127.0.0.1:8000"


def test_model_names_pass_through_the_text_hook():
    scrape_module = importlib.import_module("spark_tui.core.inference.scrape")  # the package exports scrape()

    long_name = "m" * 500
    cut = scrape_module._text(long_name)
    assert len(cut) == 200 and "cut" in cut  # the sanitiser's own cut mark says how much went
    assert scrape_module._text("a\x1bb\u202ec") == "a\u241bb<U+202E>c"  # through core.untrusted.clean


async def test_server_text_reaches_figures_and_json_sanitised(fetch):
    hostile = "evil\x1b]0;pwned\x07\u202eledom"
    engine = VllmEngine(model=hostile)
    engine.add_tokens(prompt=10)
    with vllm_server(engine) as server:
        figures = await InferenceTracker(InferenceTarget("vllm", server.url)).poll(fetch)
    assert figures.model == "evil\u241b]0;pwned\u2407<U+202E>ledom"
    assert "\x1b" not in json.dumps(figures.to_json(), ensure_ascii=False)


async def test_a_failure_text_from_the_client_is_sanitised():
    async def failing(url: str) -> tuple[int, bytes]:
        raise RuntimeError("proxy said \x1b[2J\x1b[31mno\r\nmore")  # what an HTTP library may carry

    found = await scrape(InferenceTarget("x", "http://127.0.0.1:9", engine="vllm"), failing)
    assert found.problem == "RuntimeError: proxy said \u241b[2J\u241b[31mno\u23cemore"  # CRLF: one break


# -- a fresh server: a blank page, then its first requests ----------------------------------------


def test_a_blank_page_before_the_first_request_is_the_rates_baseline():
    engine = TgiEngine()  # fresh: the Rust exporter writes nothing until something is recorded
    with tgi_server(engine) as server:
        tracker = InferenceTracker(InferenceTarget("tgi", server.url))  # engine unknown: found from the page
        first = tracker.poll_blocking(blocking_fetch)
        engine.generate(input_length=700, generated=150, duration=3.0)
        engine.generate(input_length=300, generated=50, duration=1.0)
        figures = tracker.poll_blocking(blocking_fetch)
        emitted_page = server.renders[-1][1]
    assert first.problem_kind is ProblemKind.ERROR and "empty page" in first.problem
    assert figures.engine == "tgi" and figures.window_s > 0
    assert figures.generation_tokens_per_s * figures.window_s == pytest.approx(
        emitted(emitted_page, "tgi_request_generated_tokens_sum"))
    assert figures.requests_per_s * figures.window_s == pytest.approx(2)
    assert figures.e2e.count == 2


def test_a_blank_glitch_of_a_server_that_was_counting_is_no_baseline():
    engine = VllmEngine()
    engine.add_tokens(prompt=50_000)  # counted before the blank answer: its _created stamps are older
    blank = [True]
    routes = {"/metrics": lambda: (200, PROMETHEUS_TEXT, b"" if blank[0] else engine.render())}
    with MetricsServer(routes) as server:
        tracker = InferenceTracker(InferenceTarget("vllm", server.url))
        assert "empty page" in tracker.poll_blocking(blocking_fetch).problem
        blank[0] = False
        figures = tracker.poll_blocking(blocking_fetch)
    assert figures.engine == "vllm" and figures.prompt_tokens_per_s is None  # not 50,000 tokens "just now"


def test_every_engine_table_names_only_known_figures_and_kinds():
    figure_names = set(engines.GAUGE_FIGURES + engines.RATE_FIGURES + engines.LATENCY_FIGURES
                       + engines.RATIO_FIGURES)
    for spec in engines.ENGINES.values():
        assert set(spec.figures) <= figure_names, spec.key
        for name, figure in spec.figures.items():
            kinds = {"gauge": engines.GAUGE_FIGURES, "rate": engines.RATE_FIGURES,
                     "quantiles": engines.LATENCY_FIGURES, "mean": engines.LATENCY_FIGURES,
                     "ratio": engines.RATIO_FIGURES}
            assert name in kinds[figure.kind], (spec.key, name)
            if figure.kind in ("mean", "ratio"):
                assert len(figure.candidates) == len(figure.denominators)


def test_core_and_models_import_no_textual_or_rich():
    code = ("import sys, spark_tui.core.inference, spark_tui.models.inference\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_an_idle_server_reuses_its_figures_and_a_moved_counter_works_them_out_again(monkeypatch) -> None:
    """The pages of an idle server parse to the same families: figures over windows inside that
    still span are reused (the idle dashboard's cost), and the first moved counter is counted."""
    scrape_module = importlib.import_module("spark_tui.core.inference.scrape")

    engine = VllmEngine()
    engine.finish_request(ttft=0.05, itls=[0.02] * 4, e2e=0.2, prompt=10)
    clock = [1000.0]
    monkeypatch.setattr(scrape_module.time, "monotonic", lambda: clock[0])
    worked = []
    real = scrape_module.figures_from_window
    monkeypatch.setattr(scrape_module, "figures_from_window", lambda *a, **k: worked.append(1) or real(*a, **k))
    tracker = InferenceTracker(InferenceTarget("vllm", "http://127.0.0.1:1", engine="vllm", interval=1.0), latency_window_s=5.0)

    def poll() -> object:
        clock[0] += 1.0
        return tracker.poll_blocking(lambda url: (200, engine.render()))

    for _ in range(10):
        figures = poll()
    assert figures.generation_tokens_per_s == 0 and figures.ttft.p50 is None  # nothing in the window any more
    assert len(worked) < 10, "an idle page's figures are reused once the window is still"
    before = len(worked)
    engine.add_tokens(generation=50)
    moved = poll()
    assert len(worked) == before + 1 and moved.generation_tokens_per_s == pytest.approx(50.0)


def test_an_idle_servers_reused_figures_are_those_worked_out_afresh_as_the_window_grows(monkeypatch) -> None:
    """Inside a still span the figures do not depend on how many scrapes the windows hold: the
    reused ones equal a fresh figures_from_window over the same windows, scrape after scrape,
    while the 60 s latency window fills (the first minute of the dashboard)."""
    scrape_module = importlib.import_module("spark_tui.core.inference.scrape")
    engine = VllmEngine()
    engine.set_load(running=0, waiting=0, kv_usage=0.0)
    engine.finish_request(ttft=0.05, itls=[0.02] * 4, e2e=0.2, prompt=10)
    clock = [1000.0]
    monkeypatch.setattr(scrape_module.time, "monotonic", lambda: clock[0])
    tracker = InferenceTracker(InferenceTarget("vllm", "http://127.0.0.1:1", engine="vllm", interval=1.0))
    worked = []
    real = scrape_module.figures_from_window
    monkeypatch.setattr(scrape_module, "figures_from_window", lambda *a, **k: worked.append(1) or real(*a, **k))
    for step in range(30):
        clock[0] += 1.0
        figures = tracker.poll_blocking(lambda url: (200, engine.render()))
        fresh = real(tracker.target, tracker.series.window(tracker.rate_window_s),
                     tracker.series.window(tracker.latency_window_s))
        assert figures == dataclasses.replace(fresh, scraped_at=figures.scraped_at), step
    assert figures.generation_tokens_per_s == 0 and figures.window_s == pytest.approx(1.0)
    assert len(worked) <= 3, f"worked out {len(worked)} times in 30 idle scrapes"


def test_an_idle_page_is_read_on_the_loop_and_a_moved_one_in_a_thread(monkeypatch) -> None:
    """The span check answers an idle page where it arrives; only a page that moved pays the hop
    to a worker thread (two wake-ups) for its parse."""
    scrape_module = importlib.import_module("spark_tui.core.inference.scrape")
    engine = VllmEngine()
    engine.finish_request(ttft=0.05, itls=[0.02] * 4, e2e=0.2, prompt=10)
    hops = []
    real_to_thread = asyncio.to_thread

    async def counting(fn, *args, **kwargs):
        hops.append(1)
        return await real_to_thread(fn, *args, **kwargs)

    monkeypatch.setattr(scrape_module.asyncio, "to_thread", counting)
    target = InferenceTarget("vllm", "http://127.0.0.1:9/idle-hop-test", engine="vllm", interval=1.0)

    async def fetch(url: str) -> tuple[int, bytes]:
        return 200, engine.render()

    async def rounds() -> list[object]:
        found = [await scrape_module.scrape(target, fetch)]
        found += [await scrape_module.scrape(target, fetch) for _ in range(3)]
        engine.add_tokens(generation=5)
        found.append(await scrape_module.scrape(target, fetch))
        return found

    found = asyncio.run(rounds())
    assert len(hops) == 2  # the first page and the moved one
    assert all(s.ok for s in found)
    assert found[1].families == found[0].families and found[-1].families["vllm:generation_tokens"] != found[0].families["vllm:generation_tokens"]
