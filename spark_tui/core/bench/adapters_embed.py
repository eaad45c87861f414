"""Embedding APIs: OpenAI-compatible (vLLM, NIM, Infinity, TEI's /v1), TEI /embed, Ollama /api/embed,
and NV-Embed-style FastAPI servers (POST /embed with a list of texts)."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, ClassVar

import msgspec

from spark_tui.core.bench.adapters_base import (
    Adapter,
    Job,
    Outcome,
    RequestError,
    Span,
    VectorCheck,
    decode,
    ollama_preflight,
    pick_served_model,
    probe_json,
    take_values,
    top_level_vectors,
    vector_at,
    vectors_at,
)
from spark_tui.core.bench.http import (
    Connection,
    PreparedRequest,
    Response,
    TransportError,
)
from spark_tui.core.bench.payload_text import estimate_tokens, make_texts
from spark_tui.models.bench import ServerInfo

TOKENS_PER_WORD = (0.7, 3.0)  # what real tokenisers give for words; outside it a "token" count is something else


class EmbeddingAdapter(Adapter):
    kind = "embed"
    unit = "texts"
    payloads = ("text",)
    tokenize_path: ClassVar[str | None] = None  # the server's tokenizer endpoint, where it has one

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.vectors = VectorCheck()
        self.token_count: str | None = None  # how the token figures are to be read when they are not the server's tokens
        self.tokens_per_word: float | None = None  # from the server's tokenizer, when its own counts are not tokens

    def jobs(self, payload: str, batch: int) -> list[Job]:
        texts = make_texts(self.payload.ring * batch, self.payload.text_words, seed=batch)
        jobs = []
        for i in range(self.payload.ring):
            chunk = texts[i * batch : (i + 1) * batch]
            words = sum(len(t.split()) for t in chunk)
            jobs.append(Job(self.request_for(chunk), batch, sum(estimate_tokens(t) for t in chunk), meta=words))
        return jobs

    async def check_token_counts(self, conn: Connection, job: Job, tokens: int) -> str | None:
        """Once, on a warm-up answer: is the server's count of tokens one? Some servers fill
        usage.prompt_tokens with characters (~680 "tokens" for 100 words). When it is not, the
        server's tokenizer endpoint (vLLM, TEI: /tokenize) calibrates tokens per word, or the
        figures stay the server's own number, said so. Returns what the user should be told."""
        words = job.meta if isinstance(job.meta, int) and job.meta > 0 else None
        if words is None or TOKENS_PER_WORD[0] <= tokens / words <= TOKENS_PER_WORD[1]:
            return None
        ratio = tokens / words
        said = (f"the server counts {tokens} tokens for {words} words ({ratio:.1f} per word; tokenisers give "
                f"{TOKENS_PER_WORD[0]:g}-{TOKENS_PER_WORD[1]:g}): its count is not tokens")
        per_word = await self._tokenize_calibration(conn)
        if per_word is not None:
            self.tokens_per_word = per_word
            self.token_count = f"estimated: {per_word:.2f} tokens per word, from the server's {self.tokenize_path}"
            return f"{said}; tokens are estimated with its own tokenizer ({self.tokenize_path}: {per_word:.2f} per word)"
        self.token_count = f"the server's own count, not tokens ({ratio:.1f} per word)"
        return f"{said}; tok/s shows the server's own number (marked ?)"

    async def _tokenize_calibration(self, conn: Connection) -> float | None:
        if self.tokenize_path is None:
            return None
        text = make_texts(1, max(50, self.payload.text_words), seed=9999)[0]
        request = self.post_json(self.tokenize_path, self.tokenize_body(text))
        try:
            response = await conn.send(request, 10.0)
        except TransportError:
            return None
        if not 200 <= response.status < 300:
            return None
        try:
            count = self.tokenize_count(msgspec.json.decode(response.body))
        except (msgspec.DecodeError, TypeError, KeyError, IndexError, ValueError):
            return None
        if not count:
            return None
        per_word = count / len(text.split())
        return per_word if TOKENS_PER_WORD[0] <= per_word <= TOKENS_PER_WORD[1] else None

    def tokenize_body(self, text: str) -> dict[str, Any]:
        return {"prompt": text, **({"model": self.model} if self.model else {})}  # vLLM's /tokenize

    @staticmethod
    def tokenize_count(answer: Any) -> int | None:
        return int(answer["count"]) if isinstance(answer, dict) else None

    @abstractmethod
    def request_for(self, texts: list[str]) -> PreparedRequest:
        """The request that embeds `texts`."""

    def embed_outcome(self, job: Job, response: Response, spans: list[Span], tokens: int | None, **fields: Any) -> Outcome:
        """Checks the vectors (`spans` in the answer's body); tokens the server did not count are estimated (and marked so)."""
        self.vectors(response.body, spans, job.items)
        if self.tokens_per_word is not None and isinstance(job.meta, int):
            return Outcome(job.items, round(job.meta * self.tokens_per_word), True, **fields)
        if tokens is None:
            return Outcome(job.items, job.tokens_estimate, True, **fields)
        return Outcome(job.items, tokens, False, **fields)


# The answers' Structs see each vector as its index in the lengths `take_values` counted.

# --- OpenAI /v1/embeddings ---------------------------------------------------------------------


class _OpenAIItem(msgspec.Struct):
    embedding: int
    index: int | None = None


class _OpenAIUsage(msgspec.Struct):
    prompt_tokens: int | None = None
    total_tokens: int | None = None


class _OpenAIAnswer(msgspec.Struct):
    data: list[_OpenAIItem]
    usage: _OpenAIUsage | None = None


class OpenAIEmbeddings(EmbeddingAdapter):
    name = "openai"
    description = "OpenAI-compatible /v1/embeddings (vLLM, NIM, Infinity with --path /embeddings, TEI, Ollama)"
    default_path = "/v1/embeddings"
    tokenize_path = "/tokenize"  # vLLM's (and TEI's, with another body: tried by shape)

    def tokenize_body(self, text: str) -> dict[str, Any]:
        # vLLM reads "prompt", TEI "inputs": one body serves both
        return {"prompt": text, "inputs": text, **({"model": self.model} if self.model else {})}

    @staticmethod
    def tokenize_count(answer: Any) -> int | None:
        if isinstance(answer, dict):
            return int(answer["count"])
        if isinstance(answer, list) and answer and isinstance(answer[0], list):
            return len(answer[0])  # TEI: one list of tokens per input
        return None

    @property
    def models_path(self) -> str:
        return self.path.rsplit("/", 1)[0] + "/models"

    async def preflight(self, conn: Connection) -> ServerInfo:
        notes: list[str] = []
        health = None
        for path in ("/health", "/v1/health/ready"):
            status, _, problem = await probe_json(conn, self.get(path))
            if status is None:
                return self.unreachable(problem)
            if 200 <= status < 300 or status == 503:
                health = "ok" if status < 300 else "503 not ready"
                break
        status, data, problem = await probe_json(conn, self.get(self.models_path))
        self.model = pick_served_model(self.model, data, problem, self.models_path, notes)
        server = None
        _, version, _ = await probe_json(conn, self.get("/version"))
        if isinstance(version, dict) and isinstance(version.get("version"), str):
            server = f"version {version['version']}"
        return self.info(health=health, server=server, notes=tuple(notes))

    def request_for(self, texts: list[str]) -> PreparedRequest:
        body: dict[str, Any] = {"input": texts, "encoding_format": "float"}
        if self.model:
            body["model"] = self.model
        body.update(self.options.extra_body)
        return self.post_json(self.path, body)

    def check(self, job: Job, response: Response) -> Outcome:
        body, spans = take_values(response.body, "embedding", vector_at)
        answer = decode(body, _OpenAIAnswer, "embeddings answer")
        tokens = answer.usage.prompt_tokens if answer.usage else None
        return self.embed_outcome(job, response, [spans[item.embedding] for item in answer.data], tokens or None, status=response.status)


# --- TEI /embed --------------------------------------------------------------------------------


class TeiEmbed(EmbeddingAdapter):
    name = "tei"
    description = "Hugging Face text-embeddings-inference POST /embed (+ /info limits, x-*-time headers)"
    default_path = "/embed"
    tokenize_path = "/tokenize"

    def tokenize_body(self, text: str) -> dict[str, Any]:
        return {"inputs": text}

    @staticmethod
    def tokenize_count(answer: Any) -> int | None:
        return len(answer[0]) if isinstance(answer, list) and answer and isinstance(answer[0], list) else None

    async def preflight(self, conn: Connection) -> ServerInfo:
        status, _, problem = await probe_json(conn, self.get("/health"))
        if status is None:
            return self.unreachable(problem)
        health = "ok" if 200 <= status < 300 else f"{status}"
        status, info, problem = await probe_json(conn, self.get("/info"))
        if not isinstance(info, dict) or "model_id" not in info:
            why = problem or "no model_id in the answer"
            return self.info(health=health, notes=(f"no TEI /info ({why}): the batch limit is unknown — is this a TEI server?",))
        self.model = self.model or _str(info.get("model_id"))
        version = _str(info.get("version"))
        return self.info(
            health=health,
            server=f"TEI {version}" if version else "TEI",
            model=self.model,
            max_batch=_int(info.get("max_client_batch_size")),
            max_batch_tokens=_int(info.get("max_batch_tokens")),
            max_concurrency=_int(info.get("max_concurrent_requests")),
        )

    def request_for(self, texts: list[str]) -> PreparedRequest:
        body: dict[str, Any] = {"inputs": texts, "truncate": True}
        body.update(self.options.extra_body)
        return self.post_json(self.path, body)

    def check(self, job: Job, response: Response) -> Outcome:
        spans = top_level_vectors(response.body)
        if spans is None:  # what came instead, said by msgspec ("Expected `array`, got `object`")
            decode(response.body, list[Any], "TEI /embed answer")
            raise RequestError("bad_response", "unexpected TEI /embed answer")
        headers = response.headers
        extra: dict[str, float | int | str] = {}
        for header, key in (("x-queue-time", "queue_s"), ("x-inference-time", "inference_s"), ("x-tokenization-time", "tokenization_s")):
            value = _ms(headers.get(header))
            if value is not None:
                extra[key] = value
        server_s = _ms(headers.get("x-total-time")) or _ms(headers.get("x-compute-time"))
        tokens = _int(headers.get("x-compute-tokens"))
        return self.embed_outcome(job, response, spans, tokens, server_s=server_s, extra=extra or None, status=response.status)


# --- Ollama /api/embed -------------------------------------------------------------------------


class _OllamaAnswer(msgspec.Struct):
    embeddings: int
    prompt_eval_count: int | None = None
    total_duration: int | None = None  # nanoseconds
    load_duration: int | None = None


class OllamaEmbed(EmbeddingAdapter):
    name = "ollama"
    description = "Ollama POST /api/embed (keep_alive so the model stays loaded; warm-up loads it)"
    default_path = "/api/embed"

    async def preflight(self, conn: Connection) -> ServerInfo:
        notes = ["Ollama embeds a batch as parallel calls, capped by OLLAMA_NUM_PARALLEL on the server"]
        return await ollama_preflight(self, conn, notes, embedding=True)

    def request_for(self, texts: list[str]) -> PreparedRequest:
        body: dict[str, Any] = {"model": self.model, "input": texts, "keep_alive": self.options.keep_alive}
        body.update(self.options.extra_body)
        return self.post_json(self.path, body)

    def check(self, job: Job, response: Response) -> Outcome:
        body, found = take_values(response.body, "embeddings", vectors_at)
        answer = decode(body, _OllamaAnswer, "Ollama /api/embed answer")
        extra: dict[str, float | int | str] | None = None
        if answer.load_duration:
            extra = {}
            extra["load_s"] = answer.load_duration / 1e9
        server_s = answer.total_duration / 1e9 if answer.total_duration else None
        return self.embed_outcome(job, response, found[answer.embeddings], answer.prompt_eval_count or None, server_s=server_s, extra=extra, status=response.status)


# --- NV-Embed-style /embed ---------------------------------------------------------------------


class NvEmbed(EmbeddingAdapter):
    name = "nvembed"
    description = "NV-Embed-style FastAPI POST /embed {texts: [...]} → {embeddings: [[...]]} (field via --input-field)"
    default_path = "/embed"

    async def preflight(self, conn: Connection) -> ServerInfo:
        status, data, problem = await probe_json(conn, self.get("/health"))
        if status is None:
            return self.unreachable(problem)
        notes: list[str] = []
        health = "ok" if 200 <= status < 300 else None
        if health is None:
            notes.append(f"no /health endpoint ({problem}); the warm-up request checks the server")
        elif isinstance(data, dict):
            self.model = self.model or _str(data.get("model")) or _str(data.get("model_name"))
        return self.info(health=health, notes=tuple(notes))

    def request_for(self, texts: list[str]) -> PreparedRequest:
        body: dict[str, Any] = {self.options.input_field: texts}
        body.update(self.options.extra_body)
        return self.post_json(self.path, body)

    def check(self, job: Job, response: Response) -> Outcome:
        spans = top_level_vectors(response.body)
        if spans is None:
            for key in ("embeddings", "vectors"):
                body, found = take_values(response.body, key, vectors_at)
                if found:
                    spans = found[decode(body, dict[str, Any], "/embed answer")[key]]
                    break
            else:
                answer = decode(response.body, dict[str, msgspec.Raw], "/embed answer")
                raise RequestError("bad_response", f"the /embed answer has no embeddings (keys: {', '.join(sorted(answer)) or 'none'})")
        return self.embed_outcome(job, response, spans, None, status=response.status)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _ms(value: str | None) -> float | None:
    """A TEI timing header (milliseconds) in seconds."""
    try:
        return float(value) / 1000 if value is not None else None
    except ValueError:
        return None
