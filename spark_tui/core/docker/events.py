"""The engine's container events as a blocking iterator with a clean stop from any thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from spark_tui.core.docker.engine import DockerEngine, describe_docker_error
from spark_tui.core.untrusted import clean

log = logging.getLogger(__name__)

# Events that change what the container list shows. exec_* (every healthcheck run) and
# attach/resize/top are left out at the daemon, so 200 healthchecked containers stay quiet.
LIST_EVENTS = (
    "create", "start", "restart", "stop", "die", "kill", "pause", "unpause", "destroy",
    "rename", "update", "oom", "health_status",
)


@dataclass(frozen=True)
class ContainerEvent:
    action: str  # "start", "die", "health_status: healthy", …
    container_id: str
    name: str | None = None
    time_ns: int | None = None
    attributes: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def verb(self) -> str:
        return self.action.split(":", 1)[0]


def event_from_message(message: dict[str, Any]) -> ContainerEvent | None:
    if message.get("Type", "container") != "container":
        return None
    actor = message.get("Actor") or {}
    container_id = actor.get("ID") or message.get("id")
    action = message.get("Action") or message.get("status")
    if not container_id or not action:
        return None
    # Attributes carry the container's labels and name: whoever made it chose them.
    attributes = {clean(str(key)): clean(str(value)) for key, value in (actor.get("Attributes") or {}).items()}
    return ContainerEvent(
        action=clean(str(action)),
        container_id=str(container_id),
        name=attributes.get("name"),
        time_ns=message.get("timeNano"),
        attributes=attributes,
    )


class EventStream:
    """`for event in EventStream(engine): …` blocks until the next event.

    The iteration ends when `close()` is called (from any thread) or the engine goes away;
    `error` then says why (None after close()). Raises DockerUnavailable if it cannot start.
    """

    def __init__(self, engine: DockerEngine, actions: tuple[str, ...] = LIST_EVENTS) -> None:
        self.engine = engine
        self.error: Exception | None = None
        self._closed = threading.Event()
        filters = {"type": ["container"], "event": list(actions)}
        self._stream: Any = engine.call(lambda c: c.api.events(decode=True, filters=filters))

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def __iter__(self) -> Iterator[ContainerEvent]:
        try:
            for message in self._stream:
                if self._closed.is_set():
                    return
                event = event_from_message(message)
                if event is not None:
                    yield event
        except Exception as exc:  # the connection broke mid-read
            if not self._closed.is_set():
                self.error = describe_docker_error(exc, self.engine.host, self.engine.timeout)
            return
        if not self._closed.is_set():
            self.error = describe_docker_error(ConnectionResetError("the event stream ended"), self.engine.host)

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        try:
            self._stream.close()
        except Exception as exc:
            log.debug("closing the events stream: %r", exc)  # already broken: the reader ends either way
