"""What the Services views draw from: every probe's latest status, its recent errors, and what
changed since the views last drew. Plain Python, changed only on the UI thread."""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from spark_tui.models.probes import ProbeAdded, ProbeChecked, ProbeEvent, ProbeRemoved, ProbeState, ProbeStatus, StateChange

RECENT_ERRORS = 10


@dataclass(frozen=True)
class ErrorEntry:
    at: float  # wall clock
    state: ProbeState
    error: str


class ProbesState:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.statuses: dict[str, ProbeStatus] = {}
        self.errors: dict[str, deque[ErrorEntry]] = {}
        self.checking: set[str] = set()  # asked to check now; cleared by the next report
        self.dirty: set[str] = set()  # probes whose rows need drawing
        self.reported = False  # a first report arrived (an empty table means "no probes", not "starting")

    def now(self) -> float:
        return self.clock()

    def apply(self, events: Iterable[ProbeEvent]) -> list[StateChange]:
        """Take the engine's events; returns the state changes worth a notification (one each)."""
        changes = []
        self.reported = True
        for event in events:
            if isinstance(event, ProbeRemoved):
                self.statuses.pop(event.name, None)
                self.errors.pop(event.name, None)
                self.checking.discard(event.name)
                self.dirty.add(event.name)
                continue
            status = event.status
            name = status.name
            if isinstance(event, ProbeAdded):
                self.errors[name] = deque(maxlen=RECENT_ERRORS)
                if status.last_error and status.last_error_at is not None:
                    self.errors[name].append(ErrorEntry(status.last_error_at, status.state, status.last_error))
            elif isinstance(event, ProbeChecked):
                self.checking.discard(name)
                self._note_error(status)
                if event.change is not None:
                    changes.append(event.change)
            self.statuses[name] = status
            self.dirty.add(name)
        return changes

    def _note_error(self, status: ProbeStatus) -> None:
        result = status.result
        if result is None or not result.error:
            return
        recent = self.errors.setdefault(status.name, deque(maxlen=RECENT_ERRORS))
        if recent and recent[-1].error == result.error and recent[-1].state is result.state:
            return  # the same problem again: one entry, not one per check
        recent.append(ErrorEntry(result.checked_at, result.state, result.error))

    def counts(self) -> Counter[ProbeState]:
        return Counter(status.state for status in self.statuses.values())

    def summary(self) -> str:
        """"5 up · 2 degraded · 1 down" (states with none left out); "no probes"."""
        if not self.statuses:
            return "no probes"
        counts = self.counts()
        order = (ProbeState.UP, ProbeState.DEGRADED, ProbeState.DOWN, ProbeState.UNKNOWN)
        words = {ProbeState.UNKNOWN: "not checked yet"}
        return " · ".join(f"{counts[s]} {words.get(s, s.value)}" for s in order if counts[s])

    def take_dirty(self) -> set[str]:
        dirty, self.dirty = self.dirty, set()
        return dirty
