"""Live inference load: what each model server is doing now, as the UI and `--json` show it.

Figures come from the server's own counters (Prometheus exposition, or Ollama's /api/ps). A figure
the server does not expose is None, never 0: an idle server says 0.0 tokens/s, a server without
the counter says nothing. Times are in seconds, rates per second, KV-cache usage a fraction 0–1.

Every text here that came from a server (model names, label values, its error text) is kept as
the server sent it, a plain str: sanitising for the terminal happens where it is drawn.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from spark_tui.models.probes import redact_url

_EMPTY: Mapping[str, str] = MappingProxyType({})


class ProblemKind(enum.StrEnum):
    ERROR = "error"  # no figures: refused, timed out, not a metrics page, garbage
    METRICS_OFF = "metrics_off"  # the server answers, its metrics are switched off: `hint` says how to turn them on
    NOTE = "note"  # figures are fine; something the reader should know (Ollama has no token rates)


@dataclass(frozen=True)
class Quantiles:
    """Percentiles of one latency over the window (the `histogram_quantile` estimate).

    All None when the window saw no new observation: "nothing happened" is not "0 s".
    `mean` is Δsum/Δcount, exact where the quantiles are interpolated; some servers give only it
    (llama.cpp's and Triton's cumulative time counters).
    """

    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    mean: float | None = None
    count: float | None = None  # observations in the window

    @property
    def empty(self) -> bool:
        return self.p50 is None and self.p95 is None and self.p99 is None and self.mean is None

    def to_json(self, *, detail: bool = False) -> dict[str, float | None]:
        out = {"p50": _num(self.p50), "p95": _num(self.p95)}
        if detail:
            out.update(p99=_num(self.p99), mean=_num(self.mean), count=_num(self.count))
        return out


NO_QUANTILES = Quantiles()


@dataclass(frozen=True)
class LoadedModel:
    """One model Ollama holds in memory (its /api/ps entry)."""

    name: str
    size_bytes: int | None = None  # weights + KV cache as Ollama counts them
    vram_bytes: int | None = None  # the part in GPU memory (`size_vram`); on the Spark's unified memory, the GPU's share
    context_length: int | None = None  # the context it was loaded with
    expires_at: str | None = None  # when Ollama unloads it, as reported (RFC 3339)
    expires_in_s: float | None = None  # seconds from the scrape to `expires_at` (centuries when kept forever); None when unparsable
    parameter_size: str | None = None  # "8.0B"
    quantization: str | None = None  # "Q4_K_M"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "size_bytes": self.size_bytes,
            "vram_bytes": self.vram_bytes,
            "context_length": self.context_length,
            "expires_at": self.expires_at,
            "expires_in_s": _num(self.expires_in_s),
            "parameter_size": self.parameter_size,
            "quantization": self.quantization,
        }


@dataclass(frozen=True)
class InferenceFigures:
    """One server's load over the last window. `sources` names where each figure came from."""

    name: str
    url: str = field(repr=False)  # may hold credentials: `display_url` for showing
    engine: str | None = None  # "vllm", "sglang", "llamacpp", "tei", "tgi", "triton", "nim", "trtllm", "ollama"
    model: str | None = None  # the served model(s), ", "-joined when several
    running: float | None = None  # requests being computed now
    waiting: float | None = None  # requests queued behind them
    kv_cache_usage: float | None = None  # 0–1, the fullest engine/rank
    prompt_tokens_per_s: float | None = None
    generation_tokens_per_s: float | None = None
    ttft: Quantiles = NO_QUANTILES  # time to first token, seconds
    itl: Quantiles = NO_QUANTILES  # inter-token latency, seconds
    e2e: Quantiles = NO_QUANTILES  # whole request, seconds
    requests_per_s: float | None = None  # finished requests
    preemptions_per_s: float | None = None
    prefix_cache_hit_rate: float | None = None  # 0–1 over the window
    # figure name -> where it came from: "vLLM /metrics (vllm:prompt_tokens_total)". A figure with a
    # source and a None value is exposed but had nothing to say in the window (no request finished).
    sources: Mapping[str, str] = field(default_factory=lambda: _EMPTY, hash=False)
    problem: str | None = None
    problem_kind: ProblemKind | None = None
    hint: str | None = None  # how to turn the metrics on, when they are off
    loaded_models: tuple[LoadedModel, ...] = ()  # Ollama only
    window_s: float | None = None  # seconds the rates cover; None after the first scrape
    scraped_at: float | None = None  # monotonic seconds of the newest scrape

    @property
    def display_url(self) -> str:
        return redact_url(self.url)

    @property
    def ok(self) -> bool:
        """Figures are usable (a note is not a failure)."""
        return self.problem_kind in (None, ProblemKind.NOTE)

    def to_json(self, *, detail: bool = False) -> dict[str, Any]:
        """The issue's headless shape; `detail` adds the figures the UI shows besides."""
        out: dict[str, Any] = {
            "name": self.name,
            "url": self.display_url,
            "engine": self.engine,
            "model": self.model,
            "running": _num(self.running),
            "waiting": _num(self.waiting),
            "kv_cache_usage": _num(self.kv_cache_usage),
            "prompt_tokens_per_s": _num(self.prompt_tokens_per_s),
            "generation_tokens_per_s": _num(self.generation_tokens_per_s),
            "ttft": self.ttft.to_json(detail=detail),
            "itl": self.itl.to_json(detail=detail),
            "sources": dict(self.sources),
            "problem": self.problem,
        }
        if detail:
            out.update(
                e2e=self.e2e.to_json(detail=True),
                requests_per_s=_num(self.requests_per_s),
                preemptions_per_s=_num(self.preemptions_per_s),
                prefix_cache_hit_rate=_num(self.prefix_cache_hit_rate),
                problem_kind=self.problem_kind.value if self.problem_kind else None,
                hint=self.hint,
                loaded_models=[model.to_json() for model in self.loaded_models],
                window_s=_num(self.window_s),
            )
        return out


def _num(value: float | None) -> float | None:
    """JSON has no NaN or infinity: a figure that is not a finite number is absent."""
    if value is None or not math.isfinite(value):
        return None
    return value
