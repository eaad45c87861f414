"""Ollama: no metrics endpoint, so `GET /api/ps` (api/types.go ProcessResponse) is all there is.

It lists the loaded models: name, size, `size_vram`, `context_length` (newer builds),
`expires_at` and details. It says nothing about requests, tokens or latency, and the figures
say so plainly instead of showing zeros.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from spark_tui.models.inference import LoadedModel

NO_RATES_NOTE = (
    "Ollama exposes no token rates, latencies or queue lengths: /api/ps lists the loaded models only"
)


class OllamaError(ValueError):
    """/api/ps answered something other than its JSON; the message is one line."""


@dataclass(frozen=True)
class OllamaPs:
    models: tuple[LoadedModel, ...]


def looks_like_ps(body: bytes) -> bool:
    """True for an /api/ps answer (a JSON object with a "models" list): used to recognise Ollama."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(data, dict) and isinstance(data.get("models"), list)


def parse_ps(body: bytes, *, now_wall: float, text: Callable[[object], str] = str) -> OllamaPs:
    """The loaded models of an /api/ps body. `text` cleans every string the server sent."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise OllamaError("/api/ps did not answer JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        raise OllamaError('/api/ps answered JSON without a "models" list')
    models = []
    for entry in data["models"]:
        if not isinstance(entry, dict):
            continue
        name = entry.get("name") or entry.get("model")
        if not isinstance(name, str) or not name:
            continue
        details = entry.get("details") if isinstance(entry.get("details"), dict) else {}
        expires_at = entry.get("expires_at") if isinstance(entry.get("expires_at"), str) else None
        models.append(LoadedModel(
            name=text(name),
            size_bytes=_int(entry.get("size")),
            vram_bytes=_int(entry.get("size_vram")),
            context_length=_int(entry.get("context_length")) or None,  # 0: a build without the field's value
            expires_at=text(expires_at) if expires_at else None,
            expires_in_s=_seconds_until(expires_at, now_wall),
            parameter_size=_str(details.get("parameter_size"), text),
            quantization=_str(details.get("quantization_level"), text),
        ))
    return OllamaPs(tuple(models))


def _int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _str(value: object, text: Callable[[object], str]) -> str | None:
    return text(value) if isinstance(value, str) and value else None


def _seconds_until(stamp: str | None, now_wall: float) -> float | None:
    """Seconds from `now_wall` to Go's RFC 3339 time; None for Go's zero time or unparsable text.

    A model kept forever (keep_alive < 0) shows an expiry centuries away: that number stands.
    """
    if not stamp:
        return None
    try:
        when = datetime.fromisoformat(stamp)  # 3.11 reads Go's "Z" and 9-digit fractions
    except ValueError:
        return None
    if when.tzinfo is None or when.year <= 1:
        return None
    return when.timestamp() - now_wall
