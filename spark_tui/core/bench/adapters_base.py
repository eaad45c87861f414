"""What every API adapter shares: the request unit (`Job`), the checked result (`Outcome`),
failures as error classes, and small helpers for pre-flight probes and answer checks."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar, Literal, TypeVar

import msgspec

from spark_tui.core.bench.http import (
    Connection,
    Endpoint,
    PreparedRequest,
    Response,
    StreamResponse,
    TransportError,
    prepare,
)
from spark_tui.core.untrusted import clean
from spark_tui.models.bench import (
    BenchKind,
    CellSpec,
    ErrorClass,
    GenFigures,
    ServerInfo,
)

PROBE_TIMEOUT_S = 5.0
T = TypeVar("T")


class RequestError(Exception):
    """A request that got no usable result; `message` is for the user."""

    def __init__(self, error: ErrorClass, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.error = error
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class Job:
    """One request ready to send: `items` inputs, and an estimate of their tokens where it applies."""

    request: PreparedRequest
    items: int
    tokens_estimate: int | None = None
    meta: Any = None  # adapter-specific (e.g. the documents' page counts)


class Outcome(msgspec.Struct, frozen=True):
    """A checked answer (a Struct: one per request, and cheap to build)."""

    items: int
    tokens: int | None = None
    tokens_estimated: bool = False
    server_s: float | None = None
    extra: dict[str, float | int | str] | None = None
    status: int = 200
    gen: GenFigures | None = None  # generation requests
    gaps: list[float] | None = None  # generation: gaps between output events (summarised, not saved)


@dataclass(frozen=True)
class AdapterOptions:
    """Per-API knobs; every adapter ignores those that do not concern it."""

    model: str | None = None
    path: str | None = None  # the work endpoint below the base URL (Infinity: "/embeddings")
    extra_body: Mapping[str, Any] = field(default_factory=dict)  # merged into each request (NIM: input_type)
    headers: tuple[tuple[str, str], ...] = ()  # e.g. ("Authorization", "Bearer …"); masked when saved
    input_field: str = "texts"  # NV-Embed-style servers: the JSON key holding the texts
    keep_alive: str = "30m"  # Ollama: keeps the model loaded for the whole run
    docling_async: Literal["auto", "always", "never"] = "auto"
    docling_async_pages: int = 20  # auto: documents with at least this many pages go through the async API
    poll_wait_s: float = 5.0


@dataclass(frozen=True)
class PayloadSettings:
    text_words: int = 200
    doc_pages: int = 4
    ring: int = 16  # distinct request bodies per (payload, batch), replayed in turn


class Adapter(ABC):
    name: ClassVar[str]
    kind: ClassVar[BenchKind]
    unit: ClassVar[str]  # what `items` counts: "texts", "frames", "pages"
    description: ClassVar[str]
    default_path: ClassVar[str]
    payloads: ClassVar[tuple[str, ...]]  # payload variants this adapter accepts; the first is the default
    fixed_batch: ClassVar[int | None] = None  # the API takes exactly this many items per request

    def __init__(self, endpoint: Endpoint, options: AdapterOptions, payload: PayloadSettings) -> None:
        self.endpoint = endpoint
        self.options = options
        self.payload = payload
        self.path = options.path or self.default_path
        if not self.path.startswith("/"):
            self.path = "/" + self.path
        self.model: str | None = options.model

    @abstractmethod
    async def preflight(self, conn: Connection) -> ServerInfo:
        """Health, model, limits, version: whatever the API tells, without sending work."""

    @abstractmethod
    def jobs(self, payload: str, batch: int) -> list[Job]:
        """A ring of distinct requests carrying `batch` items of `payload` each."""

    def cell_jobs(self, spec: CellSpec) -> list[Job]:
        """The requests of a cell (generation adapters also look at its lengths)."""
        return self.jobs(spec.payload, spec.batch)

    @staticmethod
    def jobs_key(spec: CellSpec) -> tuple[Any, ...]:
        """Cells with the same key send the same requests."""
        return (spec.payload, spec.batch, spec.input_tokens, spec.output_tokens)

    @abstractmethod
    def check(self, job: Job, response: Response) -> Outcome:
        """The checked result of a 2xx answer; raises RequestError("bad_response", …) when it is wrong."""

    async def fetch(self, conn: Connection, job: Job, timeout: float, meanwhile: Callable[[], None] | None = None) -> Callable[[], Outcome]:
        """Send the job and wait for its answer; returns the answer's check. `meanwhile` (the
        previous answer's check) runs as soon as the request is written (see Connection.send)."""
        response = await send(conn, job.request, timeout, meanwhile)
        return partial(self.check, job, response)

    async def execute(self, conn: Connection, job: Job, timeout: float) -> Outcome:
        return (await self.fetch(conn, job, timeout))()

    def unreachable(self, problem: str | None) -> ServerInfo:
        return ServerInfo(adapter=self.name, url=self.endpoint.url(), reachable=False, problem=clean(problem) if problem else None)

    def info(self, **fields: Any) -> ServerInfo:
        """What pre-flight learnt; the server's words (model, version, notes quoting it) made safe to show."""
        fields.setdefault("model", self.model)
        for name in ("model", "server", "health", "problem"):
            if isinstance(fields.get(name), str):
                fields[name] = clean(fields[name])
        if fields.get("notes"):
            fields["notes"] = tuple(clean(note) for note in fields["notes"])
        return ServerInfo(adapter=self.name, url=self.endpoint.url(), reachable=True, **fields)

    def post_json(self, path: str, body: Any) -> PreparedRequest:
        return prepare(self.endpoint, "POST", path, msgspec.json.encode(body), "application/json", self.options.headers)

    def get(self, path: str) -> PreparedRequest:
        return prepare(self.endpoint, "GET", path, headers=self.options.headers)


async def send(conn: Connection, request: PreparedRequest, timeout: float, meanwhile: Callable[[], None] | None = None) -> Response:
    """Send and insist on a 2xx answer; anything else is a RequestError with its class."""
    try:
        response = await conn.send(request, timeout, meanwhile)
    except TransportError as exc:
        raise RequestError(exc.error, exc.message) from None
    if not 200 <= response.status < 300:
        raise RequestError(classify_status(response.status), describe_failure(request, response), response.status)
    return response


async def stream(conn: Connection, request: PreparedRequest, timeout: float, meanwhile: Callable[[], None] | None = None,
                 separator: bytes = b"\n\n", on_event: Callable[[bytes, float], None] | None = None) -> StreamResponse:
    """`send` for a streamed answer: a 2xx stream, its events stamped, or a RequestError."""
    try:
        response = await conn.stream(request, timeout, meanwhile, separator=separator, on_event=on_event)
    except TransportError as exc:
        raise RequestError(exc.error, exc.message) from None
    if not 200 <= response.status < 300:
        raise RequestError(classify_status(response.status), describe_failure(request, response), response.status)
    return response


def classify_status(status: int) -> ErrorClass:
    if status in (400, 413, 422, 429):
        return str(status)  # type: ignore[return-value]
    if 500 <= status < 600:
        return "5xx"
    if 400 <= status < 500:
        return "4xx"
    return "bad_response"  # 1xx/3xx where a result was due


TOO_LARGE_HINT = " — batch too large for the server"
_SIZE_WORDS = re.compile(r"batch|size|maximum|limit|too large|too many|exceed", re.IGNORECASE)


def describe_failure(request: PreparedRequest, response: Response) -> str:
    """'HTTP 413 from POST /embed: batch size 33 > maximum allowed batch size 32 — batch too large …'.

    413 always means too large; 400 and 422 only when the server's words say so (TEI's
    "batch size 33 > maximum allowed batch size 32"); otherwise the request itself is wrong,
    most often the wrong adapter for the server ("missing field inputs"). The guard and the
    warm-up tell the two apart by TOO_LARGE_HINT."""
    detail = error_detail(response.body)
    head = f"HTTP {response.status}{' ' + response.reason if response.reason else ''} from {request.method} {request.path}"
    status = response.status
    if status == 413 or (status in (400, 422) and _SIZE_WORDS.search(detail)):
        hint = TOO_LARGE_HINT
    elif status in (400, 422):
        hint = " — is the adapter right for this server?"
    elif status in (404, 405) and not route_missing(detail):
        hint = ""  # the route exists and the server said why: its words, no guess
    else:
        hint = {
            404: " — wrong adapter or path for this server?",
            405: " — wrong adapter or path for this server?",
            429: " — the server is overloaded",
            504: " — the server gave up waiting (long documents: use the async API)",
        }.get(status, "")
    return f"{head}: {detail}{hint}" if detail else head + hint


_NO_ROUTE = ("", "not found", "method not allowed", "file not found", "404 page not found", "404 not found")


def route_missing(detail: str) -> bool:
    """Whether a 404/405 says no more than "no such route" (FastAPI's {"detail": "Not Found"}, Go's
    "404 page not found", llama.cpp's "File Not Found"), rather than something the server found
    missing on a route it has (docling's "Task result not found")."""
    text = detail.strip().strip(".").lower()
    return text in _NO_ROUTE or text.startswith(("cannot post", "cannot get"))


def error_detail(body: bytes, limit: int = 200) -> str:
    """The error text of a JSON error body ({"error"|"detail"|"message": …}) or the body's start,
    made safe to show (the server wrote it)."""
    return clean(_error_detail(body, limit))


def _error_detail(body: bytes, limit: int) -> str:
    if not body:
        return ""
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError:
        text = body[:limit].decode("utf-8", "replace").strip()
        return " ".join(text.split())
    if isinstance(data, dict):
        for key in ("error", "detail", "message", "msg"):
            value = data.get(key)
            if isinstance(value, str) and value:
                return value[:limit]
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return value["message"][:limit]
            if isinstance(value, list) and value:
                first = value[0]
                if isinstance(first, dict) and "msg" in first:
                    return str(first["msg"])[:limit]
                return str(first)[:limit]
    return msgspec.json.encode(data)[:limit].decode("utf-8", "replace")


def pick_served_model(model: str | None, data: Any, problem: str | None, where: str, notes: list[str]) -> str | None:
    """The model to ask for, from an OpenAI-style model list (`GET …/models` answered `data`):
    the one given if any, else the first served; what is odd about it goes to `notes`."""
    served: list[str] = []
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        served = [clean(str(m.get("id"))) for m in data["data"] if isinstance(m, dict) and m.get("id")]
    elif problem:
        notes.append(f"no model list at GET {where} ({problem})")
    if model is None and served:
        if len(served) > 1:
            notes.append(f"the server offers {len(served)} models; using {served[0]} (choose with --model)")
        return served[0]
    if model and served and model not in served:
        notes.append(f"model {model!r} is not in the server's list ({', '.join(served[:5])})")
    return model


async def probe_json(conn: Connection, request: PreparedRequest) -> tuple[int | None, Any, str | None]:
    """GET a small JSON resource: (status, decoded JSON or None, problem). Never raises."""
    try:
        response = await conn.send(request, PROBE_TIMEOUT_S)
    except TransportError as exc:
        return None, None, exc.message
    if not 200 <= response.status < 300:
        return response.status, None, describe_failure(request, response)
    if not response.body:
        return response.status, None, None
    try:
        return response.status, msgspec.json.decode(response.body), None
    except msgspec.DecodeError:
        return response.status, response.body[:200].decode("utf-8", "replace"), None


async def ollama_preflight(adapter: Adapter, conn: Connection, notes: list[str], *, embedding: bool) -> ServerInfo:
    """Pre-flight of Ollama's chat and embed APIs alike: its version (is this Ollama?), then the
    model: the one given if installed, else the first installed of the kind wanted (embedding
    models have "embed" in their name), which becomes `adapter.model`. `notes` are the adapter's own."""
    status, version, problem = await probe_json(conn, adapter.get("/api/version"))
    if status is None:
        return adapter.unreachable(problem)
    if not isinstance(version, dict):
        return adapter.info(problem=f"no Ollama API here: {problem or 'GET /api/version gave no version'} — is this an Ollama server?")
    server = f"Ollama {version.get('version', '')}".strip()
    _, tags, _ = await probe_json(conn, adapter.get("/api/tags"))
    installed = [clean(str(m.get("name"))) for m in (tags or {}).get("models", []) if isinstance(m, dict)] if isinstance(tags, dict) else []
    if adapter.model is None:
        fitting = [name for name in installed if ("embed" in name.lower()) == embedding]
        if not fitting:
            what = "embedding model" if embedding else "model"
            return adapter.info(health="ok", server=server, problem=f"name the {what} with --model (installed: {', '.join(installed[:8]) or 'none'})")
        adapter.model = fitting[0]
        notes.append(f"using {adapter.model} (choose with --model)")
    elif installed and not any(adapter.model in (name, name.removesuffix(":latest")) for name in installed):
        return adapter.info(health="ok", server=server,
                            problem=f"model {adapter.model!r} is not installed in Ollama ({', '.join(installed[:8]) or 'none installed'}) — run: ollama pull {adapter.model}")
    return adapter.info(health="ok", server=server, notes=tuple(notes))


_DECODERS: dict[Any, msgspec.json.Decoder[Any]] = {}


def decode(body: bytes, kind: Any, what: str) -> Any:
    """Typed JSON decoding; a mismatch is a bad_response with a readable reason."""
    decoder = _DECODERS.get(kind)
    if decoder is None:
        decoder = _DECODERS[kind] = msgspec.json.Decoder(kind)
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as exc:
        raise RequestError("bad_response", f"unexpected {what}: {exc}") from None
    except msgspec.DecodeError as exc:
        start = body[:60].decode("utf-8", "replace")
        raise RequestError("bad_response", f"malformed JSON in {what} ({exc}): {start!r}") from None


# --- embeddings, checked without parsing their numbers -------------------------------------------
#
# A 64 × 4096 answer is ~5.6 MB of JSON. msgspec skips a msgspec.Raw at ~1 GB/s (it tokenises every
# number) and builds floats slower still. So vectors are found with find() (memchr, ~20 GB/s),
# each one's span of numbers is kept, and msgspec decodes only the small rest of the answer, each
# vector replaced by its index. VectorCheck then counts the numbers (commas) where it must.

Span = tuple[int, int]  # a vector's numbers: body[first:end], without its brackets

_SPACE = frozenset(b" \t\r\n")
_NUMBER_START = frozenset(b"-0123456789")
_DIGITS = frozenset(b"0123456789")


def _skip_space(body: bytes, at: int) -> int:
    while at < len(body) and body[at] in _SPACE:
        at += 1
    return at


def vector_at(body: bytes, at: int) -> tuple[Span, int]:
    """(span of its numbers, index after its ']') of the flat JSON array of numbers opening at body[at].

    Checked at its ends (a number after '[' and a digit before ']') and for no nested list and no
    string inside, without building a float."""
    if body[at : at + 1] != b"[":
        raise RequestError("bad_response", "an embedding is not a list of numbers")
    end = body.find(b"]", at)
    if end < 0:
        raise RequestError("bad_response", "malformed JSON: an embedding is cut short")
    first = _skip_space(body, at + 1)
    if first == end:
        raise RequestError("bad_response", "empty embedding vectors")
    if body.find(b"[", first, end) >= 0:
        raise RequestError("bad_response", "an embedding is a nested list, expected a flat list of numbers")
    last = end - 1
    while body[last] in _SPACE:
        last -= 1
    if body[first] not in _NUMBER_START or body[last] not in _DIGITS or body.find(b'"', first, end) >= 0:
        raise RequestError("bad_response", "an embedding is not a list of numbers")
    return (first, end), end + 1


def vectors_at(body: bytes, at: int) -> tuple[list[Span], int]:
    """(spans, index after its ']') of the JSON array of embeddings opening at body[at]."""
    if body[at : at + 1] != b"[":
        raise RequestError("bad_response", "the embeddings are not a list")
    spans: list[Span] = []
    at = _skip_space(body, at + 1)
    if body[at : at + 1] == b"]":
        return spans, at + 1
    while True:
        span, at = vector_at(body, at)
        spans.append(span)
        at = _skip_space(body, at)
        separator = body[at : at + 1]
        if separator == b"]":
            return spans, at + 1
        if separator != b",":
            raise RequestError("bad_response", "malformed JSON in the list of embeddings")
        at = _skip_space(body, at + 1)


def take_values(body: bytes, key: str, read: Callable[[bytes, int], tuple[T, int]]) -> tuple[bytes, list[T]]:
    """The answer with the value of every `"key":` replaced by its index in the returned list of
    what `read` made of it (`vector_at`, `vectors_at`): small enough for msgspec to decode at once.

    Inside a JSON string a quote is escaped, so `"key"` followed by ':' is always a key."""
    pattern = b'"%s"' % key.encode()
    pieces: list[bytes] = []
    found: list[T] = []
    pos = 0
    at = body.find(pattern)
    while at >= 0:
        colon = _skip_space(body, at + len(pattern))
        if body[colon : colon + 1] != b":":
            at = body.find(pattern, colon)
            continue
        value = _skip_space(body, colon + 1)
        item, end = read(body, value)
        pieces += (body[pos:value], b"%d" % len(found))
        found.append(item)
        pos = end
        at = body.find(pattern, end)
    if not found:
        return body, found
    pieces.append(body[pos:])
    return b"".join(pieces), found


def top_level_vectors(body: bytes) -> list[Span] | None:
    """Spans of the embeddings when the whole answer is a list of them ([[…], …]); None when it is not a list."""
    at = _skip_space(body, 0)
    if body[at : at + 1] != b"[":
        return None
    spans, end = vectors_at(body, at)
    if _skip_space(body, end) != len(body):
        raise RequestError("bad_response", "malformed JSON: text after the list of embeddings")
    return spans


class VectorCheck:
    """One vector per input, every vector the same length, the length steady across the run.

    Every answer's vectors are counted and checked as flat lists of numbers (`vector_at`). Their
    lengths cost one bytes.count over their numbers, ~0.5 ns a byte: 2.8 ms for a 64 × 4096
    answer, more CPU than receiving it (~1 ms), enough to make the runner the bottleneck against a
    fast server. So answers up to FULL_CHECK_BYTES have every vector's length counted; in larger
    ones the first and one more are, the second a different one each answer (so every position
    within batch − 1 answers): ~0.3 ms in all at 64 × 4096 (bench/big_answers.py measures both).
    """

    FULL_CHECK_BYTES = 64 * 1024

    def __init__(self) -> None:
        self.dimension: int | None = None
        self._turn = 0

    def __call__(self, body: bytes, spans: Sequence[Span], expected: int) -> int:
        if len(spans) != expected:
            raise RequestError("bad_response", f"wrong vector count: sent {expected} inputs, got {len(spans)} embeddings")
        if not spans:
            return self.dimension or 0
        if len(body) > self.FULL_CHECK_BYTES and len(spans) > 2:
            self._turn += 1
            spans = (spans[0], spans[1 + self._turn % (len(spans) - 1)])
        dims = [body.count(b",", first, end) + 1 for first, end in spans]
        dim = dims[0]
        if any(d != dim for d in dims):
            raise RequestError("bad_response", f"dimension mismatch within one answer: lengths {sorted(set(dims))}")
        if self.dimension is None:
            self.dimension = dim
        elif dim != self.dimension:
            raise RequestError("bad_response", f"dimension mismatch: got {dim}, earlier answers had {self.dimension}")
        return dim
