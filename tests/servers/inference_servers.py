"""Loopback model servers whose metrics pages are written the way each engine writes its own.

Each engine is an emulator (state + `render()`, usable without HTTP, e.g. by the bench) served
by `MetricsServer` on 127.0.0.1 port 0 from a thread. Tests drive load through the emulators'
methods (tokens, requests, latencies), and every render of a metrics page is logged with its
time, so a test can compare a figure with what the server really emitted.

How each page is made (names, labels, buckets and value formats from each project's source):
- vLLM, SGLang, TensorRT-LLM: prometheus_client registries, as those servers use it.
- llama.cpp: its hand-written text, values printed as C++ `ostream << double` does (6 digits).
- TEI, TGI: the Rust `metrics-exporter-prometheus` layout: `# TYPE` lines, counters without
  `_total`, f64 values in Rust's Display form, a blank line after each family.
- Triton: prometheus-cpp's text, counters without `_total`, `model`/`version` labels.
- Ollama: /api/ps JSON (api/types.go ProcessModelResponse); /metrics is 404.

Faults (`MetricsServer.fault`): None, "hang" (the metrics path never answers until stop),
"garbage" (bytes that are not exposition), "html" (an error page with 200), "big" (the engine's
page after several MB of other families), "off" (the engine's metrics switched off).
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import GCCollector, PlatformCollector, ProcessCollector

HANG_LIMIT_S = 30.0  # a hung handler gives up after this even if nobody stops the server
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"

Route = Callable[[], tuple[int, str, bytes]]


# -- value formats ------------------------------------------------------------------------------


def cpp_double(value: float) -> str:
    """`std::ostream << double` with the default precision (6 significant digits, %g)."""
    return f"{value:g}"


def rust_f64(value: float) -> str:
    """Rust's `Display` for f64: the shortest round-trip digits, never an exponent."""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return format(Decimal(repr(value)), "f")


# -- engines written with prometheus_client -----------------------------------------------------


def build_1_2_5_buckets(max_value: int) -> list[int]:
    """vLLM's request-size buckets: 1, 2, 5, 10, 20, 50, … up to max_value."""
    out, exponent = [], 0
    while True:
        for mantissa in (1, 2, 5):
            value = mantissa * 10**exponent
            if value > max_value:
                return out
            out.append(value)
        exponent += 1


VLLM_TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
                     20.0, 40.0, 80.0, 160.0, 640.0, 2560.0]
VLLM_ITL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
                    40.0, 80.0]
VLLM_REQUEST_BUCKETS = [0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0,
                        240.0, 480.0, 960.0, 1920.0, 7680.0]


class VllmEngine:
    """vLLM v1's PrometheusStatLogger: labels model_name and engine (one per data-parallel core).

    `legacy=True`: an older vLLM (gpu_cache_usage_perc, time_per_output_token_seconds, no
    inter_token_latency_seconds); otherwise the current names, with the deprecated ones beside
    them as vLLM still writes both for a while.
    """

    def __init__(self, model: str = "meta-llama/Llama-3.1-8B-Instruct", engines: int = 1, *, legacy: bool = False,
                 max_model_len: int = 32768) -> None:
        self.model = model
        self.engines = [str(index) for index in range(engines)]
        self.legacy = legacy
        self.max_model_len = max_model_len
        self.lock = threading.Lock()
        self.restart()

    def restart(self) -> None:
        """A new process: a new registry, every counter back at 0, new `_created` stamps."""
        with self.lock:
            self.registry = registry = CollectorRegistry()
            ProcessCollector(registry=registry)
            PlatformCollector(registry=registry)
            GCCollector(registry=registry)
            labels = ["model_name", "engine"]

            def gauge(name: str, doc: str) -> Gauge:
                return Gauge(name, doc, labels, registry=registry)

            def counter(name: str, doc: str, extra: tuple[str, ...] = ()) -> Counter:
                return Counter(name, doc, labels + list(extra), registry=registry)

            def histogram(name: str, doc: str, buckets: list[float]) -> Histogram:
                return Histogram(name, doc, labels, buckets=buckets, registry=registry)

            self.running = gauge("vllm:num_requests_running", "Number of requests in model execution batches.")
            self.waiting = gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.")
            self.gpu_cache = gauge("vllm:gpu_cache_usage_perc", "GPU KV-cache usage. 1 means 100 percent usage.")
            self.kv_cache = None if self.legacy else gauge("vllm:kv_cache_usage_perc",
                                                           "KV-cache usage. 1 means 100 percent usage.")
            self.prefix_queries = counter("vllm:prefix_cache_queries", "Prefix cache queries.")
            self.prefix_hits = counter("vllm:prefix_cache_hits", "Prefix cache hits.")
            self.preemptions = counter("vllm:num_preemptions", "Cumulative number of preemption from the engine.")
            self.prompt_tokens = counter("vllm:prompt_tokens", "Number of prefill tokens processed.")
            self.generation_tokens = counter("vllm:generation_tokens", "Number of generation tokens processed.")
            self.success = counter("vllm:request_success", "Count of successfully processed requests.",
                                   ("finished_reason",))
            sizes = build_1_2_5_buckets(self.max_model_len)
            self.request_prompt = histogram("vllm:request_prompt_tokens", "Number of prefill tokens processed.", sizes)
            self.request_generation = histogram("vllm:request_generation_tokens",
                                                "Number of generation tokens processed.", sizes)
            self.iteration_tokens = histogram("vllm:iteration_tokens_total",
                                              "Histogram of number of tokens per engine_step.",
                                              [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384])
            self.max_tokens = histogram("vllm:request_params_max_tokens",
                                        "Histogram of the max_tokens request parameter.", sizes)
            self.params_n = histogram("vllm:request_params_n", "Histogram of the n request parameter.",
                                      [1, 2, 5, 10, 20])
            self.ttft = histogram("vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.",
                                  VLLM_TTFT_BUCKETS)
            self.tpot = histogram("vllm:time_per_output_token_seconds",
                                  "Histogram of time per output token in seconds.", VLLM_ITL_BUCKETS)
            self.itl = None if self.legacy else histogram("vllm:inter_token_latency_seconds",
                                                          "Histogram of inter-token latency in seconds.",
                                                          VLLM_ITL_BUCKETS)
            self.e2e = histogram("vllm:e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.",
                                 VLLM_REQUEST_BUCKETS)
            self.phases = [histogram(f"vllm:request_{phase}_time_seconds", f"Time spent in {phase}.",
                                     VLLM_REQUEST_BUCKETS) for phase in ("queue", "inference", "prefill", "decode")]
            info = Gauge("vllm:cache_config_info", "Information of the LLMEngine CacheConfig",
                         ["block_size", "cache_dtype", "enable_prefix_caching", "gpu_memory_utilization",
                          "num_gpu_blocks", "engine"], registry=registry)
            for engine in self.engines:
                info.labels("16", "auto", "True", "0.9", "12000", engine).set(1)
                # vLLM creates every labelled child up front (make_per_engine): all series exist at 0.
                for metric in (self.running, self.waiting, self.gpu_cache, self.kv_cache, self.prefix_queries,
                               self.prefix_hits, self.preemptions, self.prompt_tokens, self.generation_tokens,
                               self.request_prompt, self.request_generation, self.iteration_tokens,
                               self.max_tokens, self.params_n, self.ttft, self.tpot, self.itl, self.e2e,
                               *self.phases):
                    if metric is not None:
                        metric.labels(self.model, engine)
                for reason in ("stop", "length", "abort"):
                    self.success.labels(self.model, engine, reason)

    def set_load(self, running: float, waiting: float, kv_usage: float, engine: int = 0) -> None:
        with self.lock:
            labels = (self.model, self.engines[engine])
            self.running.labels(*labels).set(running)
            self.waiting.labels(*labels).set(waiting)
            self.gpu_cache.labels(*labels).set(kv_usage)
            if self.kv_cache is not None:
                self.kv_cache.labels(*labels).set(kv_usage)

    def add_tokens(self, prompt: int = 0, generation: int = 0, engine: int = 0) -> None:
        with self.lock:
            labels = (self.model, self.engines[engine])
            self.prompt_tokens.labels(*labels).inc(prompt)
            self.generation_tokens.labels(*labels).inc(generation)
            self.iteration_tokens.labels(*labels).observe(prompt + generation)

    def prefix_cache(self, queries: int, hits: int, engine: int = 0) -> None:
        with self.lock:
            labels = (self.model, self.engines[engine])
            self.prefix_queries.labels(*labels).inc(queries)
            self.prefix_hits.labels(*labels).inc(hits)

    def preempt(self, count: int = 1, engine: int = 0) -> None:
        with self.lock:
            self.preemptions.labels(self.model, self.engines[engine]).inc(count)

    def finish_request(self, *, ttft: float, itls: list[float], e2e: float, prompt: int = 0, engine: int = 0) -> None:
        """One request done: its TTFT, every inter-token gap, its e2e latency (as vLLM records them)."""
        with self.lock:
            labels = (self.model, self.engines[engine])
            self.ttft.labels(*labels).observe(ttft)
            for gap in itls:
                self.tpot.labels(*labels).observe(gap)
                if self.itl is not None:
                    self.itl.labels(*labels).observe(gap)
            self.e2e.labels(*labels).observe(e2e)
            self.success.labels(*labels, "stop").inc()
            self.request_prompt.labels(*labels).observe(prompt)
            self.request_generation.labels(*labels).observe(len(itls) + 1)

    def totals(self) -> dict[str, float]:
        """The counters as the server holds them now (for comparing figures with the truth)."""
        with self.lock:
            return {
                "prompt_tokens": sum(self.prompt_tokens.labels(self.model, e)._value.get() for e in self.engines),
                "generation_tokens": sum(self.generation_tokens.labels(self.model, e)._value.get()
                                         for e in self.engines),
            }

    def render(self) -> bytes:
        with self.lock:
            return generate_latest(self.registry)


SGLANG_TTFT_BUCKETS = [0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400]
SGLANG_ITL_BUCKETS = [0.002, 0.004, 0.006, 0.008, 0.010, 0.015, 0.020, 0.025, 0.030, 0.035, 0.040, 0.060, 0.080,
                      0.100, 0.200, 0.400, 0.600, 0.800, 1.000, 2.000, 4.000, 6.000, 8.000]
SGLANG_E2E_BUCKETS = [0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400, 600, 1200, 1800, 2400]


class SglangEngine:
    """SGLang with --enable-metrics: scheduler gauges per (tp_rank, pp_rank[, dp_rank]), tokenizer counters.

    `all_schedulers`: every TP rank reports its (identical) batch, as with
    --enable-metrics-for-all-schedulers; otherwise only rank 0 of each DP group does.
    """

    def __init__(self, model: str = "Qwen/Qwen2.5-7B-Instruct", *, tp: int = 1, dp: int = 1,
                 all_schedulers: bool = False) -> None:
        self.model = model
        self.tp, self.dp, self.all_schedulers = tp, dp, all_schedulers
        self.lock = threading.Lock()
        self.restart()

    def _rank_labels(self) -> list[dict[str, str]]:
        out = []
        for dp_rank in range(self.dp):
            for tp_rank in range(self.tp if self.all_schedulers else 1):
                labels = {"model_name": self.model, "engine_type": "unified", "tp_rank": str(tp_rank),
                          "pp_rank": "0"}
                if self.dp > 1:
                    labels["dp_rank"] = str(dp_rank)
                out.append(labels)
        return out

    def restart(self) -> None:
        with self.lock:
            self.registry = registry = CollectorRegistry()
            names = list(self._rank_labels()[0])
            self.running = Gauge("sglang:num_running_reqs", "The number of running requests.", names,
                                 registry=registry)
            self.queue = Gauge("sglang:num_queue_reqs", "The number of requests in the waiting queue.", names,
                               registry=registry)
            self.token_usage = Gauge("sglang:token_usage", "The token usage.", names, registry=registry)
            self.gen_throughput = Gauge("sglang:gen_throughput", "The generation throughput (token/s).", names,
                                        registry=registry)
            self.cache_hit_rate = Gauge("sglang:cache_hit_rate", "The prefix cache hit rate.", names,
                                        registry=registry)
            tokenizer = ["model_name", "is_streaming"]
            self.prompt_tokens = Counter("sglang:prompt_tokens_total", "Number of prefill tokens processed.",
                                         tokenizer, registry=registry)
            self.generation_tokens = Counter("sglang:generation_tokens_total",
                                             "Number of generation tokens processed.", tokenizer, registry=registry)
            self.cached_tokens = Counter("sglang:cached_tokens_total", "Number of cached prompt tokens.",
                                         tokenizer, registry=registry)
            self.requests = Counter("sglang:num_requests_total", "Number of requests processed.", tokenizer,
                                    registry=registry)
            self.ttft = Histogram("sglang:time_to_first_token_seconds", "Histogram of time to first token in seconds.",
                                  tokenizer, buckets=SGLANG_TTFT_BUCKETS, registry=registry)
            self.itl = Histogram("sglang:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.",
                                 tokenizer, buckets=SGLANG_ITL_BUCKETS, registry=registry)
            self.e2e = Histogram("sglang:e2e_request_latency_seconds",
                                 "Histogram of End-to-end request latency in seconds", tokenizer,
                                 buckets=SGLANG_E2E_BUCKETS, registry=registry)

    def set_load(self, running: float, queued: float, token_usage: float) -> None:
        """Every reporting scheduler of each DP group states the same (its group's) batch."""
        with self.lock:
            for labels in self._rank_labels():
                self.running.labels(**labels).set(running)
                self.queue.labels(**labels).set(queued)
                self.token_usage.labels(**labels).set(token_usage)

    def finish_request(self, *, prompt: int, generation: int, cached: int = 0, ttft: float,
                       itl: float, e2e: float, streaming: bool = True) -> None:
        """observe_one_finished_request + the TTFT and ITL observations (series appear on first use)."""
        with self.lock:
            labels = {"model_name": self.model, "is_streaming": str(streaming)}
            self.prompt_tokens.labels(**labels).inc(prompt)
            self.generation_tokens.labels(**labels).inc(generation)
            if cached > 0:
                self.cached_tokens.labels(**labels).inc(cached)
            self.requests.labels(**labels).inc()
            self.ttft.labels(**labels).observe(ttft)
            for _ in range(max(generation - 1, 0)):  # SGLang adds the gap once per new token
                self.itl.labels(**labels).observe(itl)
            self.e2e.labels(**labels).observe(e2e)

    def render(self) -> bytes:
        with self.lock:
            return generate_latest(self.registry)


TRTLLM_TTFT_BUCKETS = VLLM_TTFT_BUCKETS
TRTLLM_TPOT_BUCKETS = VLLM_ITL_BUCKETS


class TrtllmEngine:
    """trtllm-serve with return_perf_metrics: trtllm_* at /prometheus/metrics, labels set to "undefined"."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.registry = registry = CollectorRegistry()
        names = ["model_name", "engine_type"]
        self.labels = ("undefined", "undefined")
        self.running = Gauge("trtllm_num_requests_running", "Number of active requests", names, registry=registry)
        self.waiting = Gauge("trtllm_num_requests_waiting", "Number of queued requests", names, registry=registry)
        self.kv = Gauge("trtllm_kv_cache_utilization", "KV cache utilization", names, registry=registry)
        self.prompt_tokens = Counter("trtllm_prompt_tokens_total", "Cumulative number of prompt tokens processed.",
                                     names, registry=registry)
        self.generation_tokens = Counter("trtllm_generation_tokens_total",
                                         "Cumulative number of generation tokens produced.", names, registry=registry)
        self.success = Counter("trtllm_request_success_total", "Count of successfully processed requests.",
                               [*names, "finished_reason"], registry=registry)
        self.ttft = Histogram("trtllm_time_to_first_token_seconds", "Histogram of time to first token in seconds.",
                              names, buckets=TRTLLM_TTFT_BUCKETS, registry=registry)
        self.tpot = Histogram("trtllm_time_per_output_token_seconds", "Histogram of time per output token in seconds.",
                              names, buckets=TRTLLM_TPOT_BUCKETS, registry=registry)
        self.e2e = Histogram("trtllm_e2e_request_latency_seconds", "Histogram of end to end request latency.",
                             names, buckets=VLLM_REQUEST_BUCKETS, registry=registry)
        for metric in (self.running, self.waiting, self.kv, self.prompt_tokens, self.generation_tokens):
            metric.labels(*self.labels)

    def finish_request(self, *, prompt: int, generation: int, ttft: float, tpot: float, e2e: float) -> None:
        with self.lock:
            self.prompt_tokens.labels(*self.labels).inc(prompt)
            self.generation_tokens.labels(*self.labels).inc(generation)
            self.success.labels(*self.labels, "stop").inc()
            self.ttft.labels(*self.labels).observe(ttft)
            self.tpot.labels(*self.labels).observe(tpot)
            self.e2e.labels(*self.labels).observe(e2e)

    def set_load(self, running: float, waiting: float, kv: float) -> None:
        with self.lock:
            self.running.labels(*self.labels).set(running)
            self.waiting.labels(*self.labels).set(waiting)
            self.kv.labels(*self.labels).set(kv)

    def render(self) -> bytes:
        with self.lock:
            return generate_latest(self.registry)


# -- llama.cpp: its own text --------------------------------------------------------------------


class LlamaCppEngine:
    """llama-server --metrics: counters then gauges, each with # HELP and # TYPE, no labels.

    Times are kept in ms as the server does; `*_seconds_total` print (uint64)ms / 1e3. The
    `*_tokens_seconds` gauges are averages since the previous render, whoever asked for it.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.restart()

    def restart(self) -> None:
        with self.lock:
            self.prompt_tokens = 0
            self.prompt_ms = 0.0
            self.predicted = 0
            self.predicted_ms = 0.0
            self.decode_calls = 0
            self.busy_slots = 0
            self.processing = 0
            self.deferred = 0
            self._since_prompt = [0, 0.0]  # tokens, ms since the last render
            self._since_predicted = [0, 0.0]

    def generate(self, *, prompt: int, prompt_ms: float, predicted: int, predicted_ms: float,
                 busy_slots: int = 1) -> None:
        with self.lock:
            self.prompt_tokens += prompt
            self.prompt_ms += prompt_ms
            self.predicted += predicted
            self.predicted_ms += predicted_ms
            self.decode_calls += max(predicted, 1)
            self.busy_slots += busy_slots * max(predicted, 1)
            self._since_prompt[0] += prompt
            self._since_prompt[1] += prompt_ms
            self._since_predicted[0] += predicted
            self._since_predicted[1] += predicted_ms

    def set_load(self, processing: int, deferred: int) -> None:
        with self.lock:
            self.processing, self.deferred = processing, deferred

    def render(self) -> bytes:
        with self.lock:
            tokens, ms = self._since_prompt
            prompt_rate = 1e3 / ms * tokens if tokens and ms else 0.0
            tokens, ms = self._since_predicted
            predicted_rate = 1e3 / ms * tokens if tokens and ms else 0.0
            self._since_prompt, self._since_predicted = [0, 0.0], [0, 0.0]  # reset by every scrape
            items = [
                ("counter", "prompt_tokens_total", "Number of prompt tokens processed.", self.prompt_tokens),
                ("counter", "prompt_seconds_total", "Prompt process time", int(self.prompt_ms) / 1e3),
                ("counter", "tokens_predicted_total", "Number of generation tokens processed.", self.predicted),
                ("counter", "tokens_predicted_seconds_total", "Predict process time", int(self.predicted_ms) / 1e3),
                ("counter", "n_decode_total", "Total number of llama_decode() calls", self.decode_calls),
                ("counter", "n_busy_slots_per_decode", "Average number of busy slots per llama_decode() call",
                 self.busy_slots / max(self.decode_calls, 1)),
                ("gauge", "prompt_tokens_seconds", "Average prompt throughput in tokens/s.", prompt_rate),
                ("gauge", "predicted_tokens_seconds", "Average generation throughput in tokens/s.", predicted_rate),
                ("gauge", "requests_processing", "Number of requests processing.", self.processing),
                ("gauge", "requests_deferred", "Number of requests deferred.", self.deferred),
            ]
        lines = []
        for kind, name, help_text, value in items:
            lines += [f"# HELP llamacpp:{name} {help_text}", f"# TYPE llamacpp:{name} {kind}",
                      f"llamacpp:{name} {cpp_double(float(value))}"]
        return ("\n".join(lines) + "\n").encode()


LLAMACPP_OFF_BODY = json.dumps({"error": {
    "code": 501, "message": "This server does not support metrics endpoint. Start it with `--metrics`",
    "type": "not_supported_error"}}).encode()


# -- TEI and TGI: the Rust metrics-exporter-prometheus layout -----------------------------------


def _geometric(start: float, factor: float, count: int) -> list[float]:
    out, value = [], start
    for _ in range(count):
        value *= factor
        out.append(value)
    return out


class RustHistogram:
    def __init__(self, bounds: list[float]) -> None:
        self.bounds = bounds
        self.counts = [0] * len(bounds)
        self.sum = 0.0
        self.count = 0

    def record(self, value: float) -> None:
        for index, bound in enumerate(self.bounds):
            if value <= bound:
                self.counts[index] += 1
        self.sum += value
        self.count += 1


class RustExporterEngine:
    """Counters, gauges and histograms rendered as metrics-exporter-prometheus writes them."""

    def __init__(self, describe: dict[str, str] | None = None) -> None:
        self.lock = threading.Lock()
        self.describe = describe or {}  # metrics::describe_* text, when the server sets it
        self.counters: dict[str, dict[tuple[tuple[str, str], ...], int]] = {}
        self.gauges: dict[str, float] = {}
        self.histograms: dict[str, RustHistogram] = {}

    def count(self, name: str, amount: int = 1, **labels: str) -> None:
        with self.lock:
            series = self.counters.setdefault(name, {})
            key = tuple(labels.items())
            series[key] = series.get(key, 0) + amount

    def gauge(self, name: str, value: float) -> None:
        with self.lock:
            self.gauges[name] = value

    def record(self, name: str, value: float, bounds: list[float]) -> None:
        with self.lock:
            self.histograms.setdefault(name, RustHistogram(bounds)).record(value)

    def render(self) -> bytes:
        out: list[str] = []
        with self.lock:
            def head(name: str, kind: str) -> None:
                if name in self.describe:
                    out.append(f"# HELP {name} {self.describe[name]}")
                out.append(f"# TYPE {name} {kind}")

            for name, series in self.counters.items():
                head(name, "counter")
                for labels, value in series.items():
                    text = ",".join(f'{key}="{val}"' for key, val in labels)
                    out.append(f"{name}{{{text}}} {value}" if text else f"{name} {value}")
                out.append("")
            for name, value in self.gauges.items():
                head(name, "gauge")
                out += [f"{name} {rust_f64(value)}", ""]
            for name, histogram in self.histograms.items():
                head(name, "histogram")
                for bound, count in zip(histogram.bounds, histogram.counts, strict=True):
                    out.append(f'{name}_bucket{{le="{rust_f64(bound)}"}} {count}')
                out += [f'{name}_bucket{{le="+Inf"}} {histogram.count}', f"{name}_sum {rust_f64(histogram.sum)}",
                        f"{name}_count {histogram.count}", ""]
        return ("\n".join(out) + "\n").encode()


TEI_DURATION_BUCKETS = _geometric(0.00001, 1.5, 35)  # router/src/prometheus.rs
TEI_INPUT_BUCKETS = [2.0**x for x in range(20) if 2.0**x <= 512]
TEI_BATCH_BUCKETS = [2.0**x for x in range(13)]


class TeiEngine(RustExporterEngine):
    """Text Embeddings Inference: te_* on the main port's /metrics (no HELP lines: nothing described)."""

    def embed(self, *, inputs: list[int], duration: float, queue: float = 0.001, method: str = "batch") -> None:
        self.count("te_request_count", method=method)
        for length in inputs:
            self.record("te_request_input_length", length, TEI_INPUT_BUCKETS)
        self.record("te_batch_next_size", len(inputs), TEI_BATCH_BUCKETS)
        self.record("te_request_duration", duration, TEI_DURATION_BUCKETS)
        self.record("te_request_queue_duration", queue, TEI_DURATION_BUCKETS)
        self.record("te_request_inference_duration", duration - queue, TEI_DURATION_BUCKETS)
        self.count("te_request_success", method=method)

    def fail(self, err: str = "validation") -> None:
        self.count("te_request_failure", err=err)


TGI_DURATION_BUCKETS = _geometric(0.0001, 1.5, 35)
TGI_TOKEN_BUCKETS = [2.0**x for x in range(16)]


class TgiEngine(RustExporterEngine):
    """Text Generation Inference's router metrics (described, so with HELP lines)."""

    def __init__(self) -> None:
        super().__init__({
            "tgi_request_count": "Total number of requests", "tgi_request_success": "Number of successful requests",
            "tgi_queue_size": "Current queue size", "tgi_batch_current_size": "Current batch size",
        })

    def generate(self, *, input_length: int, generated: int, duration: float, queue: float = 0.01) -> None:
        self.count("tgi_request_count")
        self.record("tgi_request_input_length", input_length, TGI_TOKEN_BUCKETS)
        self.record("tgi_request_queue_duration", queue, TGI_DURATION_BUCKETS)
        self.record("tgi_request_inference_duration", duration - queue, TGI_DURATION_BUCKETS)
        self.record("tgi_request_mean_time_per_token_duration", (duration - queue) / max(generated, 1),
                    TGI_DURATION_BUCKETS)
        self.record("tgi_request_generated_tokens", generated, TGI_TOKEN_BUCKETS)
        self.record("tgi_request_duration", duration, TGI_DURATION_BUCKETS)
        self.count("tgi_request_success")

    def set_load(self, batch: int, queue: int) -> None:
        self.gauge("tgi_batch_current_size", batch)
        self.gauge("tgi_queue_size", queue)


# -- Triton: prometheus-cpp's text --------------------------------------------------------------


class TritonEngine:
    """Triton's per-model metrics (model/version labels), optionally the TTFT histogram and TRT-LLM gauges."""

    FIRST_RESPONSE_BUCKETS = [1, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]

    def __init__(self, model: str = "ensemble", *, histograms: bool = True, trtllm: bool = True) -> None:
        self.lock = threading.Lock()
        self.model, self.histograms, self.trtllm = model, histograms, trtllm
        self.success = 0
        self.failure = 0
        self.duration_us = 0
        self.pending = 0
        self.first_response = RustHistogram(self.FIRST_RESPONSE_BUCKETS)
        self.trt = {"scheduled": 0, "active": 0, "waiting": 0, "max": 64, "context": 0}
        self.kv = {"max": 6239, "free": 6239, "used": 0, "tokens_per": 64}

    def infer(self, *, duration_s: float, first_response_s: float) -> None:
        with self.lock:
            self.success += 1
            self.duration_us += int(duration_s * 1e6)
            self.first_response.record(first_response_s * 1e3)

    def set_load(self, *, scheduled: int, waiting: int, kv_used: int) -> None:
        with self.lock:
            self.pending = waiting
            self.trt.update(scheduled=scheduled, active=scheduled + waiting, waiting=waiting)
            self.kv.update(used=kv_used, free=self.kv["max"] - kv_used)

    def render(self) -> bytes:
        labels = f'model="{self.model}",version="1"'
        with self.lock:
            out = [
                "# HELP nv_inference_request_success Number of successful inference requests, all batch sizes",
                "# TYPE nv_inference_request_success counter",
                f"nv_inference_request_success{{{labels}}} {self.success}",
                "# HELP nv_inference_request_failure Number of failed inference requests, all batch sizes",
                "# TYPE nv_inference_request_failure counter",
                f"nv_inference_request_failure{{{labels}}} {self.failure}",
                "# HELP nv_inference_request_duration_us Cumulative inference request duration in microseconds",
                "# TYPE nv_inference_request_duration_us counter",
                f"nv_inference_request_duration_us{{{labels}}} {self.duration_us}",
                "# HELP nv_inference_pending_request_count Instantaneous number of pending requests",
                "# TYPE nv_inference_pending_request_count gauge",
                f"nv_inference_pending_request_count{{{labels}}} {self.pending}",
            ]
            if self.histograms:
                out += ["# HELP nv_inference_first_response_histogram_ms Duration from request to first response",
                        "# TYPE nv_inference_first_response_histogram_ms histogram"]
                histogram = self.first_response
                for bound, count in zip(histogram.bounds, histogram.counts, strict=True):
                    out.append(f'nv_inference_first_response_histogram_ms_bucket{{{labels},le="{bound}"}} {count}')
                out += [f'nv_inference_first_response_histogram_ms_bucket{{{labels},le="+Inf"}} {histogram.count}',
                        f"nv_inference_first_response_histogram_ms_sum{{{labels}}} {histogram.sum:g}",
                        f"nv_inference_first_response_histogram_ms_count{{{labels}}} {histogram.count}"]
            if self.trtllm:
                trt_labels = 'model="tensorrt_llm",version="1"'
                out += ["# HELP nv_trt_llm_request_metrics TRT LLM request metrics",
                        "# TYPE nv_trt_llm_request_metrics gauge"]
                out += [f'nv_trt_llm_request_metrics{{{trt_labels},request_type="{kind}"}} {value}'
                        for kind, value in self.trt.items()]
                out += ["# HELP nv_trt_llm_kv_cache_block_metrics TRT LLM KV cache block metrics",
                        "# TYPE nv_trt_llm_kv_cache_block_metrics gauge"]
                out += [f'nv_trt_llm_kv_cache_block_metrics{{kv_cache_block_type="{kind}",{trt_labels}}} {value}'
                        for kind, value in self.kv.items()]
        return ("\n".join(out) + "\n").encode()


# -- Ollama -------------------------------------------------------------------------------------


class OllamaEngine:
    """/api/ps as Go's encoding/json writes ProcessResponse (RFC 3339 times with the local offset)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.models: list[dict[str, Any]] = []

    def load(self, name: str, *, size: int, size_vram: int, context_length: int | None, expires_at: str,
             parameter_size: str = "8.0B", quantization: str = "Q4_K_M") -> None:
        entry: dict[str, Any] = {
            "name": name, "model": name, "size": size,
            "digest": "sha256:" + "0" * 64,
            "details": {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
                        "parameter_size": parameter_size, "quantization_level": quantization},
            "expires_at": expires_at, "size_vram": size_vram,
        }
        if context_length is not None:  # older builds have no such field
            entry["context_length"] = context_length
        with self.lock:
            self.models.append(entry)

    def render_ps(self) -> bytes:
        with self.lock:
            return json.dumps({"models": self.models}).encode()


# -- filler, for pages of several MB ------------------------------------------------------------


def filler_families(megabytes: float, seed: int = 7) -> bytes:
    """Other families a busy server exposes (per-handler HTTP histograms), `megabytes` of them.

    Made with prometheus_client like prometheus-fastapi-instrumentator's, which vLLM mounts.
    """
    registry = CollectorRegistry()
    buckets = [0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 7.5,
               10.0, 30.0, 60.0]
    highr = Histogram("http_request_duration_highr_seconds", "Latency with many buckets but no API specific labels.",
                      ["handler", "method", "status"], buckets=buckets, registry=registry)
    total = Counter("http_requests_total", "Total number of requests by method, status and handler.",
                    ["handler", "method", "status"], registry=registry)
    rng = random.Random(seed)
    target = int(megabytes * 1_000_000)
    index = 0
    text = b""
    while len(text) < target:
        for _ in range(200):
            handler = f"/v1/adapters/lora-{index:06d}/chat/completions"
            highr.labels(handler, "POST", "2xx").observe(rng.random() * 3)
            total.labels(handler, "POST", "2xx").inc(rng.randint(1, 100))
            index += 1
        text = generate_latest(registry)
    return text


# -- the HTTP side ------------------------------------------------------------------------------


class MetricsServer:
    """Serves `routes` (path -> callable giving status, content type, body) on 127.0.0.1.

    `metrics_path`'s answers are logged in `renders` as (monotonic time, body) so tests can read
    what the server emitted and when. `fault` changes how the metrics path answers.
    """

    def __init__(self, routes: dict[str, Route], *, metrics_path: str = "/metrics",
                 fault: str | None = None, big_mb: float = 4.0) -> None:
        self.routes = dict(routes)
        self.metrics_path = metrics_path
        self.fault = fault
        self.renders: list[tuple[float, bytes]] = []
        self.requests: list[str] = []
        self.stopping = threading.Event()
        self._filler = filler_families(big_mb) if fault == "big" else b""
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="inference-metrics",
                                        daemon=True)  # a short poll: stop() returns at once

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> MetricsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> MetricsServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def answer(self, path: str) -> tuple[int, str, bytes] | None:
        """None: hang."""
        with self._lock:
            self.requests.append(path)
        if path == self.metrics_path:
            if self.fault == "hang":
                return None
            if self.fault == "garbage":
                return 200, PROMETHEUS_TEXT, b"\x00\x1b[31mvllm:num_requests_running{ 3 oops\n\xff\xfe"
            if self.fault == "html":
                return 200, "text/html", b"<html><body><h1>502 Bad Gateway</h1></body></html>"
        route = self.routes.get(path)
        if route is None:
            return 404, "application/json", b'{"detail":"Not Found"}'
        started = time.monotonic()
        status, content_type, body = route()
        if path == self.metrics_path and status == 200:
            at = (started + time.monotonic()) / 2  # the values were read while rendering: its midpoint
            if self.fault == "big":
                body = self._filler + body
            with self._lock:
                self.renders.append((at, body))
        return status, content_type, body

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                path = self.path.split("?", 1)[0]
                answer = server.answer(path)
                if answer is None:
                    server.stopping.wait(HANG_LIMIT_S)
                    return
                status, content_type, body = answer
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def _prom(engine: Any) -> Route:
    return lambda: (200, PROMETHEUS_TEXT, engine.render())


def vllm_server(engine: VllmEngine, **options: Any) -> MetricsServer:
    return MetricsServer({"/metrics": _prom(engine), "/health": lambda: (200, "text/plain", b"")}, **options)


def sglang_server(engine: SglangEngine, *, metrics: bool = True, **options: Any) -> MetricsServer:
    info = json.dumps({"model_path": engine.model, "tokenizer_path": engine.model, "is_generation": True}).encode()
    routes: dict[str, Route] = {"/get_model_info": lambda: (200, "application/json", info)}
    if metrics:  # without --enable-metrics SGLang mounts no /metrics: FastAPI's 404
        routes["/metrics"] = _prom(engine)
    return MetricsServer(routes, **options)


def llamacpp_server(engine: LlamaCppEngine, *, metrics: bool = True, **options: Any) -> MetricsServer:
    if metrics:
        route: Route = lambda: (200, "text/plain; version=0.0.4", engine.render())  # noqa: E731
    else:
        route = lambda: (501, "application/json; charset=utf-8", LLAMACPP_OFF_BODY)  # noqa: E731
    props = json.dumps({"total_slots": 4, "model_path": "/models/model.gguf", "build_info": "b6000"}).encode()
    return MetricsServer({"/metrics": route, "/props": lambda: (200, "application/json", props)}, **options)


def tei_server(engine: TeiEngine, **options: Any) -> MetricsServer:
    return MetricsServer({"/metrics": lambda: (200, "text/plain; charset=utf-8", engine.render())}, **options)


def tgi_server(engine: TgiEngine, **options: Any) -> MetricsServer:
    return MetricsServer({"/metrics": lambda: (200, "text/plain; charset=utf-8", engine.render())}, **options)


def triton_server(engine: TritonEngine, **options: Any) -> MetricsServer:
    return MetricsServer({"/metrics": lambda: (200, "text/plain; charset=utf-8", engine.render())}, **options)


def trtllm_server(engine: TrtllmEngine, *, metrics: bool = True, **options: Any) -> MetricsServer:
    stats = json.dumps([{"iter": 12, "iterLatencyMS": 8.5, "numActiveRequests": 1,
                         "kvCacheStats": {"usedNumBlocks": 3, "maxNumBlocks": 6239}}]).encode()
    routes: dict[str, Route] = {"/metrics": lambda: (200, "application/json", stats)}  # JSON, not Prometheus
    if metrics:
        routes["/prometheus/metrics"] = _prom(engine)
    return MetricsServer(routes, metrics_path="/prometheus/metrics", **options)


def ollama_server(engine: OllamaEngine, **options: Any) -> MetricsServer:
    routes: dict[str, Route] = {
        "/api/ps": lambda: (200, "application/json; charset=utf-8", engine.render_ps()),
        "/api/version": lambda: (200, "application/json", b'{"version":"0.11.4"}'),
        "/metrics": lambda: (404, "text/plain; charset=utf-8", b"404 page not found"),  # Go's NotFound
    }
    return MetricsServer(routes, metrics_path="/api/ps", **options)
