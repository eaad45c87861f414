"""The app's model servers: which to watch, scraping them, their figures and their history.

Targets: the config's [[inference]] entries plus the probed services whose preset is an
inference engine (re-planned when the probe set changes), or the demo's vLLM and Ollama.
Nothing runs while no server is known. Scraping is an async worker on the app's loop: each
server's GET goes through its own keep-alive LeanHttp connection (https through httpx), the
page is parsed in a worker thread (core.inference.scrape), and one `InferenceSampled` per round
carries every server's figures to `handle()` on the UI thread, which keeps the history the
graphs draw and says whether anything a reader sees changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import base64
import dataclasses
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from spark_tui.core.inference.scrape import InferenceTarget, InferenceTracker, scrape
from spark_tui.core.inference.targets import plan_targets
from spark_tui.core.machine.history import History
from spark_tui.models.inference import InferenceFigures
from spark_tui.models.probes import ProbeSpec
from spark_tui.models.settings import InferenceConfig
from spark_tui.ui.changes import Changed, Host
from spark_tui.ui.messages import InferenceSampled

if TYPE_CHECKING:
    from spark_tui.core.demo.inference import DemoInference
    from spark_tui.core.net.lean_http import LeanHttp

MAX_BODY_BYTES = 32 * 1024 * 1024
USER_AGENT = "spark-tui"
# The series each server keeps, by key suffix: what the graphs of the `i` screen draw.
TOTAL_GENERATION = "total.gen"
SERIES = ("gen", "prompt", "running", "waiting", "kv", "ttft50", "ttft95", "itl50", "itl95")


def engine_of(kind: str) -> str | None:
    from spark_tui.core.services.presets import ENGINE_PRESETS

    preset = ENGINE_PRESETS.get(kind)
    return preset.engine if preset is not None else None


class _Progress:
    """What LeanHttp reports how far a request got into (unused here beyond its contract)."""

    phase = ""
    received = 0


def _timeout(target: InferenceTarget) -> float:
    return max(1.0, min(target.interval, 5.0))


def _shown(figures: InferenceFigures) -> InferenceFigures:
    """The figures without their timestamps: equal when a reader would see the same."""
    return dataclasses.replace(figures, scraped_at=None, window_s=None)


class InferenceController:
    def __init__(self, host: Host, configured: Sequence[InferenceConfig] = (), *, demo: DemoInference | None = None,
                 span: float = 300.0) -> None:
        self.host = host
        self._configured = tuple(configured)
        self.demo = demo
        self.history = History(span=span, interval=1.0)
        self.targets: dict[str, InferenceTarget] = {}
        self.trackers: dict[str, InferenceTracker] = {}
        self.figures: dict[str, InferenceFigures] = {}
        self.sampled_at: float | None = None  # wall-clock seconds of the newest round
        self._clients: dict[str, Any] = {}
        self._due: dict[str, float] = {}
        self._wake: asyncio.Event | None = None
        self._started = False
        self._running = False
        self.paused = False
        self._stopped = False
        self.set_targets(demo.targets() if demo is not None else plan_targets((), self._configured, engine_of))

    # -- which servers -----------------------------------------------------------------------------

    @property
    def known(self) -> bool:
        return bool(self.targets)

    def set_targets(self, targets: Iterable[InferenceTarget]) -> bool:
        """Watch these; True when the set changed. A server kept keeps its scrapes."""
        wanted = {target.name: target for target in targets}
        if wanted == self.targets:
            return False
        for name in set(self.targets) - set(wanted):
            self.trackers.pop(name, None)
            self.figures.pop(name, None)
            self._due.pop(name, None)
            client = self._clients.pop(name, None)
            if client is not None and hasattr(client, "close"):
                client.close()
        for name, target in wanted.items():
            if self.targets.get(name) != target:
                self.trackers[name] = InferenceTracker(target)
                self.figures.pop(name, None)
                self._due[name] = 0.0
        self.targets = wanted
        if self._started and wanted and not self._running:
            self._start_worker()
        if self._wake is not None:
            self._wake.set()
        return True

    def probes_changed(self, specs: Iterable[ProbeSpec]) -> Changed:
        """The probe set changed (configured + discovered): re-plan the engine services among them."""
        if self.demo is not None or self._stopped:
            return Changed.NOTHING
        changed = self.set_targets(plan_targets(specs, self._configured, engine_of))
        return Changed.INFERENCE if changed else Changed.NOTHING

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        self.host.call_after_refresh(self._start)

    def _start(self) -> None:
        if self._stopped:
            return
        self._started = True
        if self.targets and not self._running:
            self._start_worker()

    def _start_worker(self) -> None:
        self._running = True
        self.host.run_worker(self._run(), name="inference servers", group="inference", exit_on_error=False)

    def pause(self, paused: bool) -> None:
        """Stop or restart scraping with the machine's sampling (`p`)."""
        self.paused = paused
        if not paused and self._wake is not None:
            self._wake.set()

    def stop(self) -> None:
        self._stopped = True
        if self._wake is not None:
            self._wake.set()
        for client in self._clients.values():
            if hasattr(client, "close"):
                client.close()
        self._clients.clear()

    async def _run(self) -> None:
        self._wake = asyncio.Event()
        try:
            while not self._stopped and self.targets:
                if self.paused:  # sampling paused (p): the graphs keep what they have, nothing wakes
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                now = time.monotonic()
                due = [name for name, at in self._due.items() if at <= now]
                if due:
                    await self.poll(due)
                    continue
                wait = min(self._due.values(), default=now + 1.0) - now
                self._wake.clear()
                with contextlib.suppress(TimeoutError):  # the next server is due: the normal way out
                    async with asyncio.timeout(max(0.01, wait)):
                        await self._wake.wait()
        finally:
            self._running = False

    # -- scraping ----------------------------------------------------------------------------------

    async def poll(self, names: Sequence[str] | None = None) -> tuple[InferenceFigures, ...]:
        """Scrape the named servers (default: all) at once; post their figures as one message."""
        names = [name for name in (names if names is not None else list(self.targets)) if name in self.trackers]
        now = time.monotonic()
        for name in names:
            # On the server's grid (its last due time + interval): servers of one interval stay due
            # together, one wake-up and one message a round, and a slow round does not drift them.
            interval = self.targets[name].interval
            due = self._due.get(name, 0.0) + interval
            self._due[name] = due if now < due <= now + interval else now + interval
        results = await asyncio.gather(*(self._poll_one(name) for name in names))
        figures = tuple(result for result in results if result is not None)
        if figures and not self._stopped:
            self.host.post_message(InferenceSampled(figures))
        return figures

    async def _poll_one(self, name: str) -> InferenceFigures | None:
        tracker = self.trackers[name]
        target = tracker.target
        found = await scrape(target, self._fetch_for(name, target), engine_hint=tracker.engine_hint,
                             timeout=_timeout(target))
        if self.demo is not None:  # the demo's own clock: its counters and its GPU follow it
            found = dataclasses.replace(found, at=self.demo.clock(), wall=self.demo.wall_clock())
        if self.trackers.get(name) is not tracker:
            return None  # dropped (or replaced) while it was scraped
        figures = tracker.add(found)
        return dataclasses.replace(figures, scraped_at=found.wall)  # wall-clock: the graphs' axis

    def _fetch_for(self, name: str, target: InferenceTarget) -> Any:
        if self.demo is not None:
            demo = self.demo

            async def demo_fetch(url: str) -> tuple[int, bytes]:
                return demo.fetch(url)

            return demo_fetch
        if urlsplit(target.url).scheme == "https":
            return self._httpx_fetch(name)
        return self._lean_fetch(name)

    def _lean_fetch(self, name: str) -> Any:
        from spark_tui.core.net.lean_http import LeanHttp, build_request

        client: LeanHttp = self._clients.get(name) or self._clients.setdefault(name, LeanHttp(max_body=MAX_BODY_BYTES))

        async def fetch(url: str) -> tuple[int, bytes]:
            parts = urlsplit(url)
            headers = {"User-Agent": USER_AGENT, "Accept": "text/plain, application/json;q=0.9, */*;q=0.5"}
            if parts.username or parts.password:
                token = base64.b64encode(f"{unquote(parts.username or '')}:{unquote(parts.password or '')}".encode())
                headers["Authorization"] = "Basic " + token.decode("ascii")
            host_header = parts.netloc.rsplit("@", 1)[-1].encode("idna")
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            request = build_request(parts.hostname or "", parts.port or 80, host_header, target.encode(), headers)
            response = await client.get(request, _Progress())
            return response.status, response.body

        return fetch

    def _httpx_fetch(self, name: str) -> Any:
        import httpx

        client = self._clients.get(name)
        if client is None:
            client = self._clients[name] = httpx.AsyncClient(trust_env=False, timeout=None)

        async def fetch(url: str) -> tuple[int, bytes]:
            response = await client.get(url)
            return response.status_code, response.content

        return fetch

    # -- figures arrive (UI thread) ------------------------------------------------------------------

    def handle(self, message: InferenceSampled) -> Changed:
        changed = Changed.NOTHING
        for figures in message.figures:
            if figures.name not in self.trackers:
                continue
            before = self.figures.get(figures.name)
            self.figures[figures.name] = figures
            at = figures.scraped_at or time.time()
            self.sampled_at = max(self.sampled_at or at, at)
            self.history.add(at, self._points(figures))
            if before is None or _shown(before) != _shown(figures):
                changed = Changed.INFERENCE
        if message.figures and self.sampled_at is not None:
            self.history.add(self.sampled_at, [(TOTAL_GENERATION, self.total_generation())])
        return changed

    @staticmethod
    def _points(figures: InferenceFigures) -> list[tuple[str, float | None]]:
        name = figures.name
        values = (figures.generation_tokens_per_s, figures.prompt_tokens_per_s, figures.running, figures.waiting,
                  None if figures.kv_cache_usage is None else figures.kv_cache_usage * 100,
                  figures.ttft.p50, figures.ttft.p95, figures.itl.p50 if figures.itl.p50 is not None else figures.itl.mean,
                  figures.itl.p95)
        return [(f"{name}.{key}", value) for key, value in zip(SERIES, values, strict=True)]

    def ordered(self) -> list[InferenceFigures | InferenceTarget]:
        """Every server, in the order of the targets: its figures once it has some, else the target."""
        return [self.figures.get(name) or target for name, target in self.targets.items()]

    def total_generation(self) -> float | None:
        rates = [f.generation_tokens_per_s for f in self.figures.values() if f.generation_tokens_per_s is not None]
        return sum(rates) if rates else None

    def sharing_servers(self) -> int:
        """Servers answering now: each may draw on the GPU whose watts the tokens are divided by."""
        return sum(1 for f in self.figures.values() if f.ok)
