"""Scrape one model server and turn scrapes into InferenceFigures.

- `scrape(target, fetch)` (async) / `scrape_blocking(target, fetch)`: read the metrics page (or
  Ollama's /api/ps), find the engine when the target does not name it, parse only the families
  that engine's table uses. The parse runs in a worker thread, off the event loop.
- `figures_from(target, previous, current)`: pure; rates over the pair, percentiles over the
  pair. `figures_from_window` does the same over longer windows of a ScrapeSeries.
- `InferenceTracker`: the state one server needs between polls (its scrapes, the engine found).

HTTP is injected: `fetch(url) -> (status, body)`, async or blocking, raising on transport
failures. Deadlines are the caller's (as with spark_tui's lean HTTP client); `timeout=` here only
wraps the async fetch in one for convenience.

A server whose metrics are switched off (SGLang without --enable-metrics answers 404, llama.cpp
without --metrics answers 501) gives figures whose problem says how to switch them on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from spark_tui.core.inference import engines
from spark_tui.core.inference.engines import (
    ENGINES,
    OLLAMA_KEY,
    OLLAMA_PS_PATH,
    EngineSpec,
    Figure,
    Metric,
)
from spark_tui.core.inference.exposition import (
    BlockCache,
    ExpositionError,
    Family,
    check_exposition,
    parse_page,
)
from spark_tui.core.inference.ollama import (
    NO_RATES_NOTE,
    OllamaError,
    OllamaPs,
    looks_like_ps,
    parse_ps,
)
from spark_tui.core.inference.window import (
    ScrapeSeries,
    combine_gauge,
    combine_increases,
    elapsed,
    histogram_part_increases,
    histogram_window,
    series_increases,
)
from spark_tui.core.untrusted import clean
from spark_tui.models.inference import (
    NO_QUANTILES,
    InferenceFigures,
    ProblemKind,
    Quantiles,
)

Response = tuple[int, bytes]
Fetch = Callable[[str], Awaitable[Response]]
BlockingFetch = Callable[[str], Response]

_TEXT_MAX = 200
_SGLANG_INFO_PATH = "/get_model_info"  # SGLang answers it with or without --enable-metrics


def _text(value: object) -> str:
    """Every string a server sent (model names, label values, its own words) passes here first.

    Through the project's one sanitiser (core.untrusted.clean): no control character, escape
    sequence or bidi override survives, and the text is cut to a length no table cell needs.
    InferenceFigures keeps no raw copy, so the JSON output carries the same clean text.
    """
    return clean(value if isinstance(value, str) else str(value), max_len=_TEXT_MAX)


@dataclass(frozen=True)
class InferenceTarget:
    """One model server to watch. `engine` None: found from what the server answers."""

    name: str
    url: str = field(repr=False)  # base URL, e.g. http://127.0.0.1:8000; may hold credentials
    engine: str | None = None  # one of engines.ENGINE_KEYS
    metrics_path: str | None = None  # None: the engine's own (/metrics, /v1/metrics, /prometheus/metrics)
    interval: float = 2.0  # seconds between scrapes

    def __post_init__(self) -> None:
        if self.engine is not None and self.engine not in engines.ENGINE_KEYS:
            raise ValueError(f"unknown engine {self.engine!r}: one of {', '.join(engines.ENGINE_KEYS)}")
        if self.metrics_path is not None and not self.metrics_path.startswith("/"):
            raise ValueError(f"metrics_path must start with '/': {self.metrics_path!r}")


@dataclass(frozen=True)
class Scrape:
    """What one scrape found. `families` (metrics page) or `ollama` (/api/ps) when it worked."""

    at: float  # monotonic seconds when the request was sent (the values are from then, as Prometheus takes it)
    wall: float  # the same moment, wall-clock (Ollama's expiry is wall-clock)
    engine: str | None = None
    families: Mapping[str, Family] | None = None
    ollama: OllamaPs | None = None
    problem: str | None = None
    problem_kind: ProblemKind | None = None
    hint: str | None = None
    path: str | None = None  # the path that answered
    body_bytes: int = 0
    fetch_s: float | None = None  # from sending the request to the whole answer: the server sampled somewhere in it
    parse_cpu_s: float = 0.0  # CPU of decoding, detecting and parsing (the worker thread's)
    blank_page: bool = False  # 200 with nothing on it: a fresh server that has counted nothing yet

    @property
    def ok(self) -> bool:
        return self.families is not None or self.ollama is not None


# -- the scrape, written once for both the async and the blocking drivers -----------------------
# The plan yields ("fetch", url) and ("parse", function) steps; each driver runs them its way and
# sends back the answer (or the exception raised).

_Step = tuple[str, Any]


def _plan(target: InferenceTarget, hint: str | None, timeout: float | None) -> Generator[_Step, Any, Scrape]:
    at, wall = time.monotonic(), time.time()
    base = target.url.rstrip("/")
    if target.engine == OLLAMA_KEY:
        return (yield from _ollama_plan(base, at, wall, timeout))
    named = ENGINES.get(target.engine or "")  # the user said so: trusted
    hinted = None if target.engine else hint  # found last time: tried first, checked again
    if hinted == OLLAMA_KEY:
        answer = yield ("fetch", base + OLLAMA_PS_PATH)
        if not isinstance(answer, BaseException) and answer[0] == 200 and looks_like_ps(answer[1]):
            return _ollama_scrape(answer[1], at, wall)
        hinted = None
    spec = named or ENGINES.get(hinted or "")
    path = target.metrics_path or (spec.metrics_path if spec else "/metrics")
    answer = yield ("fetch", base + path)
    if named is None and target.metrics_path is None and path != "/metrics" and (
            isinstance(answer, BaseException) or answer[0] != 200):
        path, hinted = "/metrics", None  # the engine found last time is gone from its own path: look again
        answer = yield ("fetch", base + path)
    fetch_s = time.monotonic() - at
    engine = spec.key if spec else None

    def failed(problem: str, kind: ProblemKind = ProblemKind.ERROR, **more: Any) -> Scrape:
        return Scrape(at, wall, more.pop("engine", engine), problem=problem, problem_kind=kind, path=path,
                      fetch_s=fetch_s, **more)

    if isinstance(answer, BaseException):
        return failed(_failure(answer, path, timeout))
    status, body = answer
    if status == 200:
        cache = _cache_for(base, path)
        result = _unchanged_page(body, target.engine, hinted, cache)
        if result is None:  # something moved: parse off the loop (a busy 40 KB page: ~3 ms)
            result = yield ("parse", lambda: _read_page(body, target.engine, hinted, cache))
        if isinstance(result, ExpositionError):
            if named is None and target.metrics_path is None and body.lstrip()[:1] == b"[":
                # trtllm-serve's /metrics is a JSON list of iteration stats; its Prometheus page is elsewhere.
                return (yield from _trtllm_plan(base, at, wall, timeout))
            return failed(_text(f"{path}: {result}"), body_bytes=len(body), blank_page=_blank(body))
        if isinstance(result, BaseException):  # a server's bytes must never take the poller down
            return failed(_text(f"could not read {path}: {type(result).__name__}: {result}"), body_bytes=len(body))
        found, families, cpu = result
        if found is None:
            return failed(f"{path} is a metrics page, but of no inference engine this knows",
                          engine=None, body_bytes=len(body), parse_cpu_s=cpu)
        if not families and _blank(body):
            return Scrape(at, wall, found.key, families=MappingProxyType({}), path=path,
                          problem=f"{path} is empty: {found.label} has counted nothing yet",
                          problem_kind=ProblemKind.NOTE, fetch_s=fetch_s, parse_cpu_s=cpu)
        if not families:
            if found.hint:
                return failed(_off_text(found, f"{path} has none of its metrics"), ProblemKind.METRICS_OFF,
                              engine=found.key, hint=found.hint, body_bytes=len(body), parse_cpu_s=cpu)
            return failed(f"no {found.label} metrics on {path}", engine=found.key, body_bytes=len(body),
                          parse_cpu_s=cpu)
        return Scrape(at, wall, found.key, families=MappingProxyType(families), path=path,
                      body_bytes=len(body), fetch_s=fetch_s, parse_cpu_s=cpu)
    # Not 200: metrics switched off, or not a metrics server at all.
    off = _metrics_off(named, status, body)
    if off is not None:
        return failed(_off_text(off, f"{path} answered HTTP {status}"), ProblemKind.METRICS_OFF,
                      engine=off.key, hint=off.hint)
    if named is None and status == 404 and target.metrics_path is None:
        # Who answers 404 on /metrics? Ollama (it has none) or SGLang without --enable-metrics.
        probes = [OLLAMA_PS_PATH, _SGLANG_INFO_PATH]
        if hinted == engines.SGLANG.key:
            probes.reverse()
        for probe in probes:
            reply = yield ("fetch", base + probe)
            if isinstance(reply, BaseException) or reply[0] != 200:
                continue
            if probe == OLLAMA_PS_PATH and looks_like_ps(reply[1]):
                return _ollama_scrape(reply[1], at, wall)
            if probe == _SGLANG_INFO_PATH and _json_has(reply[1], "model_path"):
                return failed(_off_text(engines.SGLANG, f"{path} answered HTTP 404"), ProblemKind.METRICS_OFF,
                              engine=engines.SGLANG.key, hint=engines.SGLANG.hint)
    return failed(f"{path} answered HTTP {status}")


def _ollama_plan(base: str, at: float, wall: float, timeout: float | None) -> Generator[_Step, Any, Scrape]:
    answer = yield ("fetch", base + OLLAMA_PS_PATH)
    if isinstance(answer, BaseException):
        return Scrape(at, wall, OLLAMA_KEY, problem=_failure(answer, OLLAMA_PS_PATH, timeout),
                      problem_kind=ProblemKind.ERROR, path=OLLAMA_PS_PATH)
    status, body = answer
    if status != 200:
        return Scrape(at, wall, OLLAMA_KEY, problem=f"{OLLAMA_PS_PATH} answered HTTP {status}",
                      problem_kind=ProblemKind.ERROR, path=OLLAMA_PS_PATH)
    return _ollama_scrape(body, at, wall)


def _ollama_scrape(body: bytes, at: float, wall: float) -> Scrape:
    started = time.thread_time()
    try:
        ps = parse_ps(body, now_wall=wall, text=_text)
    except OllamaError as exc:
        return Scrape(at, wall, OLLAMA_KEY, problem=str(exc), problem_kind=ProblemKind.ERROR, path=OLLAMA_PS_PATH,
                      body_bytes=len(body))
    return Scrape(at, wall, OLLAMA_KEY, ollama=ps, path=OLLAMA_PS_PATH, body_bytes=len(body),
                  parse_cpu_s=time.thread_time() - started)


def _trtllm_plan(base: str, at: float, wall: float, timeout: float | None) -> Generator[_Step, Any, Scrape]:
    spec = engines.TRTLLM
    path = spec.metrics_path
    answer = yield ("fetch", base + path)
    if isinstance(answer, BaseException):
        return Scrape(at, wall, spec.key, problem=_failure(answer, path, timeout), problem_kind=ProblemKind.ERROR,
                      path=path)
    if answer[0] == 200:
        cache = _cache_for(base, path)
        result = yield ("parse", lambda: _read_page(answer[1], spec.key, None, cache))
        if isinstance(result, tuple) and result[1]:
            return Scrape(at, wall, spec.key, families=MappingProxyType(result[1]), path=path,
                          body_bytes=len(answer[1]), fetch_s=time.monotonic() - at, parse_cpu_s=result[2])
    return Scrape(at, wall, spec.key, problem=_off_text(spec, f"{path} has none"),
                  problem_kind=ProblemKind.METRICS_OFF, hint=spec.hint, path=path)


def _read_page(body: bytes, engine: str | None, hint: str | None,
               cache: BlockCache | None = None) -> tuple[EngineSpec | None, dict[str, Family], float]:
    """Find the engine, parse its families (bytes throughout: the page is never decoded whole).

    Runs in the worker thread; CPU measured there.
    """
    started = time.thread_time()
    spec = ENGINES.get(engine or "")
    if spec is None:
        hinted = ENGINES.get(hint or "")
        # The remembered engine is checked first: its markers are found near the top, cheaply.
        spec = hinted if hinted is not None and engines.detect_one(hinted, body) else engines.detect(body)
    if _blank(body):
        # A fresh TEI/TGI writes nothing until its first request: fine when we know the engine.
        if spec is None:
            raise ExpositionError("empty page: nothing to tell the engine by until it has served a request")
        return spec, {}, time.thread_time() - started
    if spec is None:
        check_exposition(body.decode("utf-8", "replace"))
        return None, {}, time.thread_time() - started
    families = parse_page(body, spec.prefixes, cache)
    if not families:
        check_exposition(body.decode("utf-8", "replace"))
    return spec, families, time.thread_time() - started


INLINE_CHECK_BYTES = 512 * 1024


def _unchanged_page(body: bytes, engine: str | None, hint: str | None,
                    cache: BlockCache) -> tuple[EngineSpec, dict[str, Family], float] | None:
    """`_read_page`'s answer without the parse, when the engine is known and its part of the page
    did not move since the last one (an idle server). Runs on the caller's thread, the event loop
    in the dashboard: ~10 µs for a 40 KB page instead of a hop to a worker thread and back (two
    thread wake-ups, 0.1-0.2 ms each here) for the 135 µs filter that found nothing new. Only for
    pages up to INLINE_CHECK_BYTES: finding the span in 5 MB takes ~3 ms, the worker's job."""
    if len(body) > INLINE_CHECK_BYTES:
        return None
    started = time.thread_time()
    spec = ENGINES.get(engine or "") or ENGINES.get(hint or "")
    if spec is None or (engine is None and not engines.detect_one(spec, body)):
        return None
    families = cache.unchanged(body, spec.prefixes)
    return None if families is None else (spec, families, time.thread_time() - started)


# Parsed blocks of each server's last page (exposition.BlockCache), by (base URL, path): scrape()
# is called with a target, not a tracker, so the cache lives here. Bounded: targets come and go.
_CACHES: OrderedDict[tuple[str, str], BlockCache] = OrderedDict()
_CACHES_MAX = 64
_CACHES_LOCK = threading.Lock()


def _cache_for(base: str, path: str) -> BlockCache:
    key = (base, path)
    with _CACHES_LOCK:
        cache = _CACHES.get(key)
        if cache is None:
            cache = _CACHES[key] = BlockCache()
            while len(_CACHES) > _CACHES_MAX:
                _CACHES.popitem(last=False)
        else:
            _CACHES.move_to_end(key)
        return cache


def _blank(body: bytes) -> bool:
    return not body or body.isspace()  # not body.strip(): that copies a 5 MB page to look at it


def _off_text(spec: EngineSpec, why: str) -> str:
    """The problem of a server whose metrics are switched off: what we saw, then how to turn them on."""
    return f"{spec.label} metrics are off ({why}): {spec.hint}"


def _metrics_off(spec: EngineSpec | None, status: int, body: bytes) -> EngineSpec | None:
    """The engine whose metrics are switched off, when the answer says so."""
    if spec is not None and status in spec.metrics_off_statuses:
        return spec
    # llama-server says it itself: 501 "... Start it with `--metrics`".
    if status == 501 and b"--metrics" in body[:4096] and spec in (None, engines.LLAMACPP):
        return engines.LLAMACPP
    return None


def _json_has(body: bytes, key: str) -> bool:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(data, dict) and key in data


def _failure(exc: BaseException, path: str, timeout: float | None) -> str:
    """One line for a transport failure; the exception's own text is the server's or the OS's."""
    if isinstance(exc, TimeoutError) or "Timeout" in type(exc).__name__:
        return f"no answer from {path} in {timeout:g} s" if timeout else f"no answer from {path} in time"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, OSError):
        return _text(f"cannot connect: {exc.strerror or exc}")
    if "Connect" in type(exc).__name__:  # an HTTP client's own connect error (httpx.ConnectError)
        return _text(f"cannot connect: {exc}" if str(exc) else "cannot connect")
    detail = str(exc)
    return _text(f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__)


async def scrape(target: InferenceTarget, fetch: Fetch, *, engine_hint: str | None = None,
                 timeout: float | None = None) -> Scrape:
    """Scrape `target` once with an async `fetch`. `engine_hint`: the engine found last time."""
    plan = _plan(target, engine_hint, timeout)
    answer: Any = None
    try:
        while True:
            kind, payload = plan.send(answer)
            try:
                if kind == "fetch":
                    answer = await (asyncio.wait_for(fetch(payload), timeout) if timeout else fetch(payload))
                else:
                    answer = await asyncio.to_thread(payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - every failure becomes the figures' problem text
                answer = exc
    except StopIteration as stop:
        return stop.value


def scrape_blocking(target: InferenceTarget, fetch: BlockingFetch, *, engine_hint: str | None = None,
                    timeout: float | None = None) -> Scrape:
    """`scrape` for a blocking `fetch` (headless commands); `timeout` only names the deadline in messages."""
    plan = _plan(target, engine_hint, timeout)
    answer: Any = None
    try:
        while True:
            kind, payload = plan.send(answer)
            try:
                answer = fetch(payload) if kind == "fetch" else payload()
            except Exception as exc:  # noqa: BLE001
                answer = exc
    except StopIteration as stop:
        return stop.value


# -- figures ------------------------------------------------------------------------------------


def figures_from(target: InferenceTarget, previous: Scrape | None, current: Scrape) -> InferenceFigures:
    """Figures of `current`; rates and percentiles over `previous` → `current` when both worked."""
    window = [previous, current] if previous is not None and _same_run(previous, current) else [current]
    return figures_from_window(target, window, window)


def figures_from_window(target: InferenceTarget, rate_window: Sequence[Scrape],
                        latency_window: Sequence[Scrape] | None = None) -> InferenceFigures:
    """Figures of the newest scrape of `rate_window`: rates over `rate_window`, percentiles and
    cache hit rates over `latency_window` (default: the same). Both end with the same scrape."""
    current = rate_window[-1]
    latency_window = latency_window or rate_window
    base: dict[str, Any] = dict(name=target.name, url=target.url, engine=current.engine, scraped_at=current.at)
    if not current.ok:
        return InferenceFigures(**base, problem=current.problem, problem_kind=current.problem_kind, hint=current.hint)
    if current.ollama is not None:
        return _ollama_figures(base, current.ollama)
    spec = ENGINES[current.engine or ""]
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, figure in spec.figures.items():
        window = rate_window if figure.kind == "rate" else latency_window
        value, metric = _evaluate(figure, current, window)
        if metric is None:
            continue
        sources[name] = spec.source(metric, current.path)
        if value is not None:
            values[name] = value
    models = _models(spec, current.families or {})
    notes = [current.problem] if current.problem_kind is ProblemKind.NOTE and current.problem else []
    note = "; ".join([*notes, *spec.notes]) or None
    return InferenceFigures(
        **base,
        model=", ".join(models) or None,
        **values,
        sources=MappingProxyType(sources),
        problem=note,
        problem_kind=ProblemKind.NOTE if note else None,
        window_s=elapsed(rate_window),
    )


def _same_run(previous: Scrape, current: Scrape) -> bool:
    return previous.ok and current.ok and previous.engine == current.engine and previous.at < current.at


def _ollama_figures(base: dict[str, Any], ps: OllamaPs) -> InferenceFigures:
    source = f"Ollama {OLLAMA_PS_PATH}"
    return InferenceFigures(
        **base,
        model=", ".join(model.name for model in ps.models) or None,
        loaded_models=ps.models,
        sources=MappingProxyType({"model": source, "loaded_models": source}),
        problem=NO_RATES_NOTE,
        problem_kind=ProblemKind.NOTE,
    )


def _family(scrape: Scrape, metric: Metric) -> Family | None:
    families = scrape.families or {}
    return families.get(metric.family) or families.get(metric.name)


def _evaluate(figure: Figure, current: Scrape, window: Sequence[Scrape]) -> tuple[Any, Metric | None]:
    """(value, the metric it came from). Metric None: the server exposes none of the candidates."""
    span = elapsed(window)
    if figure.kind == "gauge":
        for metric in figure.candidates:
            family = _family(current, metric)
            value = combine_gauge(family, select=metric.select, replicas=metric.replicas, combine=figure.combine)
            if value is None:
                continue
            if metric.over is not None:
                over = combine_gauge(_family(current, metric.over), select=metric.over.select,
                                     replicas=metric.over.replicas, combine=figure.combine)
                if not over:
                    continue
                value /= over
            return value * metric.scale, metric
        return None, None
    if figure.kind == "rate":
        for metric in figure.candidates:
            if _family(current, metric) is None:
                continue
            if span is None:
                return None, metric
            increase = _increase(window, metric)
            return (None if increase is None else increase * metric.scale / span), metric
        return None, None
    if figure.kind == "quantiles":
        for metric in figure.candidates:
            if _family(current, metric) is None:
                continue
            found = histogram_window([_family(scrape, metric) for scrape in window], select=metric.select,
                                     replicas=metric.replicas)
            if found is None:
                return NO_QUANTILES, metric
            scale = metric.scale
            return Quantiles(
                p50=_scaled(found.quantile(0.5), scale),
                p95=_scaled(found.quantile(0.95), scale),
                p99=_scaled(found.quantile(0.99), scale),
                mean=_scaled(found.mean, scale),
                count=found.count,
            ), metric
        return None, None
    # mean / ratio: Δcandidate / Δdenominator, pairwise.
    for metric, denominator in zip(figure.candidates, figure.denominators, strict=True):
        if _family(current, metric) is None or _family(current, denominator) is None:
            continue
        top, bottom = _increase(window, metric), _increase(window, denominator)
        if figure.kind == "mean":
            if top is None or not bottom:
                return Quantiles(count=bottom), metric
            return Quantiles(mean=top / bottom * metric.scale, count=bottom), metric
        if top is None or not bottom:
            return None, metric
        return min(1.0, max(0.0, top / bottom)), metric
    return None, None


def _increase(window: Sequence[Scrape], metric: Metric) -> float | None:
    families = [_family(scrape, metric) for scrape in window]
    if metric.part is not None:
        increases = histogram_part_increases(families, metric.part, metric.select)
    else:
        increases = series_increases(families, select=metric.select)
    return None if increases is None else combine_increases(increases, metric.replicas)


def _scaled(value: float | None, scale: float) -> float | None:
    return None if value is None or not math.isfinite(value) else value * scale


def _models(spec: EngineSpec, families: Mapping[str, Family]) -> list[str]:
    """Distinct model label values on the page (the served model names), placeholders left out."""
    if not spec.model_labels:
        return []
    found: set[str] = set()
    for family in families.values():
        for labels in [series.labels for series in family.series] + [h.labels for h in family.histograms]:
            for key, value in labels:
                if key in spec.model_labels and value and value not in spec.placeholder_models:
                    found.add(value)
    return sorted(_text(name) for name in found)


def _fresh_since(scrape_: Scrape, wall: float) -> bool:
    """False when a series on the page was created before `wall` (its process was counting then)."""
    for family in (scrape_.families or {}).values():
        for item in (*family.series, *family.histograms):
            if item.created is not None and item.created < wall:  # loopback only: one clock
                return False
    return True


# -- one server between polls -------------------------------------------------------------------


class InferenceTracker:
    """Polls one target: remembers the engine it found and the scrapes of the current run.

    Rates cover `rate_window_s` (None: the last interval); percentiles, cache hit rates and
    means cover `latency_window_s`, since a few seconds rarely hold enough requests to rank.
    """

    def __init__(self, target: InferenceTarget, *, rate_window_s: float | None = None,
                 latency_window_s: float = 60.0) -> None:
        self.target = target
        self.rate_window_s = rate_window_s
        self.latency_window_s = latency_window_s
        self.engine_hint: str | None = None
        keep = max(latency_window_s, rate_window_s or 0.0) + 2 * target.interval
        self.series: ScrapeSeries[Scrape] = ScrapeSeries(keep_s=keep)
        self.last: Scrape | None = None
        self._blank: Scrape | None = None  # a blank page just before the first scrape that worked
        # An idle server: the pages since `_still_from` parsed to the very same families (the parse
        # cache hands back the same objects), so figures over windows inside that span are the
        # figures already worked out for one. Reusing them took the four idle servers of
        # bench/inference_idle_bench.py from +0.47 % of a core (figures_from_window every scrape).
        self._previous_ok: Scrape | None = None
        self._still_from: float | None = None
        self._still: tuple[InferenceFigures, tuple[bool, bool]] | None = None  # figures, windows with 2+ scrapes

    async def poll(self, fetch: Fetch, *, timeout: float | None = None) -> InferenceFigures:
        return self.add(await scrape(self.target, fetch, engine_hint=self.engine_hint, timeout=timeout))

    def poll_blocking(self, fetch: BlockingFetch, *, timeout: float | None = None) -> InferenceFigures:
        return self.add(scrape_blocking(self.target, fetch, engine_hint=self.engine_hint, timeout=timeout))

    def _note_still(self, scrape_: Scrape) -> float | None:
        """When this page's families are the previous page's (same objects), the time the still
        span began; None when something moved."""
        previous, self._previous_ok = self._previous_ok, scrape_
        now, before = scrape_.families, previous.families if previous is not None else None
        if now is not None and before is not None and now.keys() == before.keys() and all(before[k] is v for k, v in now.items()):
            if self._still_from is None:
                self._still_from = previous.at  # type: ignore[union-attr]
        else:
            self._still_from = None
        return self._still_from

    def add(self, scrape_: Scrape) -> InferenceFigures:
        self.last = scrape_
        if scrape_.ok:
            newest = self.series.newest
            if newest is not None and newest.engine != scrape_.engine:
                self.series.clear()  # another server answers at this address now
            blank, self._blank = self._blank, None
            if blank is not None and not self.series and blank.at < scrape_.at and _fresh_since(scrape_, blank.wall):
                # The answer before was a blank page: a fresh server (TEI/TGI write nothing before
                # their first request), engine unknown then. Blank means every counter and
                # histogram was 0 at that moment; whatever this page holds was counted after it,
                # so the blank is the window's baseline with nothing on it and the first rates
                # need not wait a scrape (Prometheus' rate() would: it knows no such moment).
                # A `_created` stamp older than the blank says the blank was a glitch of a server
                # that had been counting: then it is no baseline.
                self.series.add(dataclasses.replace(blank, engine=scrape_.engine, families=MappingProxyType({}),
                                                    problem=None, problem_kind=None))
            self.series.add(scrape_)
            self.engine_hint = scrape_.engine
            rate_window = self.series.window(self.rate_window_s)
            latency_window = self.series.window(self.latency_window_s)
            still_from = self._note_still(scrape_)
            inside = still_from is not None and min(rate_window[0].at, latency_window[0].at) >= still_from
            # Inside a still span every increase is 0 however long the window, so the figures
            # depend on the windows only through "has a second scrape" (rates need two) and the
            # span each covers: the 60 s latency window growing scrape by scrape changes nothing.
            shape = (len(rate_window) > 1, len(latency_window) > 1)
            if inside and self._still is not None and self._still[1] == shape:
                return dataclasses.replace(self._still[0], scraped_at=scrape_.at, window_s=elapsed(rate_window))
            figures = figures_from_window(self.target, rate_window, latency_window)
            self._still = (figures, shape) if inside else None
            return figures
        self._previous_ok = self._still_from = self._still = None
        if scrape_.blank_page:
            self._blank = scrape_
        if scrape_.problem_kind is ProblemKind.METRICS_OFF:
            self.engine_hint = scrape_.engine  # known now: the next poll asks it directly
        elif self.target.engine is None:
            self.engine_hint = None  # find it again: the server may have changed
        return figures_from_window(self.target, [scrape_])
