"""What to run: adapter, URL, the sweep (payloads × batch sizes × concurrencies), per-cell length,
guards. `plan_for_service` gives sensible defaults for a discovered or configured service."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from spark_tui.core.bench.adapters import adapter_class
from spark_tui.core.bench.adapters_base import AdapterOptions, PayloadSettings
from spark_tui.core.bench.http import Endpoint
from spark_tui.models.settings import BenchConfig
from spark_tui.core.masking import MASK, is_secret_name, mask_any
from spark_tui.models.bench import BenchKind, CellSpec
from spark_tui.models.probes import redact_url

GIB = 1024**3
MAX_CELLS = 400
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

    @property
    def payload_variants(self) -> tuple[str, ...]:
        return self.payloads or adapter_class(self.adapter).payloads[:1]

    def cells(self) -> tuple[CellSpec, ...]:
        """Cells in run order: per payload, per batch size, concurrency rising (so the ramp guard can stop it)."""
        duration = None if self.requests else self.duration_s
        specs = []
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
}


def plan_from_settings(settings: BenchConfig, kind: BenchKind, adapter: str, url: str) -> BenchPlan:
    """A plan from the [bench] config section: embed and parse sweeps have their own defaults."""
    cls = adapter_class(adapter)
    if cls.fixed_batch is not None:
        batch_sizes: tuple[int, ...] = (cls.fixed_batch,)
    else:
        batch_sizes = settings.parse_batch_sizes if kind == "parse" else settings.batch_sizes
    return BenchPlan(
        kind=kind,
        adapter=adapter,
        url=url,
        batch_sizes=batch_sizes,
        concurrencies=settings.parse_concurrencies if kind == "parse" else settings.concurrencies,
        duration_s=settings.duration,
        requests=settings.requests,
        warmup_requests=settings.warmup_requests,
        warmup_timeout_s=settings.warmup_timeout,
        timeout_s=settings.timeout,
        memory_floor_bytes=int(settings.memory_floor_gib * GIB),
        max_error_rate=settings.max_error_rate,
        payload=PayloadSettings(text_words=settings.text_words, doc_pages=settings.doc_pages),
    )


def plan_for_service(preset: str, url: str, settings: BenchConfig | None = None, *, model: str | None = None, service: str | None = None) -> BenchPlan:
    """A plan with sensible defaults for a service the dashboard knows (`preset` as in SERVICE_ADAPTERS)."""
    try:
        adapter, option_changes = SERVICE_ADAPTERS[preset]
    except KeyError:
        raise PlanError(f"no benchmark for {preset!r} services (benchmarks exist for {', '.join(SERVICE_ADAPTERS)})") from None
    cls = adapter_class(adapter)
    plan = plan_from_settings(settings or BenchConfig(), cls.kind, adapter, url)
    return replace(plan, options=replace(plan.options, model=model, **option_changes), service=service)
