"""What the Services views draw from: every probe's latest status, its recent errors, and what
changed since the views last drew. Plain Python, changed only on the UI thread."""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from spark_tui.models.probes import ProbeAdded, ProbeChecked, ProbeEvent, ProbeRemoved, ProbeState, ProbeStatus, StateChange

RECENT_ERRORS = 10
CALM_S = 30.0  # a probe that changed state this recently is flapping: its next changes stay quiet
NOTICE_LINES = 4  # lines of one notice; more changes at once are counted


# Problems first, wherever services are listed (the panel and the Services screen alike).
ORDER = {ProbeState.DOWN: 0, ProbeState.DEGRADED: 1, ProbeState.UNKNOWN: 2, ProbeState.UP: 3}


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


@dataclass(frozen=True)
class Notice:
    """One toast for a batch of state changes."""

    text: str
    state: ProbeState  # the most serious state it reports (its severity)


_SERIOUSNESS = (ProbeState.UNKNOWN, ProbeState.UP, ProbeState.DEGRADED, ProbeState.DOWN)


class ChangeNotices:
    """Which state changes pop up, so a flapping service cannot flood the screen.

    The changes of one batch make one notice. A probe that changed within the last `calm_s`
    seconds changes again quietly (its row shows it); once it has kept one state for `calm_s`,
    one notice says where it settled. Times are the changes' own (`StateChange.at`) and `now`.
    """

    def __init__(self, calm_s: float = CALM_S) -> None:
        self.calm_s = calm_s
        self._changed_at: dict[str, float] = {}  # the latest change of each probe
        self._quiet: dict[str, int] = {}  # flapping probes: changes not shown since the last notice

    def take(self, changes: Iterable[StateChange], statuses: dict[str, ProbeStatus], now: float) -> Notice | None:
        lines: list[tuple[ProbeState, str]] = []
        for name in [n for n in self._changed_at if n not in statuses]:  # removed probes
            del self._changed_at[name]
            self._quiet.pop(name, None)
        for change in changes:
            last = self._changed_at.get(change.name)
            self._changed_at[change.name] = change.at
            if last is not None and change.at - last < self.calm_s:
                self._quiet[change.name] = self._quiet.get(change.name, 0) + 1
            else:
                lines.append((change.current, change.describe()))
        for name, quiet in list(self._quiet.items()):
            status = statuses.get(name)
            if status is not None and now - self._changed_at[name] >= self.calm_s:
                del self._quiet[name]
                lines.append((status.state, _settled(status, quiet, self.calm_s)))
        if not lines:
            return None
        text = "\n".join(line for _, line in lines[:NOTICE_LINES])
        if len(lines) > NOTICE_LINES:
            text += f"\n… and {len(lines) - NOTICE_LINES} more"
        return Notice(text, max((state for state, _ in lines), key=_SERIOUSNESS.index))


def _settled(status: ProbeStatus, quiet: int, calm_s: float) -> str:
    """"vllm settled: down for 30 s (connection refused) after 6 changes"."""
    result = status.result
    why = f" ({result.error})" if result is not None and result.error and status.state is not ProbeState.UP else ""
    return f"{status.name} settled: {status.state.value} for {calm_s:.0f} s{why} after {quiet + 1} changes"
