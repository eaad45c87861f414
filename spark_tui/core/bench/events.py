"""Benchmark events as JSON lines, for a run in another process (the dashboard's child runner,
`spark-tui bench … --events`): one line per event, `{"type": "Tick", "event": {…}}`.

RequestsFinished never crosses the pipe as records: `digest()` folds it into counts first
(requests.jsonl on disk keeps every record).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, get_args

import msgspec

from spark_tui.core.bench.plan import BenchPlan
from spark_tui.models.bench import (
    BenchEvent,
    LiveEvent,
    RequestsDigest,
    RequestsFinished,
)

EVENT_TYPES: dict[str, type] = {cls.__name__: cls for cls in get_args(LiveEvent)}  # every event a live view can get


class EventLineError(ValueError):
    """A line that is not an event: the message says what was wrong."""


class _Envelope(msgspec.Struct):
    type: str
    event: msgspec.Raw


_encoder = msgspec.json.Encoder()
_envelope = msgspec.json.Decoder(_Envelope)
_decoders = {name: msgspec.json.Decoder(cls) for name, cls in EVENT_TYPES.items()}


def digest(event: RequestsFinished) -> RequestsDigest:
    """The counts a live view needs from a batch of finished requests."""
    requests = ok = items = warmup = 0
    errors: Counter[str] = Counter()
    first: dict[str, str] = {}
    newest = 0.0
    for record in event.records:
        newest = max(newest, record.t)
        if record.warmup:
            warmup += 1
            continue
        requests += 1
        if record.ok:
            ok += 1
            items += record.items
        else:
            error = record.error or "bad_response"
            errors[error] += 1
            if error not in first and record.message:
                first[error] = record.message
    return RequestsDigest(event.cell, newest, requests, ok, items, warmup, dict(errors), first)


def live(event: BenchEvent | LiveEvent) -> LiveEvent:
    return digest(event) if isinstance(event, RequestsFinished) else event


def encode_event(event: BenchEvent | LiveEvent) -> bytes:
    """One line (ending in a newline) for the event; RequestsFinished is digested first."""
    event = live(event)
    return b'{"type":"%s","event":%s}\n' % (type(event).__name__.encode(), _encoder.encode(event))


def decode_event(line: bytes) -> LiveEvent:
    try:
        envelope = _envelope.decode(line)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise EventLineError(f"not an event line ({exc}): {line[:80]!r}") from None
    decoder = _decoders.get(envelope.type)
    if decoder is None:
        raise EventLineError(f"unknown event type {envelope.type!r}")
    try:
        return decoder.decode(envelope.event)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise EventLineError(f"malformed {envelope.type} event: {exc}") from None


@dataclass(frozen=True)
class StreamRequest:
    """What the dashboard hands its child runner on the first line of stdin (never on the command
    line: headers may carry tokens, and argv is visible to every user in /proc)."""

    plan: BenchPlan
    results_dir: str | None = None
    demo: bool = False  # the dashboard simulates a Spark: record memory only, no GPU readings
    environment: dict[str, Any] = field(default_factory=dict)  # recorded in run.json


def encode_request(request: StreamRequest) -> bytes:
    return _encoder.encode(request) + b"\n"


def decode_request(line: bytes) -> StreamRequest:
    try:
        return msgspec.json.decode(line, type=StreamRequest)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise EventLineError(f"cannot read the run request: {exc}") from None
