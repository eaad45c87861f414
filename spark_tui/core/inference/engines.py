"""Which metric gives which figure, engine by engine, as each project's own source names them.

Every table lists the current name first and older names after it (first present wins). Names
are written as they appear on the page (`vllm:prompt_tokens_total`); prometheus_client's parser
names a counter family without `_total`, and `Metric.family` does the same.

Label handling, per engine:
- vLLM: one series per `engine` (data-parallel core) and `model_name`: counts and rates add up.
- SGLang: scheduler gauges carry `tp_rank`/`pp_rank` (and `dp_rank`); ranks of one data-parallel
  group report the same batch (with --enable-metrics-for-all-schedulers every rank does), so
  they count once and groups add up. Tokenizer counters (tokens, requests) are one process.
- llama.cpp: no labels (one model per server). Values are written with C++'s default 6
  significant digits: a counter past 1e6 moves in steps of 10 (past 1e7, of 100), so a rate over
  one short interval can be off by a step; the longer the rate window, the smaller that error.
- TEI/TGI: the Rust `metrics` crate's exporter: counters without `_total`, token counts only as
  histogram sums, no model label.
- Triton: `model`/`version` labels; tokens are not counted by Triton's core metrics.
- TensorRT-LLM `trtllm-serve`: prometheus_client with `model_name`/`engine_type` (which it sets to
  "undefined"), at /prometheus/metrics; its /metrics is JSON iteration stats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

# The figure names, as InferenceFigures' fields.
GAUGE_FIGURES = ("running", "waiting", "kv_cache_usage")
RATE_FIGURES = ("prompt_tokens_per_s", "generation_tokens_per_s", "requests_per_s", "preemptions_per_s")
LATENCY_FIGURES = ("ttft", "itl", "e2e")
RATIO_FIGURES = ("prefix_cache_hit_rate",)


@dataclass(frozen=True)
class Metric:
    """One family (or one label slice of it) that can give a figure."""

    name: str  # as exposed
    select: Mapping[str, str] | None = None  # only series with these label values
    replicas: tuple[str, ...] = ()  # labels whose series are copies of one state: counted once
    scale: float = 1.0  # to seconds (ms: 1e-3, µs: 1e-6)
    part: str | None = None  # "sum"/"count": a histogram's _sum/_count read as a counter
    over: Metric | None = None  # gauges: this divided by `over` (used / max blocks)
    note: str | None = None  # what the reader should know about this figure, in its source label

    @property
    def family(self) -> str:
        """The family name prometheus_client's parser gives it (counters lose `_total`)."""
        return self.name[:-6] if self.name.endswith("_total") else self.name

    @property
    def shown(self) -> str:
        text = self.name
        if self.select:
            text += "{" + ",".join(f'{key}="{value}"' for key, value in self.select.items()) + "}"
        if self.part:
            text += f"_{self.part}"
        if self.over is not None:
            text += f" / {self.over.shown}"
        return text


@dataclass(frozen=True)
class Figure:
    """How one figure is read. `kind`:

    gauge: the value now · rate: a counter's increase per second ·
    quantiles: histogram percentiles over the window · mean: Δcandidate / Δdenominator (seconds
    per request or per token, from cumulative time counters) · ratio: Δcandidate / Δdenominator as a 0–1 rate.
    For mean and ratio, candidate i goes with denominator i (same generation of names).
    """

    kind: str
    candidates: tuple[Metric, ...]
    combine: str = "sum"  # gauges across engines/ranks: "sum" (requests) or "max" (the fullest cache)
    denominators: tuple[Metric, ...] = ()


@dataclass(frozen=True)
class EngineSpec:
    key: str  # what InferenceTarget.engine and the JSON say
    label: str  # for source labels: "vLLM /metrics (…)"
    metrics_path: str
    markers: tuple[str, ...]  # metric-name starts that identify the engine on a page
    figures: Mapping[str, Figure]
    model_labels: tuple[str, ...] = ()
    placeholder_models: frozenset[str] = frozenset()  # label values that name no model
    metrics_off_statuses: tuple[int, ...] = ()  # statuses of /metrics when the metrics are switched off
    hint: str | None = None  # how to switch them on
    notes: tuple[str, ...] = field(default=(), compare=False)  # said as a note with the figures

    @cached_property  # read at every scrape; the table never changes
    def prefixes(self) -> tuple[str, ...]:
        """Family-name prefixes to keep when filtering the page (see exposition.prefilter)."""
        names: set[str] = set()
        for figure in self.figures.values():
            for metric in (*figure.candidates, *figure.denominators):
                names.add(metric.family)
                if metric.over is not None:
                    names.add(metric.over.family)
        return tuple(sorted(names))

    @cached_property
    def byte_markers(self) -> tuple[tuple[bytes, bytes, bytes], ...]:
        """(marker, "# TYPE marker", "\\nmarker") as bytes: detection reads the page undecoded."""
        return tuple((m.encode(), b"# TYPE " + m.encode(), b"\n" + m.encode()) for m in self.markers)

    def source(self, metric: Metric, path: str | None = None) -> str:
        text = f"{self.label} {path or self.metrics_path} ({metric.shown})"
        return f"{text}: {metric.note}" if metric.note else text


def _f(kind: str, *names: str | Metric, combine: str = "sum", over: tuple[str | Metric, ...] = (),
       replicas: tuple[str, ...] = (), scale: float = 1.0, note: str | None = None) -> Figure:
    def metric(item: str | Metric) -> Metric:
        return item if isinstance(item, Metric) else Metric(item, replicas=replicas, scale=scale, note=note)

    return Figure(kind, tuple(metric(name) for name in names), combine, tuple(metric(name) for name in over))


def _table(**figures: Figure) -> Mapping[str, Figure]:
    return MappingProxyType(figures)


# vLLM (vllm/v1/metrics/loggers.py): labels model_name, engine.
VLLM = EngineSpec(
    key="vllm",
    label="vLLM",
    metrics_path="/metrics",
    markers=("vllm:",),
    model_labels=("model_name",),
    figures=_table(
        running=_f("gauge", "vllm:num_requests_running"),
        waiting=_f("gauge", "vllm:num_requests_waiting"),
        kv_cache_usage=_f("gauge", "vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc", combine="max"),
        prompt_tokens_per_s=_f("rate", "vllm:prompt_tokens_total"),
        generation_tokens_per_s=_f("rate", "vllm:generation_tokens_total"),
        requests_per_s=_f("rate", "vllm:request_success_total"),
        preemptions_per_s=_f("rate", "vllm:num_preemptions_total"),
        prefix_cache_hit_rate=_f("ratio", "vllm:prefix_cache_hits_total", "vllm:gpu_prefix_cache_hits_total",
                                 over=("vllm:prefix_cache_queries_total", "vllm:gpu_prefix_cache_queries_total")),
        ttft=_f("quantiles", "vllm:time_to_first_token_seconds"),
        # time_per_output_token_seconds held the same observations before the rename.
        itl=_f("quantiles", "vllm:inter_token_latency_seconds", "vllm:time_per_output_token_seconds"),
        e2e=_f("quantiles", "vllm:e2e_request_latency_seconds"),
    ),
)

_SGLANG_RANKS = ("tp_rank", "pp_rank")

# SGLang (python/sglang/srt/metrics/collector.py): metrics only with --enable-metrics; without it
# /metrics is FastAPI's 404. Its gen_throughput and cache_hit_rate gauges are SGLang's own averages
# over its last log interval; the counters give the same figures over our window instead.
SGLANG = EngineSpec(
    key="sglang",
    label="SGLang",
    metrics_path="/metrics",
    markers=("sglang:",),
    model_labels=("model_name",),
    metrics_off_statuses=(404,),
    hint="start SGLang with --enable-metrics",
    figures=_table(
        running=_f("gauge", "sglang:num_running_reqs", replicas=_SGLANG_RANKS),
        waiting=_f("gauge", "sglang:num_queue_reqs", replicas=_SGLANG_RANKS),
        kv_cache_usage=_f("gauge", "sglang:token_usage", replicas=_SGLANG_RANKS, combine="max"),
        prompt_tokens_per_s=_f("rate", "sglang:prompt_tokens_total"),
        generation_tokens_per_s=_f("rate", "sglang:generation_tokens_total"),
        requests_per_s=_f("rate", "sglang:num_requests_total"),
        preemptions_per_s=_f("rate", "sglang:num_retracted_requests_total", note="retracted requests"),
        # cached_tokens_total counts the prompt tokens served from the radix cache.
        prefix_cache_hit_rate=_f("ratio", "sglang:cached_tokens_total", over=("sglang:prompt_tokens_total",)),
        ttft=_f("quantiles", "sglang:time_to_first_token_seconds"),
        itl=_f("quantiles", "sglang:inter_token_latency_seconds"),
        e2e=_f("quantiles", "sglang:e2e_request_latency_seconds"),
    ),
)

# llama.cpp (tools/server): a hand-written page, no labels; without --metrics, /metrics answers
# 501 "This server does not support metrics endpoint. Start it with `--metrics`".
# The *_tokens_seconds gauges are averages since the previous scrape by anyone: another scraper
# (a Prometheus) makes them meaningless here, so rates come from the counters only.
LLAMACPP = EngineSpec(
    key="llamacpp",
    label="llama.cpp",
    metrics_path="/metrics",
    markers=("llamacpp:",),
    metrics_off_statuses=(501,),
    hint="start llama-server with --metrics",
    figures=_table(
        running=_f("gauge", "llamacpp:requests_processing"),
        waiting=_f("gauge", "llamacpp:requests_deferred"),
        kv_cache_usage=_f("gauge", "llamacpp:kv_cache_usage_ratio", combine="max"),  # older builds only
        prompt_tokens_per_s=_f("rate", "llamacpp:prompt_tokens_total"),
        generation_tokens_per_s=_f("rate", "llamacpp:tokens_predicted_total"),
        # Seconds spent generating per generated token, per slot: a mean, no percentiles.
        itl=_f("mean", "llamacpp:tokens_predicted_seconds_total", over=("llamacpp:tokens_predicted_total",),
               note="mean seconds per generated token, per slot"),
    ),
)

# Text Embeddings Inference (router + core, metrics crate): /metrics on the main port.
TEI = EngineSpec(
    key="tei",
    label="TEI",
    metrics_path="/metrics",
    markers=("te_request_", "te_queue_size", "te_embed_"),
    notes=("TEI is an embedding server: it generates no tokens",),
    figures=_table(
        waiting=_f("gauge", "te_queue_size"),
        prompt_tokens_per_s=_f("rate", Metric("te_request_input_length", part="sum",
                                              note="input tokens, counted when a request is tokenized")),
        requests_per_s=_f("rate", "te_request_success"),
        e2e=_f("quantiles", "te_request_duration"),
    ),
)

# Text Generation Inference (router, metrics crate): no time-to-first-token histogram.
TGI = EngineSpec(
    key="tgi",
    label="TGI",
    metrics_path="/metrics",
    markers=("tgi_",),
    figures=_table(
        running=_f("gauge", "tgi_batch_current_size"),
        waiting=_f("gauge", "tgi_queue_size"),
        prompt_tokens_per_s=_f("rate", Metric("tgi_request_input_length", part="sum",
                                              note="counted when a request is validated")),
        generation_tokens_per_s=_f("rate", Metric("tgi_request_generated_tokens", part="sum",
                                                  note="counted when a request finishes")),
        requests_per_s=_f("rate", "tgi_request_success"),
        itl=_f("quantiles", Metric("tgi_request_mean_time_per_token_duration",
                                   note="each request's mean time per token, prefill included")),
        e2e=_f("quantiles", "tgi_request_duration"),
    ),
)

_TRT_REQUESTS = "nv_trt_llm_request_metrics"
_TRT_KV = "nv_trt_llm_kv_cache_block_metrics"

# Triton Inference Server: :8002/metrics. TTFT only with --metrics-config histogram_latencies=true.
TRITON = EngineSpec(
    key="triton",
    label="Triton",
    metrics_path="/metrics",
    markers=("nv_inference_", "nv_trt_llm_"),
    model_labels=("model",),
    figures=_table(
        running=_f("gauge", Metric(_TRT_REQUESTS, select={"request_type": "scheduled"}),
                   Metric(_TRT_REQUESTS, select={"request_type": "active"})),
        waiting=_f("gauge", Metric(_TRT_REQUESTS, select={"request_type": "waiting"}),
                   "nv_inference_pending_request_count"),
        kv_cache_usage=_f(
            "gauge",
            Metric(_TRT_KV, select={"kv_cache_block_type": "fraction"}),
            Metric(_TRT_KV, select={"kv_cache_block_type": "used"},
                   over=Metric(_TRT_KV, select={"kv_cache_block_type": "max"})),
            combine="max",
        ),
        requests_per_s=_f("rate", "nv_inference_request_success"),
        ttft=_f("quantiles", "nv_inference_first_response_histogram_ms", scale=1e-3,
                note="time to the first response"),
        e2e=_f("mean", "nv_inference_request_duration_us", over=("nv_inference_request_success",), scale=1e-6,
               note="mean over the window, from cumulative request time"),
    ),
)

# trtllm-serve (tensorrt_llm/metrics/collector.py): only with `return_perf_metrics: true`.
TRTLLM = EngineSpec(
    key="trtllm",
    label="TensorRT-LLM",
    metrics_path="/prometheus/metrics",
    markers=("trtllm_",),
    model_labels=("model_name",),
    placeholder_models=frozenset({"undefined"}),
    metrics_off_statuses=(404,),
    hint="set `return_perf_metrics: true` in trtllm-serve's --extra_llm_api_options YAML",
    figures=_table(
        running=_f("gauge", "trtllm_num_requests_running"),
        waiting=_f("gauge", "trtllm_num_requests_waiting"),
        kv_cache_usage=_f("gauge", "trtllm_kv_cache_utilization", combine="max"),
        prompt_tokens_per_s=_f("rate", "trtllm_prompt_tokens_total"),
        generation_tokens_per_s=_f("rate", "trtllm_generation_tokens_total"),
        requests_per_s=_f("rate", "trtllm_request_success_total"),
        ttft=_f("quantiles", "trtllm_time_to_first_token_seconds"),
        itl=_f("quantiles", "trtllm_time_per_output_token_seconds"),
        e2e=_f("quantiles", "trtllm_e2e_request_latency_seconds"),
    ),
)


def _merged(*specs: EngineSpec) -> dict[str, Figure]:
    """A figure table whose candidates are every spec's, in order (first present wins)."""
    out: dict[str, Figure] = {}
    for spec in specs:
        for name, figure in spec.figures.items():
            if name not in out:
                out[name] = figure
            elif figure.kind == out[name].kind:
                previous = out[name]
                out[name] = Figure(previous.kind, previous.candidates + figure.candidates, previous.combine,
                                   previous.denominators + figure.denominators)
    return out


# NIM for LLMs 1.x: vLLM's figures without the `vllm:` prefix, at /v1/metrics.
_NIM1 = EngineSpec(
    key="nim1",
    label="NIM",
    metrics_path="/v1/metrics",
    markers=("num_requests_running", "gpu_cache_usage_perc"),
    figures=_table(
        running=_f("gauge", "num_requests_running"),
        waiting=_f("gauge", "num_requests_waiting"),
        kv_cache_usage=_f("gauge", "gpu_cache_usage_perc", combine="max"),
        prompt_tokens_per_s=_f("rate", "prompt_tokens_total"),
        generation_tokens_per_s=_f("rate", "generation_tokens_total"),
        requests_per_s=_f("rate", "request_success_total", "request_finish_total"),
        ttft=_f("quantiles", "time_to_first_token_seconds"),
        itl=_f("quantiles", "time_per_output_token_seconds"),
        e2e=_f("quantiles", "e2e_request_latency_seconds"),
    ),
)

# NIM: /v1/metrics. 1.x writes vLLM's names unprefixed; 2.x passes on its backend's own names
# (vllm:, sglang:, trtllm_) beside Triton-style nv_inference_* ones.
NIM = EngineSpec(
    key="nim",
    label="NIM",
    metrics_path="/v1/metrics",
    markers=_NIM1.markers,
    model_labels=("model_name", "model"),
    placeholder_models=TRTLLM.placeholder_models,
    figures=MappingProxyType(_merged(VLLM, SGLANG, TRTLLM, _NIM1, TRITON)),
)

OLLAMA_KEY = "ollama"
OLLAMA_PS_PATH = "/api/ps"

ENGINES: Mapping[str, EngineSpec] = MappingProxyType(
    {spec.key: spec for spec in (VLLM, SGLANG, LLAMACPP, TEI, TGI, TRITON, NIM, TRTLLM)}
)
ENGINE_KEYS = (*ENGINES, OLLAMA_KEY)

# Detection order: engine prefixes first (a NIM 2.x page with vllm: names reads as vLLM), then
# NIM 1.x's unprefixed names before Triton's, which a NIM page may carry too.
_DETECT = (VLLM, SGLANG, LLAMACPP, TRTLLM, TGI, TEI, NIM, TRITON)


def detect_one(spec: EngineSpec, text: str | bytes) -> bool:
    """True when one of `spec`'s metric names appears on the page (a `# TYPE` line or a sample line).

    Substring searches over the raw text or bytes (C speed), not a parse: this runs before we
    know which families to parse, and stops at the first hit, near the top of a real page.
    """
    if isinstance(text, str):
        return any(
            f"# TYPE {marker}" in text or f"\n{marker}" in text or text.startswith(marker) for marker in spec.markers
        )
    return any(typed in text or line in text or text.startswith(marker)
               for marker, typed, line in spec.byte_markers)


_DETECT_HEAD = 256 * 1024  # engines register their families early: the answer is nearly always up here


def detect(text: str | bytes) -> EngineSpec | None:
    """The engine whose metric names appear on the page (str or bytes), None when none does."""
    head = text[:_DETECT_HEAD]
    found = next((spec for spec in _DETECT if detect_one(spec, head)), None)
    if found is None and len(text) > len(head):
        found = next((spec for spec in _DETECT if detect_one(spec, text)), None)
    return found


def engine_label(key: str | None) -> str | None:
    if key == OLLAMA_KEY:
        return "Ollama"
    spec = ENGINES.get(key or "")
    return spec.label if spec else key
