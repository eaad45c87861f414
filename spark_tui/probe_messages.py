"""Facts from the probe engine, in the past tense, posted to the app."""

from __future__ import annotations

from textual.message import Message

from spark_tui.models.probes import ProbeEvent


class ProbesReported(Message):
    """Checks finished (and probes came or went) since the last report: the engine's events,
    gathered for a moment so fifty probes make a few messages a second, not fifty."""

    def __init__(self, events: tuple[ProbeEvent, ...]) -> None:
        super().__init__()
        self.events = events
