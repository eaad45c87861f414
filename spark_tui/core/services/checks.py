"""How each service on a Spark answers a health check, and how to read it: the check framework
(`Answer`, `Outcome`, `CheckContext`) and one check per service (which request says it is alive,
what counts as up, degraded or down, what to extract: model id, version, limits, loaded models).
The table that names them is presets.py.

Checks talk to the network only through a `CheckContext`, which the engine
(spark_tui.core.services.engine) implements with a deadline over the whole check; nothing here
imports httpx, so the config can validate kinds without loading the network stack.
"""

from __future__ import annotations

import contextlib
import re
import struct
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec

from spark_tui.models.probes import DetailValue, ProbeSpec, ProbeState, ServedModel

MAX_ERROR_TEXT = 80


class ProbeFailure(Exception):
    """The check found a problem, already in words ("connection refused", "HTTP 503")."""

    def __init__(
        self,
        words: str,
        *,
        status_code: int | None = None,
        state: ProbeState = ProbeState.DOWN,
        latency_ms: float | None = None,
    ) -> None:
        super().__init__(words)
        self.words = words
        self.status_code = status_code
        self.state = state
        self.latency_ms = latency_ms  # set when the service did answer (an error status)


@dataclass(frozen=True)
class Answer:
    """One HTTP response, read whole (up to a size limit) within the check's deadline."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    latency_ms: float  # from sending the request to the last byte of the body

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        try:
            return msgspec.json.decode(self.body)
        except msgspec.DecodeError:
            raise ProbeFailure(f"not JSON: {_snippet(self.body)}", status_code=self.status) from None

    def json_object(self) -> dict[str, Any]:
        doc = self.json()
        if not isinstance(doc, dict):
            raise ProbeFailure(f"unexpected answer: JSON {type(doc).__name__}, expected an object", status_code=self.status)
        return doc

    def failure(self, state: ProbeState = ProbeState.DOWN, prefix: str = "") -> ProbeFailure:
        """"HTTP 503" plus the service's own message when it gives one."""
        words = f"{prefix}HTTP {self.status}"
        message = _error_message(self.body)
        if message:
            words += f": {message}"
        return ProbeFailure(words, status_code=self.status, state=state, latency_ms=self.latency_ms)


class CheckContext(Protocol):
    """What a check may do; every call is bounded by the check's deadline."""

    spec: ProbeSpec
    memory: dict[str, Any]  # survives between checks of one probe (e.g. which endpoint worked)

    async def get(self, path: str) -> Answer:
        """GET the base URL joined with `path` ("" for the URL itself); any status is returned."""
        ...

    async def tcp_exchange(self, payload: bytes, answer_size: int) -> tuple[bytes, float]:
        """Connect, send `payload`, read up to `answer_size` bytes; (bytes, connect ms)."""
        ...

    async def tcp_connect(self) -> float:
        """Connect and close; the connect time in ms."""
        ...

    async def start_tls_and_close(self) -> None:
        """After an exchange that agreed on TLS: do the handshake (unverified), then close."""
        ...


@dataclass
class Outcome:
    """What a check found; the engine adds the slow threshold and the time."""

    state: ProbeState = ProbeState.UP
    latency_ms: float | None = None
    error: str | None = None
    status_code: int | None = None
    model: str | None = None
    version: str | None = None
    models: tuple[ServedModel, ...] | None = None
    details: dict[str, DetailValue] = field(default_factory=dict)

    @classmethod
    def of(cls, answer: Answer, **kwargs: Any) -> Outcome:
        return cls(latency_ms=answer.latency_ms, status_code=answer.status, **kwargs)

    def degrade(self, why: str) -> None:
        if self.state is ProbeState.UP:
            self.state = ProbeState.DEGRADED
            self.error = why


@dataclass
class Extras:
    """Slow-changing facts (model id, version, limits) fetched now and then, not every check."""

    model: str | None = None
    version: str | None = None
    models: tuple[ServedModel, ...] | None = None
    details: dict[str, DetailValue] = field(default_factory=dict)


Check = Callable[[CheckContext], Awaitable[Outcome]]
FetchExtras = Callable[[CheckContext], Awaitable[Extras]]


# ---------------------------------------------------------------------------------------------
# helpers


def _snippet(body: bytes, limit: int = 40) -> str:
    text = body[:limit].decode("utf-8", errors="replace").strip()
    text = re.sub(r"\s+", " ", text)
    if not text:
        return "empty body"
    return repr(text + ("…" if len(body) > limit else ""))


def _error_message(body: bytes) -> str | None:
    """The message in an error body: {"error": …}, {"detail": …}, {"message": …} or short text."""
    if not body:
        return None
    try:
        doc = msgspec.json.decode(body)
    except msgspec.DecodeError:
        text = body[:MAX_ERROR_TEXT * 2].decode("utf-8", errors="replace").strip()
        if not text or "<" in text[:1] or "\n" in text:
            return None  # HTML pages and multi-line dumps say nothing useful on one line
        return _clip(text)
    if isinstance(doc, dict):
        for key in ("error", "detail", "message", "msg"):
            value = doc.get(key)
            if isinstance(value, dict):
                value = value.get("message") or value.get("msg")
            if isinstance(value, str) and value.strip():
                return _clip(value.strip())
    return None


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR_TEXT else text[: MAX_ERROR_TEXT - 1] + "…"


def json_text(value: Any) -> str:
    """A JSON value as it would be written: true, null, "ok", 3."""
    try:
        return _clip(msgspec.json.encode(value).decode())
    except (TypeError, msgspec.EncodeError):
        return _clip(str(value))


_PATH_PART = re.compile(r"[^.\[\]]+|\[(\d+)\]")


def parse_json_path(text: str) -> tuple[str | int, ...]:
    """"data.0.id" or "data[0].id" → ("data", 0, "id"); ValueError says what is wrong."""
    if not text or text.strip() != text:
        raise ValueError("expected a dotted path such as status or data.0.id")
    parts: list[str | int] = []
    for segment in text.split("."):
        if not segment:
            raise ValueError(f"empty step in {text!r}")
        pos = 0
        for match in _PATH_PART.finditer(segment):
            if match.start() != pos:
                break
            index = match.group(1)
            token = match.group(0)
            parts.append(int(index) if index is not None else (int(token) if token.isdigit() else token))
            pos = match.end()
        if pos != len(segment):
            raise ValueError(f"cannot read step {segment!r} in {text!r}")
    return tuple(parts)


_MISSING = object()


def lookup(doc: Any, path: tuple[str | int, ...]) -> Any:
    """The value at `path`, or _MISSING."""
    value = doc
    for step in path:
        if isinstance(value, dict) and isinstance(step, str) and step in value:
            value = value[step]
        elif isinstance(value, dict) and isinstance(step, int) and str(step) in value:
            value = value[str(step)]
        elif isinstance(value, list) and isinstance(step, int) and -len(value) <= step < len(value):
            value = value[step]
        else:
            return _MISSING
    return value


def values_match(actual: Any, expected: DetailValue) -> bool:
    """JSON value against a configured one: bools only match bools; "1" matches 1 (TOML strings)."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        if isinstance(expected, bool) and isinstance(actual, bool):
            return actual is expected
        if isinstance(expected, str) and isinstance(actual, bool):
            return expected.lower() == ("true" if actual else "false")
        return False
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return float(actual) == float(expected)
    if isinstance(expected, str):
        if isinstance(actual, str):
            return actual == expected
        if isinstance(actual, (int, float)):
            return json_text(actual) == expected
    return False


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _scalar(value: Any) -> DetailValue | None:
    if isinstance(value, (str, int, float, bool)) and value != "":
        return value
    return None


async def _optional_json(ctx: CheckContext, path: str) -> Any:
    """The JSON at `path`, or None when the service has no such endpoint or answers oddly."""
    try:
        answer = await ctx.get(path)
        return answer.json() if answer.ok else None
    except ProbeFailure:
        return None


async def _optional_object(ctx: CheckContext, path: str) -> dict[str, Any]:
    """The JSON object at `path`, or {} when there is none: its fields then read as missing."""
    doc = await _optional_json(ctx, path)
    return doc if isinstance(doc, dict) else {}


def _accept(answer: Answer, *, not_ready: int | None = None, prefix: str = "not ready: ") -> Answer:
    """`answer` if it is a 2xx; `not_ready` (a status the service uses while it starts) is
    degraded, with `prefix` before its words; any other status is down."""
    if answer.status == not_ready:
        raise answer.failure(ProbeState.DEGRADED, prefix=prefix)
    if not answer.ok:
        raise answer.failure()
    return answer


async def _get_ok(ctx: CheckContext, path: str, *, not_ready: int | None = None, prefix: str = "not ready: ") -> Answer:
    """GET `path` and `_accept` the answer."""
    return _accept(await ctx.get(path), not_ready=not_ready, prefix=prefix)


def openai_models(doc: Any) -> tuple[ServedModel, ...] | None:
    """The models in an OpenAI-style {"data": [{"id": …, "max_model_len": …}]} list."""
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        return None
    models = []
    for entry in doc["data"]:
        if isinstance(entry, dict) and _str(entry.get("id")):
            models.append(ServedModel(name=entry["id"], context_length=_int(entry.get("max_model_len"))))
    return tuple(models)


# Words a JSON health body uses, for servers without a documented shape.
_GOOD_STATUS = {"ok", "healthy", "ready", "up", "pass", "alive", "running", "serving", "true"}
_BAD_STATUS = {"error", "unhealthy", "fail", "failed", "failure", "down", "dead", "crashed"}  # anything else: degraded


def _judge_health_body(answer: Answer, outcome: Outcome) -> None:
    """judge_health_json on the body when there is one; plain text ("OK") is a fine health answer."""
    if answer.body.strip():
        with contextlib.suppress(ProbeFailure):
            judge_health_json(answer.json(), outcome)


def judge_health_json(doc: Any, outcome: Outcome) -> None:
    """Read a free-form health body: status words, ready/model_loaded flags, model and version."""
    if not isinstance(doc, dict):
        return
    for key in ("ready", "model_loaded", "loaded", "healthy"):
        if doc.get(key) is False:
            outcome.degrade(f"{key}=false")
    status = doc.get("status")
    if status is False:
        outcome.degrade("status=false")
    elif isinstance(status, str):
        word = status.strip().lower()
        if word in _BAD_STATUS and outcome.state is not ProbeState.DOWN:
            outcome.state, outcome.error = ProbeState.DOWN, f"status={json_text(status)}"
        elif word not in _GOOD_STATUS:
            outcome.degrade(f"status={json_text(status)}")  # loading, starting, warming up…
    for key in ("model", "model_id", "model_name"):
        if _str(doc.get(key)):
            outcome.model = outcome.model or doc[key]
    if _str(doc.get("version")):
        outcome.version = outcome.version or doc["version"]
    device = _str(doc.get("device"))
    if device:
        outcome.details["device"] = device


async def _first_answering(ctx: CheckContext, paths: tuple[str, ...]) -> Answer:
    """GET the first of `paths` that exists (not 404/405), remembering which one for next time."""
    remembered = ctx.memory.get("path")
    order = (remembered, *[p for p in paths if p != remembered]) if remembered in paths else paths
    answer: Answer | None = None
    for path in order:
        answer = await ctx.get(path)
        if answer.status not in (404, 405):
            ctx.memory["path"] = path
            return answer
    assert answer is not None
    ctx.memory.pop("path", None)
    raise ProbeFailure(f"none of {', '.join(paths)} exists (HTTP {answer.status})", status_code=answer.status)


# ---------------------------------------------------------------------------------------------
# generic kinds


async def check_http(ctx: CheckContext) -> Outcome:
    answer = await ctx.get("")
    _expect_status(ctx.spec, answer)
    return Outcome.of(answer)


async def check_http_any(ctx: CheckContext) -> Outcome:
    """Any HTTP answer below 500 (a login page or a 404 at / still means the server serves)."""
    answer = await ctx.get("")
    if answer.status >= 500:
        raise answer.failure()
    return Outcome.of(answer)


async def check_http_json(ctx: CheckContext) -> Outcome:
    spec = ctx.spec
    answer = await ctx.get("")
    _expect_status(spec, answer)
    doc = answer.json()
    outcome = Outcome.of(answer)
    if spec.json_field:
        value = lookup(doc, parse_json_path(spec.json_field))
        if value is _MISSING:
            outcome.degrade(f"{spec.json_field} missing from the answer")
        elif spec.expect_value is None:
            if value is None:
                outcome.degrade(f"{spec.json_field}=null")
        elif not values_match(value, spec.expect_value):
            outcome.degrade(f"{spec.json_field}={json_text(value)} (expected {json_text(spec.expect_value)})")
    if isinstance(doc, dict):
        outcome.version = _str(doc.get("version"))
        outcome.model = _str(doc.get("model")) or _str(doc.get("model_id"))
    return outcome


def _expect_status(spec: ProbeSpec, answer: Answer) -> None:
    if spec.expect_status is None:
        if not answer.ok:
            raise answer.failure()
    elif answer.status not in spec.expect_status:
        expected = " or ".join(str(code) for code in spec.expect_status)
        failure = answer.failure()
        failure.words += f" (expected {expected})"
        raise failure


async def check_tcp(ctx: CheckContext) -> Outcome:
    return Outcome(latency_ms=await ctx.tcp_connect())


# ---------------------------------------------------------------------------------------------
# Postgres: a TCP connect proves little behind Docker's userland proxy (it accepts for a port
# whose container is not listening yet), so ask the server whether it speaks TLS. An SSLRequest
# answered "N", or "S" then a handshake and a clean close, leaves no line in the server's log.

SSL_REQUEST = struct.pack("!II", 8, 80877103)


async def check_postgres(ctx: CheckContext) -> Outcome:
    # Postgres answers one byte and waits; a banner that merely starts with S (SSH-2.0…) is longer
    reply, connect_ms = await ctx.tcp_exchange(SSL_REQUEST, 64)
    outcome = Outcome(latency_ms=connect_ms)
    if reply == b"N":
        outcome.details["tls"] = False
    elif reply == b"S":
        outcome.details["tls"] = True
        await ctx.start_tls_and_close()
    elif reply[:1] == b"E":
        outcome.details["tls"] = False  # very old servers answer the SSLRequest with an error message
    elif not reply:
        raise ProbeFailure("connection closed without an answer (is Postgres listening behind this port?)")
    else:
        raise ProbeFailure(f"not Postgres: answered {_snippet(reply)} to an SSLRequest")
    return outcome


# ---------------------------------------------------------------------------------------------
# Ollama: GET /api/version; models from /api/tags, loaded ones and their memory from /api/ps


async def check_ollama(ctx: CheckContext) -> Outcome:
    answer = await _get_ok(ctx, "/api/version")
    doc = answer.json_object()
    if "version" not in doc:
        raise ProbeFailure('unexpected answer: no "version" field (is this Ollama?)', status_code=answer.status)
    return Outcome.of(answer, version=_str(doc.get("version")))


def _has_model_list(doc: Any) -> bool:
    """Whether an /api/tags or /api/ps answer has its {"models": [...]} list."""
    return isinstance(doc, dict) and isinstance(doc.get("models"), list)


def _ollama_entries(doc: Any) -> dict[str, dict[str, Any]]:
    """The named entries of an /api/tags or /api/ps answer, by name ({} without a list)."""
    entries: dict[str, dict[str, Any]] = {}
    if _has_model_list(doc):
        for entry in doc["models"]:
            if isinstance(entry, dict) and _str(entry.get("name") or entry.get("model")):
                entries[entry.get("name") or entry["model"]] = entry
    return entries


def parse_ollama_models(tags: Any, ps: Any) -> tuple[ServedModel, ...] | None:
    """Every model /api/tags lists, marked loaded (with its memory) when /api/ps lists it."""
    know_loaded = _has_model_list(ps)
    if not know_loaded and not _has_model_list(tags):
        return None
    loaded = _ollama_entries(ps)
    listed = _ollama_entries(tags)
    models = []
    for name in dict.fromkeys([*loaded, *listed]):
        running = loaded.get(name)
        entry = running or listed[name]
        info = entry.get("details") if isinstance(entry.get("details"), dict) else {}
        models.append(
            ServedModel(
                name=name,
                loaded=(running is not None) if know_loaded else None,
                size_bytes=_int(entry.get("size")),
                gpu_bytes=_int(running.get("size_vram")) if running else None,
                context_length=_int(running.get("context_length")) if running else None,
                parameter_size=_str(info.get("parameter_size")),
                quantization=_str(info.get("quantization_level")),
                expires_at=_str(running.get("expires_at")) if running else None,
            )
        )
    return tuple(models)


async def ollama_extras(ctx: CheckContext) -> Extras:
    ps = await _optional_json(ctx, "/api/ps")
    tags = await _optional_json(ctx, "/api/tags")
    models = parse_ollama_models(tags, ps)
    extras = Extras(models=models)
    if models is not None:
        running = [m for m in models if m.loaded]
        extras.model = ", ".join(m.name for m in running) or None
        if _has_model_list(tags):
            extras.details["models_available"] = len(models)
        if _has_model_list(ps):
            extras.details["models_loaded"] = len(running)
            gpu = [m.gpu_bytes for m in running if m.gpu_bytes is not None]
            if gpu:
                extras.details["loaded_gpu_bytes"] = sum(gpu)
    return extras


# ---------------------------------------------------------------------------------------------
# vLLM: GET /health (200, or 5xx when the engine died); served model id from /v1/models


async def check_vllm(ctx: CheckContext) -> Outcome:
    return Outcome.of(await _get_ok(ctx, "/health"))


async def openai_server_extras(ctx: CheckContext, version_path: str, version_key: str) -> Extras:
    extras = Extras()
    models_answer = await ctx.get("/v1/models")
    if models_answer.status in (401, 403):
        extras.details["models"] = "needs an API key"
    elif models_answer.ok:
        try:
            extras.models = openai_models(models_answer.json())
        except ProbeFailure:
            extras.models = None
        if extras.models:
            extras.model = extras.models[0].name
            if extras.models[0].context_length:
                extras.details["max_model_len"] = extras.models[0].context_length
    extras.version = _str((await _optional_object(ctx, version_path)).get(version_key))
    return extras


async def vllm_extras(ctx: CheckContext) -> Extras:
    return await openai_server_extras(ctx, "/version", "version")


# ---------------------------------------------------------------------------------------------
# TEI: GET /health (200 empty, 503 when the backend fails); /info carries the limits


TEI_LIMITS = ("max_client_batch_size", "max_batch_tokens", "max_concurrent_requests", "max_input_length", "max_batch_requests")


async def check_tei(ctx: CheckContext) -> Outcome:
    return Outcome.of(await _get_ok(ctx, "/health"))


def _parse_hf_info(doc: dict[str, Any], limits: tuple[str, ...]) -> Extras:
    """What the /info of TEI and TGI (both Hugging Face routers) share: model id, version, the
    integer `limits`, the dtype."""
    extras = Extras(model=_str(doc.get("model_id")), version=_str(doc.get("version")))
    for key in limits:
        value = _int(doc.get(key))
        if value is not None:
            extras.details[key] = value
    if _str(doc.get("model_dtype")):
        extras.details["dtype"] = doc["model_dtype"]
    return extras


def parse_tei_info(doc: Any) -> Extras:
    if not isinstance(doc, dict):
        return Extras()
    extras = _parse_hf_info(doc, TEI_LIMITS)
    model_type = doc.get("model_type")
    if isinstance(model_type, dict) and len(model_type) == 1:
        extras.details["model_type"] = next(iter(model_type))  # embedding, reranker, classifier
    elif _str(model_type):
        extras.details["model_type"] = model_type
    return extras


async def tei_extras(ctx: CheckContext) -> Extras:
    return parse_tei_info(await _optional_json(ctx, "/info"))


# ---------------------------------------------------------------------------------------------
# NVIDIA NIM: GET /v1/health/ready → 200 ({"ready": true} or {"message": …}); 503 while loading


async def check_nim(ctx: CheckContext) -> Outcome:
    answer = await _get_ok(ctx, "/v1/health/ready", not_ready=503)
    outcome = Outcome.of(answer)
    if answer.body.strip():
        doc = answer.json()
        if isinstance(doc, dict) and doc.get("ready") is False:
            outcome.degrade("ready=false")
    return outcome


async def nim_extras(ctx: CheckContext) -> Extras:
    return await openai_server_extras(ctx, "/v1/version", "release")


# ---------------------------------------------------------------------------------------------
# Infinity: GET /health → {"unix": <timestamp>}; /models lists what it serves


async def check_infinity(ctx: CheckContext) -> Outcome:
    answer = await _get_ok(ctx, "/health")
    doc = answer.json_object()
    if not isinstance(doc.get("unix"), (int, float)):
        raise ProbeFailure('unexpected answer: no "unix" field (is this Infinity?)', status_code=answer.status)
    return Outcome.of(answer)


async def infinity_extras(ctx: CheckContext) -> Extras:
    doc = await _optional_json(ctx, "/models")
    extras = Extras(models=openai_models(doc))
    if extras.models:
        extras.model = ", ".join(m.name for m in extras.models)
        entry = doc["data"][0]
        if _str(entry.get("backend")):
            extras.details["backend"] = entry["backend"]
        if isinstance(entry.get("capabilities"), list):
            extras.details["capabilities"] = ", ".join(str(c) for c in entry["capabilities"])
    return extras


# ---------------------------------------------------------------------------------------------
# OmniParser v2: GET /probe/ → {"message": "Omniparser API ready"}; the Bytebot build has
# GET /health → {"status": "healthy", "device": "cuda"} instead. It parses one image at a time
# (0.8–1.65 s a frame on GB10), so a probe during a parse waits behind it, or behind a short
# queue of them: the slow threshold is higher, and the timeout above it.


async def check_omniparser(ctx: CheckContext) -> Outcome:
    answer = _accept(await _first_answering(ctx, ("/probe/", "/health")))
    doc = answer.json_object()
    outcome = Outcome.of(answer)
    if _str(doc.get("message")):
        outcome.details["message"] = doc["message"]
    if "status" in doc:
        status = doc.get("status")
        if status != "healthy":
            outcome.degrade(f"status={json_text(status)}")
    device = _str(doc.get("device"))
    if device:
        outcome.details["device"] = device
    return outcome


# ---------------------------------------------------------------------------------------------
# docling-serve: GET /health → {"status": "ok"}; GET /ready is 503 until its models are loaded.
# A conversion keeps its workers busy for seconds: like OmniParser, busy is not down.


async def check_docling(ctx: CheckContext) -> Outcome:
    answer = await _get_ok(ctx, "/health")
    doc = answer.json_object()
    outcome = Outcome.of(answer)
    if doc.get("status") != "ok":
        outcome.degrade(f"status={json_text(doc.get('status'))}")
    if not ctx.memory.get("no_ready"):
        ready = await ctx.get("/ready")
        if ready.status == 404:
            ctx.memory["no_ready"] = True  # releases before /ready: /health is all there is
        elif not ready.ok:
            why = ready.failure().words
            outcome.degrade(f"not ready: models loading ({why})" if ready.status == 503 else f"not ready: {why}")
    return outcome


async def docling_extras(ctx: CheckContext) -> Extras:
    doc = await _optional_object(ctx, "/version")
    extras = Extras(version=_str(doc.get("docling-serve")))
    if _str(doc.get("docling")):
        extras.details["docling"] = doc["docling"]
    return extras


# ---------------------------------------------------------------------------------------------
# The seed's NV-Embed FastAPI server: /health when it has one, else FastAPI's /openapi.json
# or /docs (which at least prove the app is serving)


async def check_fastapi(ctx: CheckContext) -> Outcome:
    answer = _accept(await _first_answering(ctx, ("/health", "/openapi.json", "/docs")))
    outcome = Outcome.of(answer)
    path = ctx.memory.get("path")
    outcome.details["endpoint"] = path or ""
    if path == "/health":
        _judge_health_body(answer, outcome)
    elif path == "/openapi.json":
        doc = answer.json_object()
        info = doc.get("info") if isinstance(doc.get("info"), dict) else {}
        outcome.version = _str(info.get("version"))
        if _str(info.get("title")):
            outcome.details["title"] = info["title"]
    return outcome


# ---------------------------------------------------------------------------------------------
# LiteLLM proxy: GET /health/readiness (no key needed) → {"status": "healthy", "db": …,
# "litellm_version": …}; 503 when its database is unreachable. /health itself calls every model
# upstream and needs the master key: not a probe.


async def check_litellm(ctx: CheckContext) -> Outcome:
    answer = _accept(await _first_answering(ctx, ("/health/readiness", "/health/liveliness")), not_ready=503)
    outcome = Outcome.of(answer)
    if ctx.memory.get("path") == "/health/readiness":
        doc = answer.json_object()
        status = doc.get("status")
        if status != "healthy":
            outcome.degrade(f"status={json_text(status)}")
        outcome.version = _str(doc.get("litellm_version"))
        if _scalar(doc.get("db")) is not None:
            outcome.details["db"] = doc["db"]
    return outcome


# ---------------------------------------------------------------------------------------------
# Open WebUI: GET /health → {"status": true}; version from /api/version


async def check_open_webui(ctx: CheckContext) -> Outcome:
    answer = await _get_ok(ctx, "/health")
    doc = answer.json_object()
    outcome = Outcome.of(answer)
    if doc.get("status") is not True:
        outcome.degrade(f"status={json_text(doc.get('status'))}")
    return outcome


async def open_webui_extras(ctx: CheckContext) -> Extras:
    return Extras(version=_str((await _optional_object(ctx, "/api/version")).get("version")))


# ---------------------------------------------------------------------------------------------
# Redis: PING over its own protocol (RESP). "+PONG" is up; "-NOAUTH" means a password is set
# (the server is alive and answering: up, and the table says so); "-LOADING" is a server still
# reading its dataset into memory (degraded); any other error reply is down with its words.

REDIS_PING = b"PING\r\n"  # an inline command: every RESP version answers it


async def check_redis(ctx: CheckContext) -> Outcome:
    reply, connect_ms = await ctx.tcp_exchange(REDIS_PING, 512)
    outcome = Outcome(latency_ms=connect_ms)
    line = reply.split(b"\r\n", 1)[0]
    if line == b"+PONG":
        return outcome
    if not reply:
        raise ProbeFailure("connection closed without an answer (is Redis listening behind this port?)")
    if line[:1] != b"-":
        raise ProbeFailure(f"not Redis: answered {_snippet(reply)} to PING")
    words = _clip(line[1:].decode("utf-8", errors="replace"))
    code = words.split(" ", 1)[0]
    if code in ("NOAUTH", "WRONGPASS") or words.startswith("ERR AUTH"):
        outcome.details["auth"] = "needs a password"
        return outcome
    if code in ("LOADING", "MASTERDOWN", "BUSY", "TRYAGAIN"):
        outcome.degrade(f"not ready: {words}")
        return outcome
    raise ProbeFailure(words)


# ---------------------------------------------------------------------------------------------
# Milvus: GET :9091/healthz → 200 "OK"; 500 with "Not all components are registered, 1/3"
# while starting or "Not all components are healthy, 2/3" when a part failed (degraded: the
# server answers and says which). The gRPC API is on 19530; the health check is on 9091.


async def check_milvus(ctx: CheckContext) -> Outcome:
    answer = await ctx.get("/healthz")
    text = answer.body[:MAX_ERROR_TEXT * 2].decode("utf-8", errors="replace").strip()
    if answer.ok:
        outcome = Outcome.of(answer)
        if text and text != "OK":
            outcome.degrade(f"state: {_clip(text)}")
        return outcome
    if answer.status == 500 and text.startswith("Not all components"):
        raise ProbeFailure(_clip(text), status_code=500, state=ProbeState.DEGRADED, latency_ms=answer.latency_ms)
    raise answer.failure()


# ---------------------------------------------------------------------------------------------
# MinIO: GET /minio/health/live (200: the process serves) then /minio/health/ready (503 until
# it has its drives, or without write quorum: degraded). Both answer with an empty body.


async def check_minio(ctx: CheckContext) -> Outcome:
    outcome = Outcome.of(await _get_ok(ctx, "/minio/health/live"))
    ready = await ctx.get("/minio/health/ready")
    if ready.status == 503:
        outcome.degrade("not ready: no write quorum yet (drives missing or still starting), HTTP 503")
    elif not ready.ok:
        outcome.degrade(f"not ready: {ready.failure().words}")
    return outcome


# ---------------------------------------------------------------------------------------------
# SGLang: GET /health → 200 empty; 503 while the server starts, shuts down or its health
# generation failed (it cannot say which: degraded). Model from /get_model_info, version from
# /get_server_info.


async def check_sglang(ctx: CheckContext) -> Outcome:
    prefix = "not ready (starting, or its health generation failed): "
    return Outcome.of(await _get_ok(ctx, "/health", not_ready=503, prefix=prefix))


async def sglang_extras(ctx: CheckContext) -> Extras:
    extras = Extras()
    info = await _optional_object(ctx, "/get_model_info")
    extras.model = _str(info.get("model_path"))
    if isinstance(info.get("is_generation"), bool):
        extras.details["generation"] = info["is_generation"]
    if extras.model:
        extras.models = (ServedModel(extras.model),)
    server = await _optional_object(ctx, "/get_server_info")
    extras.version = _str(server.get("version"))
    states = server.get("internal_states")  # newer releases keep the scheduler's figures here
    first = states[0] if isinstance(states, list) and states and isinstance(states[0], dict) else {}
    for key in ("context_length", "max_total_num_tokens"):
        value = _int(server.get(key))
        value = value if value is not None else _int(first.get(key))
        if value is not None:
            extras.details[key] = value
    return extras


# ---------------------------------------------------------------------------------------------
# llama.cpp's llama-server: GET /health → 200 {"status": "ok"}; 503 {"error": {"message":
# "Loading model", "type": "unavailable_error"}} while the model loads (degraded). /props
# gives the model file, the context size, the slots and the build.


async def check_llamacpp(ctx: CheckContext) -> Outcome:
    answer = await _get_ok(ctx, "/health", not_ready=503)
    outcome = Outcome.of(answer)
    _judge_health_body(answer, outcome)
    return outcome


def parse_llamacpp_props(doc: Any) -> Extras:
    extras = Extras()
    if not isinstance(doc, dict):
        return extras
    path = _str(doc.get("model_alias")) or _str(doc.get("model_path"))
    if path:
        extras.model = path.rsplit("/", 1)[-1]  # the file name says which model; the directory does not
        extras.models = (ServedModel(extras.model),)
    extras.version = _str(doc.get("build_info"))
    slots = _int(doc.get("total_slots"))
    if slots is not None:
        extras.details["slots"] = slots
    settings = doc.get("default_generation_settings")
    n_ctx = _int(settings.get("n_ctx")) if isinstance(settings, dict) else None
    if n_ctx is not None:
        extras.details["n_ctx"] = n_ctx
    return extras


async def llamacpp_extras(ctx: CheckContext) -> Extras:
    return parse_llamacpp_props(await _optional_json(ctx, "/props"))


# ---------------------------------------------------------------------------------------------
# TensorRT-LLM's trtllm-serve: GET /health → 200 empty; model from /v1/models, version from
# /version ({"version": …}).


async def check_trtllm(ctx: CheckContext) -> Outcome:
    return Outcome.of(await _get_ok(ctx, "/health"))


async def trtllm_extras(ctx: CheckContext) -> Extras:
    return await openai_server_extras(ctx, "/version", "version")


# ---------------------------------------------------------------------------------------------
# Triton Inference Server: GET /v2/health/ready → 200 empty when ready, 400 when not (models
# loading, or one failed to load: degraded); its version from the server metadata at GET /v2.


async def check_triton(ctx: CheckContext) -> Outcome:
    prefix = "not ready (models loading, or one failed to load): "
    return Outcome.of(await _get_ok(ctx, "/v2/health/ready", not_ready=400, prefix=prefix))


async def triton_extras(ctx: CheckContext) -> Extras:
    return Extras(version=_str((await _optional_object(ctx, "/v2")).get("version")))


# ---------------------------------------------------------------------------------------------
# Hugging Face TGI: GET /health → 200 empty; 503 {"error": "unhealthy", "error_type":
# "healthcheck"} when its model shards fail (down: TGI only listens once they have loaded).
# Model and limits from /info.


TGI_LIMITS = ("max_input_tokens", "max_total_tokens", "max_concurrent_requests", "max_client_batch_size", "max_best_of")


async def check_tgi(ctx: CheckContext) -> Outcome:
    return Outcome.of(await _get_ok(ctx, "/health"))


def parse_tgi_info(doc: Any) -> Extras:
    if not isinstance(doc, dict):
        return Extras()
    extras = _parse_hf_info(doc, TGI_LIMITS)
    if extras.model:
        extras.models = (ServedModel(extras.model, context_length=_int(doc.get("max_total_tokens"))),)
    return extras


async def tgi_extras(ctx: CheckContext) -> Extras:
    return parse_tgi_info(await _optional_json(ctx, "/info"))


# ---------------------------------------------------------------------------------------------
# the table

