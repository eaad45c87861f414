"""Docker failures as the user reads them, and the one-action-per-container gate.

Kept free of the Docker SDK so the screens and the demo can name them without importing it
(the SDK costs ~150 ms, which the dashboard's first frame should not wait for).
"""

from __future__ import annotations

import threading


class DockerUnavailable(Exception):
    """The engine cannot be reached; `reason` and `hint` are written for the user."""

    def __init__(self, host: str, reason: str, hint: str | None = None) -> None:
        super().__init__(f"{reason} — {hint}" if hint else reason)
        self.host = host
        self.reason = reason
        self.hint = hint


class ContainerActionError(Exception):
    """An action the engine refused, in its own words ("port is already allocated")."""


class ActionGate:
    """At most one action per container at a time: a second key press does not queue a second stop."""

    def __init__(self) -> None:
        self._busy: set[str] = set()
        self._lock = threading.Lock()

    def try_enter(self, container_id: str) -> bool:
        with self._lock:
            if container_id in self._busy:
                return False
            self._busy.add(container_id)
            return True

    def leave(self, container_id: str) -> None:
        with self._lock:
            self._busy.discard(container_id)

    def busy(self, container_id: str) -> bool:
        with self._lock:
            return container_id in self._busy
