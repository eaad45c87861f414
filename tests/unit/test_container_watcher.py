"""ContainerWatcher against a fake engine: bursts coalesce, destroy needs no inspect, failures recover."""

import queue
import threading

import docker.errors

from spark_tui.models.containers import ContainerListing, EngineStatus
from spark_tui.core.docker.watcher import ContainerWatcher
from spark_tui.core.docker.engine import Backoff, DockerUnavailable


class FakeEvents:
    def __init__(self) -> None:
        self.items: queue.Queue = queue.Queue()

    def __iter__(self):
        while True:
            item = self.items.get(timeout=10)
            if item is None:
                return
            yield item

    def close(self) -> None:
        self.items.put(None)


class FakeApi:
    def __init__(self) -> None:
        self.containers_by_id: dict[str, dict] = {}
        self.inspected: list[str] = []
        self.streams: list[FakeEvents] = []

    def add(self, cid: str, state: str = "running") -> None:
        self.containers_by_id[cid] = {"Id": cid, "Names": [f"/{cid[:4]}"], "State": state, "Status": "Up", "Image": "i"}

    def containers(self, all: bool) -> list[dict]:
        return list(self.containers_by_id.values())

    def inspect_container(self, cid: str) -> dict:
        self.inspected.append(cid)
        entry = self.containers_by_id.get(cid)
        if entry is None:
            raise docker.errors.NotFound("gone")
        return {"Id": cid, "Name": entry["Names"][0], "State": {"Status": entry["State"]}, "Config": {"Image": "i"}}

    def events(self, decode: bool, filters: dict) -> FakeEvents:
        assert "exec_start" not in filters["event"]
        stream = FakeEvents()
        self.streams.append(stream)
        return stream


class FakeEngine:
    host = "unix:///fake.sock"
    timeout = 1.0

    def __init__(self) -> None:
        self.api = FakeApi()
        self.down_times = 0
        self.status = EngineStatus("connecting", self.host)

    def call(self, fn):
        if self.down_times:
            self.down_times -= 1
            self.status = EngineStatus("down", self.host, reason="no Docker daemon at unix:///fake.sock")
            raise DockerUnavailable(self.host, "no Docker daemon at unix:///fake.sock")
        self.status = EngineStatus("up", self.host, version="x")
        return fn(self)

    def set_retry_in(self, delay: float) -> EngineStatus:
        self.status = EngineStatus("down", self.host, reason="no Docker daemon", retry_in=delay)
        return self.status

    def mark_down(self, problem, retry_in=None) -> EngineStatus:
        self.status = EngineStatus("down", self.host, reason=str(problem))
        return self.status


def event(action: str, cid: str) -> dict:
    return {"Type": "container", "Action": action, "Actor": {"ID": cid, "Attributes": {}}}


def start(watcher: ContainerWatcher) -> tuple[queue.Queue[ContainerListing], threading.Thread]:
    listings: queue.Queue[ContainerListing] = queue.Queue()
    thread = threading.Thread(target=watcher.run, args=(listings.put,), daemon=True)
    thread.start()
    return listings, thread


def test_a_burst_of_events_becomes_one_update_and_destroy_is_not_inspected() -> None:
    engine = FakeEngine()
    engine.api.add("a" * 64)
    watcher = ContainerWatcher(engine, reconcile_s=3600, coalesce_s=0.2)
    listings, thread = start(watcher)
    first = listings.get(timeout=5)
    assert [c.id for c in first.containers] == ["a" * 64]
    stream = engine.api.streams[-1]
    for n in range(50):
        cid = f"{n:064d}"
        engine.api.add(cid)
        stream.items.put(event("start", cid))
    engine.api.inspected.clear()
    burst = listings.get(timeout=5)
    assert len(burst.changed) == 50 and len(burst.containers) == 51
    assert listings.empty()
    del engine.api.containers_by_id["a" * 64]
    stream.items.put(event("destroy", "a" * 64))
    gone = listings.get(timeout=5)
    assert gone.removed == frozenset({"a" * 64}) and "a" * 64 not in engine.api.inspected[50:]
    watcher.stop()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_engine_down_at_start_retries_with_backoff_and_recovers() -> None:
    engine = FakeEngine()
    engine.api.add("a" * 64)
    engine.down_times = 2
    watcher = ContainerWatcher(engine, backoff=Backoff(first=0.05, cap=0.1))
    listings, thread = start(watcher)
    down = listings.get(timeout=5)
    assert not down.complete and down.engine.state == "down" and down.engine.retry_in == 0.05
    again = listings.get(timeout=5)
    assert again.engine.retry_in == 0.1
    up = listings.get(timeout=5)
    assert up.complete and up.engine.up and len(up.containers) == 1
    watcher.stop()
    thread.join(timeout=5)


def test_stream_end_marks_the_engine_down_then_reconnects() -> None:
    engine = FakeEngine()
    engine.api.add("a" * 64)
    watcher = ContainerWatcher(engine, backoff=Backoff(first=0.05, cap=0.1))
    listings, thread = start(watcher)
    listings.get(timeout=5)
    engine.api.streams[-1].close()  # the daemon went away
    down = listings.get(timeout=5)
    assert down.engine.state == "down" and not down.complete and len(down.containers) == 1
    back = listings.get(timeout=5)
    assert back.engine.up and back.complete and len(engine.api.streams) == 2
    watcher.stop()
    thread.join(timeout=5)


def test_stop_while_waiting_to_retry_returns_at_once() -> None:
    engine = FakeEngine()
    engine.down_times = 100
    watcher = ContainerWatcher(engine, backoff=Backoff(first=30, cap=30))
    listings, thread = start(watcher)
    listings.get(timeout=5)
    watcher.stop()
    thread.join(timeout=2)
    assert not thread.is_alive()


def test_a_server_error_is_shown_and_retried_like_an_outage() -> None:
    engine = FakeEngine()
    engine.api.add("a" * 64)
    original = engine.api.containers
    failures = [docker.errors.APIError("500 Server Error", explanation="error during connect: EOF")]

    def flaky(all: bool) -> list[dict]:
        if failures:
            raise failures.pop()
        return original(all=all)

    engine.api.containers = flaky
    watcher = ContainerWatcher(engine, backoff=Backoff(first=0.05, cap=0.1))
    listings, thread = start(watcher)
    down = listings.get(timeout=5)
    assert down.engine.state == "down" and not down.complete
    up = listings.get(timeout=5)
    assert up.engine.up and len(up.containers) == 1
    watcher.stop()
    thread.join(timeout=5)
