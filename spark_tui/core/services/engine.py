"""The probe engine: every probe on its own cadence, concurrently, each bounded by its deadline.

    engine = ProbeEngine(specs, on_event=handle)   # handle(ProbeAdded | ProbeChecked | ProbeRemoved)
    task = asyncio.create_task(engine.run())        # on Textual's loop or a loop of its own
    engine.set_probes(new_specs)                    # discovery: others keep running untouched
    engine.stop()                                   # run() returns once every probe has stopped

A check's timeout covers all of it — connect, TLS, waiting, and the body — through one
deadline around the whole check (httpx's own timeouts are per read, so a server that dribbles
one byte a second would never trip them). A hung, slow or broken service costs its own probe
its own timeout and nothing else: each probe is a separate task with its own connection pool,
and a failure arrives as words ("connection refused", "timed out after 2.0 s waiting
for an answer", "HTTP 503", "not JSON: …", "too many redirects", "TLS: certificate verify
failed (self-signed certificate)").
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno
import functools
import importlib
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from spark_tui import __version__
from spark_tui.models.probes import ProbeAdded, ProbeEvent, ProbeRemoved, ProbeResult, ProbeSpec, ProbeState, ProbeStatus
from spark_tui.core.polling import wait_for_event
from spark_tui.core.net.lean_http import BodyTooLarge, ClosedWithoutAnswer, HttpError, LeanHttp, Request, UndecodableBody, build_request
from spark_tui.core.services.checks import Answer, Extras, Outcome, ProbeFailure
from spark_tui.core.services.presets import preset_for
from spark_tui.core.services.track import HISTORY, CheckOutput, ProbeListener, ProbeTrack, build_result

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_REDIRECTS = 5
EXTRAS_EVERY_S = 15.0  # model ids, versions and limits change rarely: fetch them this often
KEEPALIVE_S = 4.0  # under uvicorn's 5 s idle limit, so a reused connection is rarely one the server just closed
STOP_TIMEOUT_S = 2.0
USER_AGENT = f"spark-tui/{__version__} (health probe)"



# ---------------------------------------------------------------------------------------------
# errors in words


def seconds(value: float) -> str:
    """"2.0 s", "30 s", "0.25 s", "50 ms", "0.1 ms": a timeout as it was set, not rounded to nothing."""
    if value >= 10:
        return f"{value:.0f} s"
    if value >= 1:
        return f"{value:.1f} s"
    if value >= 0.1:
        return f"{value:.2g} s"
    return f"{value * 1000:.2g} ms"


def describe_error(exc: BaseException, *, host: str | None = None) -> str:
    """A transport error in words, from the most telling exception in its chain."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for error in chain:
        if isinstance(error, ssl.SSLCertVerificationError):
            reason = error.verify_message or error.reason or "unknown reason"
            return f"TLS: certificate verify failed ({reason})"
    for error in chain:
        if isinstance(error, ssl.SSLError):
            reason = (error.reason or str(error)).replace("_", " ").lower()
            hint = " (is it plain HTTP?)" if "wrong version number" in reason or "record layer failure" in reason else ""
            return f"TLS: {reason}{hint}"
    for error in chain:
        if isinstance(error, socket.gaierror):
            return f"cannot resolve host {host}" if host else "cannot resolve host"
        if isinstance(error, OSError):
            # asyncio folds the attempts on several addresses (::1, 127.0.0.1) into one
            # "Multiple exceptions: [Errno 111] …, [Errno 111] …" without an errno of its own
            codes = {error.errno} if error.errno is not None else {int(c) for c in _ERRNO_IN_TEXT.findall(str(error))}
            if len(codes) == 1 and (words := _ERRNO_WORDS.get(codes.pop())):
                return words
    if isinstance(exc, httpx.TooManyRedirects):
        return "too many redirects"
    if isinstance(exc, httpx.RemoteProtocolError):
        text = str(exc)
        if "without sending a response" in text or "peer closed connection" in text:
            return "connection closed without a response"
        if text.startswith("illegal status line"):
            return "not HTTP: the answer does not start with an HTTP status line"
        return f"not HTTP: {_first_line(text).split(': ', 1)[0]}"  # h11 adds the bytes as a Python repr
    if isinstance(exc, httpx.UnsupportedProtocol):
        return "unsupported URL scheme (use http:// or https://)"
    if isinstance(exc, httpx.DecodingError):
        return f"cannot decode the answer ({_first_line(str(exc))})"
    for error in chain:
        if isinstance(error, (ConnectionError, OSError)) and str(error):
            return _first_line(str(error))
    return _first_line(str(exc)) or type(exc).__name__


_ERRNO_WORDS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset",
    errno.ECONNABORTED: "connection aborted",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
    errno.ETIMEDOUT: "connect timed out",
    errno.EADDRNOTAVAIL: "address not available",
    errno.EPIPE: "connection closed while sending",
}


_ERRNO_IN_TEXT = re.compile(r"\[Errno (\d+)\]")


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 100 else line[:99] + "…"


# ---------------------------------------------------------------------------------------------
# HTTP clients: a pool per probe, so no probe ever waits on another's connections (and
# httpcore's pool, which scans every connection on every request, stays one connection small)

_SSL_CONTEXTS: dict[bool, ssl.SSLContext] = {}


def ssl_context(verify: bool) -> ssl.SSLContext:
    """Shared by every client: loading the CA bundle costs tens of milliseconds."""
    context = _SSL_CONTEXTS.get(verify)
    if context is None:
        context = _SSL_CONTEXTS[verify] = httpx.create_ssl_context(verify=verify, trust_env=False)
    return context


def _new_client(verify_tls: bool) -> httpx.AsyncClient:
    """An httpx client, made in a worker thread: the first one loads the CA bundle and imports
    httpcore, h11 and anyio's asyncio backend (tens of milliseconds), which on the event loop
    would stall every other probe's check and inflate its latency."""
    with contextlib.suppress(ImportError):  # anyio's backend, which httpcore imports on the first request
        importlib.import_module("anyio._backends._asyncio")
    return httpx.AsyncClient(
        verify=ssl_context(verify_tls),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        trust_env=False,  # probes target this machine and its LAN: never an HTTP proxy
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=None, keepalive_expiry=KEEPALIVE_S),
        headers={"User-Agent": USER_AGENT, "Accept": "application/json, */*;q=0.5"},
    )


class HttpClients:
    """One probe's HTTP client(s), created on first use: a lean keep-alive connection for
    http://, httpx for https:// (and redirects that lead there)."""

    def __init__(self) -> None:
        self._clients: dict[bool, httpx.AsyncClient] = {}
        self.lean = LeanHttp(keepalive_s=KEEPALIVE_S, max_body=MAX_BODY_BYTES)

    async def get(self, verify_tls: bool) -> httpx.AsyncClient:
        client = self._clients.get(verify_tls)
        if client is None:
            client = await asyncio.to_thread(_new_client, verify_tls)
            client = self._clients.setdefault(verify_tls, client)
        return client

    async def aclose(self) -> None:
        self.lean.close()
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            try:
                async with asyncio.timeout(STOP_TIMEOUT_S):
                    await client.aclose()
            except (TimeoutError, OSError, httpx.HTTPError) as exc:
                log.debug("closing the probe clients: %r", exc)  # connections die with the process anyway


# ---------------------------------------------------------------------------------------------
# one check


@functools.lru_cache(maxsize=1024)
def _parsed_url(url: str) -> httpx.URL:
    return httpx.URL(url)  # parsed once per probe endpoint, not on every check


@functools.lru_cache(maxsize=1024)
def _lean_request(url: str) -> Request:
    """The encoded GET for a plain http:// URL, built once per endpoint."""
    parsed = _parsed_url(url)
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json, */*;q=0.5"}
    if parsed.username or parsed.password:  # as httpx does for credentials in the URL
        token = base64.b64encode(f"{parsed.username}:{parsed.password}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
    return build_request(parsed.host, parsed.port or 80, parsed.netloc, parsed.raw_path, headers)


_REDIRECTS = (301, 302, 303, 307, 308)


_PHASE_BY_EVENT = {  # httpcore's trace events → the words after "timed out after 2.0 s"
    "connection.connect_tcp.started": "connecting",
    "connection.connect_tcp.complete": "sending the request",
    "connection.start_tls.started": "in the TLS handshake",
    "connection.start_tls.complete": "sending the request",
    "http11.send_request_headers.started": "sending the request",
    "http11.receive_response_headers.started": "waiting for an answer",
    "http11.receive_response_headers.complete": "reading the answer",
}


@dataclass
class _Context:
    """A CheckContext over httpx and asyncio streams, tracking how far the check got."""

    spec: ProbeSpec
    memory: dict[str, Any]
    clients: HttpClients
    deadline: float  # loop time when the whole check must be over
    phase: str = "connecting"
    received: int = 0  # body bytes of the answer being read
    _writer: asyncio.StreamWriter | None = field(default=None, repr=False)

    async def _trace(self, event: str, info: dict[str, Any]) -> None:
        phase = _PHASE_BY_EVENT.get(event)
        if phase:
            self.phase = phase

    def url_for(self, path: str) -> httpx.URL:
        return _parsed_url(self.spec.url.rstrip("/") + path if path else self.spec.url)

    async def get(self, path: str) -> Answer:
        try:
            url = self.url_for(path)
        except httpx.InvalidURL as exc:
            raise ProbeFailure(f"invalid URL: {exc}") from None
        if url.scheme == "http":
            return await self._lean_get(url, time.perf_counter())
        client = await self.clients.get(self.spec.verify_tls)  # made before the clock starts: not the service's time
        return await self._httpx_get(client, url, time.perf_counter())

    async def _lean_get(self, url: httpx.URL, started: float) -> Answer:
        lean = self.clients.lean
        for _ in range(MAX_REDIRECTS + 1):
            self.phase, self.received = "connecting", 0
            try:
                response = await lean.get(_lean_request(str(url)), self)
            except BodyTooLarge as exc:
                raise ProbeFailure(str(exc), status_code=exc.status) from None
            except UndecodableBody as exc:
                raise ProbeFailure(f"cannot decode the answer ({exc})") from None
            except ClosedWithoutAnswer:
                raise ProbeFailure("connection closed without a response") from None
            except HttpError as exc:  # NotHttp among them: its words start "not HTTP: "
                raise ProbeFailure(str(exc)) from None
            except OSError as exc:
                raise ProbeFailure(describe_error(exc, host=url.host)) from None
            location = response.headers.get("location")
            if response.status not in _REDIRECTS or not location:
                latency = (time.perf_counter() - started) * 1000
                return Answer(str(url), response.status, response.headers, response.body, latency)
            try:
                url = url.join(location)
            except httpx.InvalidURL:
                raise ProbeFailure(f"HTTP {response.status}: redirect to an invalid URL {location[:60]!r}") from None
            if url.scheme != "http":  # TLS: httpx takes it from here
                return await self._httpx_get(await self.clients.get(self.spec.verify_tls), url, started)
        raise ProbeFailure("too many redirects")

    async def _httpx_get(self, client: httpx.AsyncClient, url: httpx.URL, started: float) -> Answer:
        self.phase, self.received = "connecting", 0
        remaining = self.deadline - asyncio.get_running_loop().time()
        # The check's deadline ends everything; httpx's own timeouts only stand back, except
        # while connecting: httpcore does not close a socket cancelled mid TLS handshake, so
        # its own connect timeout must fire first there.
        timeout = httpx.Timeout(remaining + 1.0, connect=max(0.01, remaining - 0.05))
        try:
            async with client.stream("GET", url, timeout=timeout, extensions={"trace": self._trace}) as response:
                chunks = []
                async for chunk in response.aiter_bytes():
                    chunks.append(chunk)
                    self.received += len(chunk)
                    if self.received > MAX_BODY_BYTES:
                        break
                body = b"".join(chunks)
        except httpx.TimeoutException:
            raise TimeoutError from None  # the check's own deadline words it
        except httpx.HTTPError as exc:
            raise ProbeFailure(describe_error(exc, host=url.host)) from None
        latency = (time.perf_counter() - started) * 1000
        if len(body) > MAX_BODY_BYTES:
            raise ProbeFailure(f"answer too large (over {MAX_BODY_BYTES // 1024**2} MiB)", status_code=response.status_code)
        return Answer(str(response.url), response.status_code, response.headers, body, latency)

    def _address(self) -> tuple[str, int]:
        parts = urlsplit(self.spec.url)
        if not parts.hostname or parts.port is None:
            raise ProbeFailure(f"cannot connect: {self.spec.display_url} names no host:port")
        return parts.hostname, parts.port

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, float]:
        host, port = self._address()
        self.phase = "connecting"
        started = time.perf_counter()
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError as exc:
            raise ProbeFailure(describe_error(exc, host=host)) from None
        self._writer = writer
        self.phase = "waiting for an answer"
        return reader, writer, (time.perf_counter() - started) * 1000

    async def tcp_connect(self) -> float:
        _, _, connect_ms = await self._open()
        return connect_ms

    async def tcp_exchange(self, payload: bytes, answer_size: int) -> tuple[bytes, float]:
        reader, writer, connect_ms = await self._open()
        try:
            writer.write(payload)
            await writer.drain()
            reply = await reader.read(answer_size)
        except OSError as exc:
            raise ProbeFailure(describe_error(exc)) from None
        return reply, connect_ms

    async def start_tls_and_close(self) -> None:
        if self._writer is None:
            return
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # no CA bundle to load on the loop
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # only saying goodbye properly: nothing is sent
        self.phase = "in the TLS handshake"
        # the server already answered: a goodbye that fails or runs out of time changes nothing
        with contextlib.suppress(OSError, ssl.SSLError, TimeoutError):
            async with asyncio.timeout_at(self.deadline - 0.05):
                await self._writer.start_tls(context)

    async def close(self) -> None:
        writer, self._writer = self._writer, None
        if writer is None:
            return
        writer.close()
        try:
            async with asyncio.timeout(0.5):
                await writer.wait_closed()
        except (TimeoutError, OSError, ssl.SSLError) as exc:
            log.debug("closing a probe connection: %r", exc)  # it is gone either way

    def timeout_words(self) -> str:
        if self.phase == "reading the headers":  # a status line or some headers came, the blank line did not
            return f"the answer's headers did not finish within {seconds(self.spec.timeout)}"
        words = f"timed out after {seconds(self.spec.timeout)} {self.phase}"
        if self.phase == "reading the answer" and self.received:
            words += f" ({self.received} bytes arrived)"
        return words


async def run_check(spec: ProbeSpec, clients: HttpClients, memory: dict[str, Any], *, extras_due: bool) -> CheckOutput:
    """One check of `spec` within spec.timeout. Never raises but CancelledError."""
    preset = preset_for(spec.kind)
    deadline = asyncio.get_running_loop().time() + spec.timeout
    ctx = _Context(spec, memory, clients, deadline)
    extras: Extras | None = None
    try:
        try:
            async with asyncio.timeout_at(deadline):
                outcome = await preset.check(ctx)
        except ProbeFailure as failure:
            outcome = Outcome(state=failure.state, error=failure.words, status_code=failure.status_code, latency_ms=failure.latency_ms)
        except TimeoutError:
            outcome = Outcome(state=ProbeState.DOWN, error=ctx.timeout_words())
        except Exception as exc:  # a preset's bug must cost one check, not the probe
            log.debug("probe %s: check failed", spec.name, exc_info=True)  # the words are in the result
            outcome = Outcome(state=ProbeState.DOWN, error=f"probe failed: {describe_error(exc)}")
        if preset.extras is not None and extras_due and outcome.state is not ProbeState.DOWN:
            try:
                async with asyncio.timeout_at(deadline):
                    extras = await preset.extras(ctx)
            except (ProbeFailure, TimeoutError):
                extras = None  # keep the last ones; the health answer already decided the state
            except Exception:
                log.debug("probe %s: reading model and version failed", spec.name, exc_info=True)
    finally:
        await ctx.close()
    return CheckOutput(outcome, extras)


async def check_once(specs: Sequence[ProbeSpec]) -> list[ProbeResult]:
    """Check every probe once, concurrently, with model and version; results in `specs` order.
    The services' words are as they came (for --json): clean them before showing them."""

    async def one(spec: ProbeSpec) -> ProbeResult:
        clients = HttpClients()
        try:
            output = await run_check(spec, clients, {}, extras_due=True)
        finally:
            await clients.aclose()
        # raw: the headless command keeps the service's words for --json and cleans its table.
        return build_result(spec, output, output.extras, time.time(), raw=True)

    return list(await asyncio.gather(*(one(spec) for spec in specs)))


def check_once_blocking(specs: Sequence[ProbeSpec]) -> list[ProbeResult]:
    """check_once for synchronous callers (headless commands); safe inside a running loop too."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(check_once(specs))
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(check_once(specs))
        except BaseException as exc:  # handed back to the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=target, name="probe-once", daemon=True)
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


# ---------------------------------------------------------------------------------------------
# the engine


@dataclass
class _Probe(ProbeTrack):
    memory: dict[str, Any] = field(default_factory=dict)
    extras_at: float = float("-inf")  # monotonic
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    clients: HttpClients = field(default_factory=HttpClients)
    task: asyncio.Task[None] | None = None


def _same_target(a: ProbeSpec, b: ProbeSpec) -> bool:
    return (a.kind, a.url) == (b.kind, b.url)


def _unique(specs: Iterable[ProbeSpec]) -> dict[str, ProbeSpec]:
    by_name: dict[str, ProbeSpec] = {}
    for spec in specs:
        if spec.name in by_name:
            raise ValueError(f"two probes are named {spec.name!r}")
        preset_for(spec.kind)  # raises ValueError for an unknown kind
        by_name[spec.name] = spec
    return by_name


class ProbeEngine:
    """Runs probes until stopped and reports every finished check to `on_event`.

    `on_event` is called on the loop that runs `run()`, once per event, and must not block
    (post a message, append to a queue). An exception it raises is logged, not propagated.
    """

    demo = False  # DemoProbes (sources/demo_probes.py) has the same surface and says True

    def __init__(
        self,
        specs: Iterable[ProbeSpec] = (),
        on_event: ProbeListener | None = None,
        *,
        history: int = HISTORY,
        extras_every: float = EXTRAS_EVERY_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._specs = _unique(specs)
        self._on_event = on_event
        self._history = history
        self._extras_every = extras_every
        self._clock = clock
        self._probes: dict[str, _Probe] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: int | None = None
        self._stopping: asyncio.Event | None = None
        self._stop_requested = False

    # -- control (any thread) ------------------------------------------------------------------

    def listen(self, on_event: ProbeListener) -> None:
        """Report events to `on_event` (before run(): the UI attaches itself to a given engine)."""
        self._on_event = on_event

    @property
    def running(self) -> bool:
        return self._loop is not None

    async def run(self) -> None:
        """Probe until stop() is called or this task is cancelled; then stop every probe."""
        if self._loop is not None:
            raise RuntimeError("the probe engine is already running")
        if self._stop_requested:  # stop() came first: the UI left before the worker started
            self._stop_requested = False
            return
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._stopping = asyncio.Event()
        try:
            for spec in self._specs.values():
                self._start(spec, keep=None)
            await self._stopping.wait()
        finally:
            await self._shutdown()

    def stop(self) -> None:
        """Ask run() to finish; safe from any thread. Before run() starts, run() returns at once."""
        if self._loop is None:
            self._stop_requested = True
            return
        self._call(lambda: self._stopping.set() if self._stopping else None)

    def set_probes(self, specs: Iterable[ProbeSpec]) -> None:
        """Replace the probe set: new names start, missing ones stop, changed ones restart;
        unchanged probes keep running with their history. ValueError for duplicate names
        or unknown kinds (nothing changes then)."""
        wanted = _unique(specs)
        self._call(lambda: self._apply(wanted))

    def check_now(self, name: str | None = None) -> None:
        """Check one probe (or all) now instead of waiting for its interval."""

        def poke() -> None:
            for probe in self._probes.values():
                if name is None or probe.spec.name == name:
                    probe.wake.set()

        self._call(poke)

    def statuses(self) -> tuple[ProbeStatus, ...]:
        """The current status of every probe, in the order they were added (call on the loop)."""
        if self._loop is None:
            return tuple(ProbeStatus(spec=spec) for spec in self._specs.values())
        return tuple(probe.status() for probe in self._probes.values())

    def _call(self, action: Callable[[], None]) -> None:
        loop = self._loop
        if loop is None or threading.get_ident() == self._thread:
            action()
        else:
            loop.call_soon_threadsafe(action)

    # -- on the loop ---------------------------------------------------------------------------

    def _apply(self, wanted: dict[str, ProbeSpec]) -> None:
        self._specs = wanted
        if self._loop is None:
            return
        for name in [n for n in self._probes if n not in wanted]:
            self._cancel(self._probes.pop(name))
            self._emit(ProbeRemoved(name))
        for name, spec in wanted.items():
            current = self._probes.get(name)
            if current is None:
                self._start(spec, keep=None)
            elif current.spec != spec:
                self._cancel(current)
                self._start(spec, keep=current if _same_target(current.spec, spec) else None)

    def _start(self, spec: ProbeSpec, keep: _Probe | None) -> None:
        probe = _Probe(spec, self._history)
        if keep is not None:
            probe.carry_over(keep)
            probe.memory = keep.memory
        self._probes[spec.name] = probe
        self._emit(ProbeAdded(probe.status()))
        probe.task = asyncio.get_running_loop().create_task(self._run_probe(probe), name=f"probe {spec.name}")

    def _cancel(self, probe: _Probe) -> None:
        if probe.task is not None:
            probe.task.cancel()

    async def _shutdown(self) -> None:
        tasks = [p.task for p in self._probes.values() if p.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_TIMEOUT_S)
        self._probes.clear()
        self._loop = self._thread = self._stopping = None

    async def _run_probe(self, probe: _Probe) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                started = loop.time()
                back_from_down = probe.result is None or probe.result.state is ProbeState.DOWN
                extras_due = back_from_down or started - probe.extras_at >= self._extras_every
                output = await run_check(probe.spec, probe.clients, probe.memory, extras_due=extras_due)
                if output.extras is not None:
                    probe.extras_at = loop.time()
                self._record(probe, output)
                probe.wake.clear()
                delay = probe.spec.interval - (loop.time() - started)
                if delay > 0:
                    await wait_for_event(probe.wake, delay)  # checked on demand, or the interval elapsed
        finally:
            await probe.clients.aclose()

    def _record(self, probe: _Probe, output: CheckOutput) -> None:
        self._emit(probe.record(output, self._clock()))

    def _emit(self, event: ProbeEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception as exc:
            log.warning("probe event handler failed on %s: %r", type(event).__name__, exc)
            log.debug("probe event handler traceback", exc_info=True)


__all__ = [
    "CheckOutput",
    "HttpClients",
    "ProbeEngine",
    "ProbeTrack",
    "ProbeListener",
    "build_result",
    "check_once",
    "check_once_blocking",
    "describe_error",
    "run_check",
]
