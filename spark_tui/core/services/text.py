"""Probe results in words and glyphs, shared by the headless commands and the Services views.

Pure text: no Textual, no Rich markup. Colours are chosen by the views from `STATE_ROLE`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from spark_tui.core import format as fmt
from spark_tui.models.probes import DetailValue, ProbeResult, ProbeSpec, ProbeState, ProbeStatus, ServedModel

LEVELS = "▁▂▃▄▅▆▇█"
GAP = "·"  # a check that got no answer

STATE_ROLE = {  # theme roles (ThemeColors) per state
    ProbeState.UP: "success",
    ProbeState.DEGRADED: "warning",
    ProbeState.DOWN: "error",
    ProbeState.UNKNOWN: "dim",
}
STATE_MARK = {ProbeState.UP: "●", ProbeState.DEGRADED: "▲", ProbeState.DOWN: "✖", ProbeState.UNKNOWN: "○"}

DETAIL_LABELS = {
    "max_client_batch_size": "max batch size",
    "max_batch_tokens": "max batch tokens",
    "max_concurrent_requests": "max concurrent requests",
    "max_input_length": "max input length",
    "max_batch_requests": "max batch requests",
    "max_model_len": "max model length",
    "models_available": "models available",
    "models_loaded": "models loaded",
    "loaded_gpu_bytes": "loaded in GPU",
    "model_type": "model type",
}


def latency(value: float | None) -> str:
    """"0.4 ms", "12 ms", "1.43 s"; n/a without an answer."""
    if value is None:
        return fmt.NA
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def coarse_latency(value: float | None) -> str:
    """Whole milliseconds for the compact panel, so its text changes only when it matters."""
    if value is None:
        return "—"
    if value >= 1000:
        return f"{value / 1000:.1f} s"
    return "<1 ms" if value < 1 else f"{value:.0f} ms"


def ago(seconds: float | None) -> str:
    """"just now", "40s ago", "5m ago", "3h ago", "2d ago": coarse, so the text rarely changes."""
    if seconds is None:
        return ""
    if seconds < 10:
        return "just now"
    if seconds < 60:
        return f"{int(seconds) // 10 * 10}s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)}m ago"
    if seconds < 86_400:
        return f"{int(seconds // 3600)}h ago"
    return f"{int(seconds // 86_400)}d ago"


def for_how_long(seconds: float | None) -> str:
    """"for 40s", "for 5m": how long a state has lasted, coarse like `ago`."""
    text = ago(seconds)
    if not text or text == "just now":
        return ""
    return "for " + text.removesuffix(" ago")


def sparkline(latencies: Sequence[float | None], width: int) -> str:
    """The last `width` checks, each a block scaled to the highest answer in view; a check
    without an answer is a gap. Shorter histories are padded on the left."""
    if width <= 0:
        return ""
    recent = list(latencies)[-width:]
    answered = [v for v in recent if v is not None]
    top = max(answered, default=0.0)
    cells = []
    for value in recent:
        if value is None:
            cells.append(GAP)
        elif top <= 0:
            cells.append(LEVELS[0])
        else:
            cells.append(LEVELS[max(0, min(len(LEVELS) - 1, math.ceil(value / top * len(LEVELS)) - 1))])
    return " " * (width - len(cells)) + "".join(cells)


def describe_service(result: ProbeResult) -> str:
    """Model and version in one cell: "Qwen/Qwen3-Embedding-8B · v0.10.1 · 3.2 GiB in GPU"."""
    parts = []
    if result.model:
        parts.append(result.model)
    if result.version:
        parts.append(f"v{result.version}" if result.version[:1].isdigit() else result.version)
    loaded = result.details.get("loaded_gpu_bytes")
    if isinstance(loaded, int) and not isinstance(loaded, bool):
        parts.append(f"{fmt.size(loaded)} in GPU")
    device = result.details.get("device")
    if isinstance(device, str):
        parts.append(device)
    auth = result.details.get("auth")  # Redis answered -NOAUTH: alive, behind a password
    if isinstance(auth, str):
        parts.append(auth)
    return " · ".join(parts)


def source(spec: ProbeSpec) -> str:
    """Where a probe comes from: "config", or the container it was discovered on."""
    if spec.origin == "discovered":
        return f"container {spec.container}" if spec.container else "discovered"
    return "config"


def problem(status: ProbeStatus, now: float) -> str:
    """The current error, or the last one and when (empty when there never was one)."""
    result = status.result
    if result is not None and result.error and status.state is not ProbeState.UP:
        return result.error
    if status.last_error:
        when = ago(now - status.last_error_at) if status.last_error_at is not None else ""
        return f"last: {status.last_error}" + (f" · {when}" if when else "")
    return ""


def detail_value(key: str, value: DetailValue) -> str:
    if key.endswith("_bytes") and isinstance(value, int) and not isinstance(value, bool):
        return fmt.size(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def detail_label(key: str) -> str:
    return DETAIL_LABELS.get(key, key.replace("_", " "))


def model_line(model: ServedModel) -> str:
    """One served model: "llama3.1:8b  loaded · 6.2 GiB in GPU · 8.0B Q4_K_M · ctx 4,096"."""
    parts = []
    if model.loaded is True:
        parts.append("loaded")
    elif model.loaded is False:
        parts.append("not loaded")
    if model.gpu_bytes is not None:
        parts.append(f"{fmt.size(model.gpu_bytes)} in GPU")
    elif model.size_bytes is not None:
        parts.append(fmt.size(model.size_bytes))
    size = " ".join(p for p in (model.parameter_size, model.quantization) if p)
    if size:
        parts.append(size)
    if model.context_length:
        parts.append(f"ctx {model.context_length:,}")
    return " · ".join(parts)


def latency_summary(latencies: Sequence[float | None]) -> str:
    """"median 2.1 ms · p95 3.4 ms · max 9.8 ms · 2 of 60 unanswered"."""
    answered = sorted(v for v in latencies if v is not None)
    missing = len(latencies) - len(answered)
    if not answered:
        return f"no answers in the last {len(latencies)} checks" if latencies else "not checked yet"
    def pick(q: float) -> float:
        return answered[min(len(answered) - 1, int(q * (len(answered) - 1) + 0.5))]
    text = f"median {latency(pick(0.5))} · p95 {latency(pick(0.95))} · max {latency(answered[-1])}"
    text += f" · over {len(latencies)} checks"
    if missing:
        text += f" · {missing} unanswered"
    return text
