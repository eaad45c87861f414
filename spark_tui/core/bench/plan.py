"""What to run: adapter, URL, the sweep (payloads × batch sizes × concurrencies), per-cell length,
guards. `plan_for_service` gives sensible defaults for a discovered or configured service."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from spark_tui.core.bench.adapters import adapter_class
from spark_tui.core.bench.adapters_base import AdapterOptions, PayloadSettings
from spark_tui.core.bench.http import Endpoint
from spark_tui.core.masking import MASK, is_secret_name, mask_any
from spark_tui.models.bench import BenchKind, CellSpec
from spark_tui.models.probes import redact_url
from spark_tui.models.settings import BenchConfig

GIB = 1024**3
MAX_CELLS = 400
MAX_TOKENS = 1_000_000
SLO_NAMES = ("ttft", "itl", "tpot", "e2e")
# `--preset prefill-decode`, as llama-bench's pp/tg: prompt processing at output 1, then 128
# tokens generated after a short prompt and at depth (the Spark's published figures are pp2048, tg128)
PREFILL_INPUTS = (512, 1024, 2048, 4096, 8192, 16384)
DECODE_DEPTHS = (32, 4096, 16384)
PRESETS: dict[str, tuple[tuple[int, int], ...]] = {
    "prefill-decode": tuple((n, 1) for n in PREFILL_INPUTS) + tuple((d, 128) for d in DECODE_DEPTHS),
}
GENERATE_LENGTHS = ((512, 128),)
GENERATE_CONCURRENCIES = (1, 4, 16)
WARMUP_TIMEOUT_S = 120.0  # Ollama and vLLM load a model within this; a server silent for longer is stuck


class PlanError(ValueError):
    """A plan that cannot run; the message is one line for the user."""


@dataclass(frozen=True)
class BenchPlan:
    kind: BenchKind
    adapter: str
    url: str
    batch_sizes: tuple[int, ...] = (1, 8, 32)
    concurrencies: tuple[int, ...] = (1, 4)
    payloads: tuple[str, ...] = ()  # () = the adapter's default variant
    duration_s: float | None = 20.0  # per cell; ignored when `requests` is set
    requests: int | None = None  # per cell
    warmup_requests: int = 2  # before the sweep, discarded (Ollama loads the model here)
    cell_warmup: bool = True  # one discarded request per worker at the start of each cell
    timeout_s: float = 60.0  # per request
    warmup_timeout_s: float = WARMUP_TIMEOUT_S  # per warm-up request (a model may load); no answer ends the run
    memory_floor_bytes: int = 8 * GIB  # abort when MemAvailable falls below
    max_error_rate: float = 0.05  # above it, stop raising concurrency for that batch size
    options: AdapterOptions = field(default_factory=AdapterOptions)
    payload: PayloadSettings = field(default_factory=PayloadSettings)
    service: str | None = None  # the service's name, when started from the dashboard
    # generation only
    lengths: tuple[tuple[int, int], ...] = ()  # (input tokens, output tokens) per cell, swept in order
    shared_prefix: bool = False  # prompts share all but their last words (prefix caches may help)
    force_length: bool = True  # send ignore_eos / min_tokens so outputs have the asked length
    slo: tuple[tuple[str, float], ...] = ()  # ("ttft", 2.0), ("itl", 0.05): goodput

    @property
    def slo_map(self) -> dict[str, float]:
        return dict(self.slo)

    @property
    def payload_variants(self) -> tuple[str, ...]:
        return self.payloads or adapter_class(self.adapter, self.kind).payloads[:1]

    def cells(self) -> tuple[CellSpec, ...]:
        """Cells in run order: per payload, per batch size, concurrency rising (so the ramp guard can stop it);
        generation: per (input, output) length, concurrency rising."""
        duration = None if self.requests else self.duration_s
        specs = []
        if self.kind == "generate":
            for input_tokens, output_tokens in self.lengths:
                for concurrency in self.concurrencies:
                    specs.append(CellSpec(len(specs), "prompt", 1, concurrency, duration, self.requests, input_tokens, output_tokens))
            return tuple(specs)
        for payload in self.payload_variants:
            for batch in self.batch_sizes:
                for concurrency in self.concurrencies:
                    specs.append(CellSpec(len(specs), payload, batch, concurrency, duration, self.requests))
        return tuple(specs)

    def validate(self) -> None:
        """Raise PlanError with a one-line reason when this plan cannot run."""
        try:
            cls = adapter_class(self.adapter, self.kind)
        except ValueError as exc:
            raise PlanError(str(exc)) from None
        try:
            Endpoint.parse(self.url)
        except ValueError as exc:
            raise PlanError(str(exc)) from None
        _check_list("batch size", self.batch_sizes, 1, 4096)
        _check_list("concurrency", self.concurrencies, 1, 1024)
        if cls.fixed_batch is not None and set(self.batch_sizes) != {cls.fixed_batch}:
            raise PlanError(
                f"{cls.name} takes {cls.fixed_batch} item per request: use --batch {cls.fixed_batch} and sweep --concurrency instead"
            )
        if self.kind == "generate":
            if not self.lengths:
                raise PlanError("give at least one input and output length (--input-tokens, --output-tokens)")
            for input_tokens, output_tokens in self.lengths:
                if not (1 <= input_tokens <= MAX_TOKENS and 1 <= output_tokens <= MAX_TOKENS):
                    raise PlanError(f"token lengths must be between 1 and {MAX_TOKENS}, got input {input_tokens}, output {output_tokens}")
            for name, limit in self.slo:
                if name not in SLO_NAMES or not limit > 0:
                    raise PlanError(f"SLO {name}={limit:g}: expected {', '.join(SLO_NAMES)} with a time above 0")
        for payload in self.payloads:
            if payload not in cls.payloads:
                raise PlanError(f"{cls.name} cannot send {payload!r}: expected one of {', '.join(cls.payloads)}")
        if self.requests is None and (self.duration_s is None or self.duration_s <= 0):
            raise PlanError("each cell needs a duration in seconds or a number of requests")
        if self.requests is not None and self.requests < 1:
            raise PlanError(f"requests per cell must be at least 1, got {self.requests}")
        if self.duration_s is not None and not 0 < self.duration_s <= 86_400:
            raise PlanError(f"duration must be between 0 and 86400 seconds, got {self.duration_s:g}")
        if not 0 < self.timeout_s <= 3600:
            raise PlanError(f"the request timeout must be between 0 and 3600 seconds, got {self.timeout_s:g}")
        if self.warmup_requests < 0:
            raise PlanError("warm-up requests cannot be negative")
        if not 0 < self.warmup_timeout_s <= 3600:
            raise PlanError(f"the warm-up timeout must be between 0 and 3600 seconds, got {self.warmup_timeout_s:g}")
        if not 0 <= self.max_error_rate <= 1:
            raise PlanError(f"the error-rate limit is a fraction between 0 and 1, got {self.max_error_rate:g}")
        if self.payload.text_words < 1 or self.payload.doc_pages < 1 or self.payload.ring < 1:
            raise PlanError("text length, document pages and distinct requests must each be at least 1")
        if len(self.cells()) > MAX_CELLS:
            raise PlanError(f"{len(self.cells())} cells is too many for one run (at most {MAX_CELLS}): sweep fewer values")

    def estimated_seconds(self) -> float | None:
        """Roughly how long the run takes when every cell runs to its duration (None for request counts)."""
        if self.requests is not None or self.duration_s is None:
            return None
        return len(self.cells()) * self.duration_s

    def describe(self) -> dict[str, Any]:
        """The plan as saved in run.json: secrets in headers and body fields masked."""
        options = self.options
        return {
            "kind": self.kind,
            "adapter": self.adapter,
            "url": redact_url(self.url),
            "service": self.service,
            "batch_sizes": list(self.batch_sizes),
            "concurrencies": list(self.concurrencies),
            "payloads": list(self.payload_variants),
            "duration_s": None if self.requests else self.duration_s,
            "requests": self.requests,
            "warmup_requests": self.warmup_requests,
            "warmup_timeout_s": self.warmup_timeout_s,
            "cell_warmup": self.cell_warmup,
            "timeout_s": self.timeout_s,
            "memory_floor_bytes": self.memory_floor_bytes,
            "max_error_rate": self.max_error_rate,
            "options": {
                "model": options.model,
                "path": options.path,
                "extra_body": mask_any(dict(options.extra_body)),
                "headers": {name: MASK if is_secret_name(name) or name.lower() in ("authorization", "cookie") else mask_any(value, name) for name, value in options.headers},
                "input_field": options.input_field,
                "keep_alive": options.keep_alive,
                "docling_async": options.docling_async,
                "docling_async_pages": options.docling_async_pages,
            },
            "payload": {"text_words": self.payload.text_words, "doc_pages": self.payload.doc_pages, "ring": self.payload.ring},
            **({"lengths": [list(pair) for pair in self.lengths], "shared_prefix": self.shared_prefix,
                "force_length": self.force_length, "slo": self.slo_map} if self.kind == "generate" else {}),
        }


def _check_list(what: str, values: tuple[int, ...], low: int, high: int) -> None:
    if not values:
        raise PlanError(f"give at least one {what}")
    for value in values:
        if not low <= value <= high:
            raise PlanError(f"{what} {value} is out of range ({low} to {high})")
    if len(set(values)) != len(values):
        raise PlanError(f"{what} values repeat: {', '.join(map(str, values))}")


def parse_int_list(text: str, what: str = "value") -> tuple[int, ...]:
    """'1,8,32' -> (1, 8, 32); PlanError names the bad part."""
    values = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        try:
            values.append(int(part))
        except ValueError:
            raise PlanError(f"{what}: {part!r} is not a whole number (expected a list such as 1,8,32)") from None
    if not values:
        raise PlanError(f"{what}: expected a list such as 1,8,32")
    return tuple(values)


# The dashboard's service presets (spark_tui.core.services.presets) and the adapter each one speaks.
SERVICE_ADAPTERS: dict[str, tuple[str, dict[str, Any]]] = {
    "vllm": ("openai", {}),
    "nim": ("openai", {"extra_body": {"input_type": "passage"}}),
    "infinity": ("openai", {"path": "/embeddings"}),
    "tei": ("tei", {}),
    "ollama": ("ollama", {}),
    "nv-embed": ("nvembed", {}),
    "omniparser": ("omniparser", {}),
    "docling": ("docling", {}),
    # servers that only generate text: `b` on them opens a generation benchmark
    "sglang": ("openai-chat", {}),
    "llamacpp": ("openai-chat", {}),
    "tgi": ("openai-chat", {}),
    "trtllm": ("openai-chat", {}),
    "litellm": ("openai-chat", {}),
}


# Services that generate text and the adapter each speaks (the screen's generation plans, later)
GENERATION_SERVICE_ADAPTERS: dict[str, str] = {
    "vllm": "openai-chat",
    "sglang": "openai-chat",
    "trtllm": "openai-chat",
    "nim": "openai-chat",
    "litellm": "openai-chat",
    "tgi": "openai-chat",  # TGI's Messages API (/v1/chat/completions)
    "llamacpp": "openai-chat",  # "llamacpp" (native /completion) when llama.cpp's own timings are wanted
    "ollama": "ollama",
}


def generation_plan_for_service(preset: str, url: str, settings: BenchConfig | None = None, *, model: str | None = None,
                                service: str | None = None) -> BenchPlan:
    """A generation plan with defaults for a service that serves text generation."""
    try:
        adapter = GENERATION_SERVICE_ADAPTERS[preset]
    except KeyError:
        raise PlanError(f"no generation benchmark for {preset!r} services (they exist for {', '.join(GENERATION_SERVICE_ADAPTERS)})") from None
    plan = plan_from_settings(settings or BenchConfig(), "generate", adapter, url)
    return replace(plan, options=replace(plan.options, model=model), service=service)


def plan_from_settings(settings: BenchConfig, kind: BenchKind, adapter: str, url: str) -> BenchPlan:
    """A plan from the [bench] config section: embed and parse sweeps have their own defaults."""
    cls = adapter_class(adapter, kind)
    if cls.fixed_batch is not None:
        batch_sizes: tuple[int, ...] = (cls.fixed_batch,)
    else:
        batch_sizes = settings.parse_batch_sizes if kind == "parse" else settings.batch_sizes
    return BenchPlan(
        kind=kind,
        adapter=adapter,
        url=url,
        batch_sizes=batch_sizes,
        concurrencies=GENERATE_CONCURRENCIES if kind == "generate" else settings.parse_concurrencies if kind == "parse" else settings.concurrencies,
        duration_s=settings.duration,
        requests=settings.requests,
        warmup_requests=settings.warmup_requests,
        warmup_timeout_s=settings.warmup_timeout,
        timeout_s=settings.timeout,
        memory_floor_bytes=int(settings.memory_floor_gib * GIB),
        max_error_rate=settings.max_error_rate,
        payload=PayloadSettings(text_words=settings.text_words, doc_pages=settings.doc_pages),
        lengths=GENERATE_LENGTHS if kind == "generate" else (),
    )


def parse_slo(text: str) -> tuple[tuple[str, float], ...]:
    """'ttft=2s,itl=50ms' -> (("ttft", 2.0), ("itl", 0.05)); PlanError names the bad part."""
    out = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        name, sep, value = part.partition("=")
        name = name.lower()
        if not sep or name not in SLO_NAMES:
            raise PlanError(f"--slo: {part!r}: expected NAME=TIME with NAME one of {', '.join(SLO_NAMES)}, e.g. ttft=2s,itl=50ms")
        scale = 1.0
        for suffix, factor in (("ms", 1e-3), ("us", 1e-6), ("s", 1.0)):
            if value.endswith(suffix):
                value, scale = value[: -len(suffix)], factor
                break
        try:
            seconds = float(value) * scale
        except ValueError:
            raise PlanError(f"--slo: {part!r}: {value!r} is not a time (e.g. 2s, 50ms)") from None
        if not seconds > 0:
            raise PlanError(f"--slo: {part!r}: the time must be above 0")
        out.append((name, seconds))
    if not out:
        raise PlanError("--slo: expected e.g. ttft=2s,itl=50ms")
    return tuple(out)


def plan_for_service(preset: str, url: str, settings: BenchConfig | None = None, *, model: str | None = None, service: str | None = None) -> BenchPlan:
    """A plan with sensible defaults for a service the dashboard knows (`preset` as in SERVICE_ADAPTERS)."""
    try:
        adapter, option_changes = SERVICE_ADAPTERS[preset]
    except KeyError:
        raise PlanError(f"no benchmark for {preset!r} services (benchmarks exist for {', '.join(SERVICE_ADAPTERS)})") from None
    cls = adapter_class(adapter)
    plan = plan_from_settings(settings or BenchConfig(), cls.kind, adapter, url)
    return replace(plan, options=replace(plan.options, model=model, **option_changes), service=service)
