"""Text generation APIs, streamed: OpenAI-compatible chat and completions (vLLM, SGLang, llama.cpp,
TensorRT-LLM's trtllm-serve, NIM, LiteLLM), Ollama /api/chat, llama.cpp's native /completion.

Per request: TTFT (request written -> first event carrying output), ITL as AIPerf defines it
((last output event - first) / (output tokens - 1)), TPOT as vLLM's bench ((end - TTFT) /
(output tokens - 1)), the gap between every two output events, and token counts from the server
(the usage chunk, Ollama's eval counts, llama.cpp's tokens_predicted), never from counting events:
vLLM's stream interval and TensorRT-LLM send several tokens per event. When the server gives no
count, one token per output event is assumed and the figure is marked as estimated.

Prompts: built from words to about the asked number of tokens (the runner calibrates words ->
tokens from the server's own prompt counts before the sweep), each one starting with a request
number written into the prepared bytes just before sending, so no two prompts share a prefix and
prefix caches cannot shortcut the prefill (--shared-prefix moves the number to the end).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

import msgspec

from spark_tui.core.bench.adapters_base import (
    Adapter,
    Job,
    Outcome,
    PreparedRequest,
    RequestError,
    ollama_preflight,
    pick_served_model,
    probe_json,
    stream,
)
from spark_tui.core.bench.http import Connection, StreamResponse
from spark_tui.core.bench.payload_text import paragraph
from spark_tui.core.untrusted import clean
from spark_tui.models.bench import CellSpec, GenFigures, ServerInfo

PLACEHOLDER = b"00000000"  # the request number's place in every prompt (no other digits there)
# Numbers start at random: runs reuse the same paragraphs, and a server keeps the last prompts'
# KV cache, so a second run numbering from 1 would send the first one's prompts again.
_numbers = itertools.count(random.SystemRandom().randrange(10_000_000, 90_000_000))
DEFAULT_TOKENS_PER_WORD = 1.3  # BPE tokenisers on plain English words, until calibrated
LENGTH_FIELDS = ("ignore_eos", "min_tokens")  # what makes outputs as long as asked, where accepted


@dataclass(frozen=True, slots=True)
class GenJob:
    """What a generation job carries beside its request: the asked lengths and where the request
    number goes in the bytes."""

    number_at: int
    output_tokens: int
    words: int


@dataclass
class Calibration:
    """Prompt tokens = overhead + per_word · words, fitted from two prompts the server counted."""

    per_word: float = DEFAULT_TOKENS_PER_WORD
    overhead: float = 0.0
    measured: bool = False

    def words_for(self, tokens: int) -> int:
        return max(1, round((tokens - self.overhead) / self.per_word))

    def fit(self, points: list[tuple[int, int]]) -> bool:
        """From (words, prompt tokens) pairs of two different lengths; False when they make no sense."""
        if len(points) < 2:
            return False
        (w1, t1), (w2, t2) = points[0], points[-1]
        if w2 == w1 or t2 <= t1:
            return False
        per_word = (t2 - t1) / (w2 - w1)
        if not 0.2 <= per_word <= 10:
            return False
        self.per_word, self.overhead, self.measured = per_word, t1 - per_word * w1, True
        return True


class GenerationAdapter(Adapter):
    kind = "generate"
    unit = "tokens"  # items are output tokens: items/s is the output token rate
    payloads = ("prompt",)
    fixed_batch = 1
    separator: ClassVar[bytes] = b"\n\n"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calibration = Calibration()
        self.force_length = True  # send ignore_eos / min_tokens (dropped when the server refuses them)
        self.shared_prefix = False

    # --- requests ---

    def jobs(self, payload: str, batch: int) -> list[Job]:
        return self.length_jobs(256, 64)

    def cell_jobs(self, spec: CellSpec) -> list[Job]:
        return self.length_jobs(spec.input_tokens or 256, spec.output_tokens or 64)

    def length_jobs(self, input_tokens: int, output_tokens: int, *, words: int | None = None, ring: int | None = None) -> list[Job]:
        words = words or self.calibration.words_for(input_tokens)
        jobs = []
        for i in range(ring or self.payload.ring):
            rng = random.Random(f"spark-tui-prompt-{words}-{i}")
            text = paragraph(rng, words)
            number = PLACEHOLDER.decode()
            prompt = f"{text} (request {number})" if self.shared_prefix else f"Request {number}. {text}"
            if self.shared_prefix:  # the same words for every request: only the number differs, at the end
                prompt = f"{paragraph(random.Random(f'spark-tui-prompt-{words}'), words)} (request {number})"
            request = self.request_for(prompt, output_tokens)
            at = request.wire.find(PLACEHOLDER, request.wire.find(b"\r\n\r\n"))
            jobs.append(Job(request, 1, input_tokens, GenJob(at, output_tokens, words)))
        return jobs

    def calibration_jobs(self) -> list[Job]:
        """Two short prompts of different lengths, one output token each: the server's prompt
        counts fit `Calibration`."""
        return [self.length_jobs(0, 1, words=words, ring=1)[0] for words in (48, 240)]

    def request_for(self, prompt: str, output_tokens: int) -> PreparedRequest:
        body = self.body(prompt, output_tokens)
        body.update(self.options.extra_body)
        return self.post_json(self.path, body)

    def body(self, prompt: str, output_tokens: int) -> dict[str, Any]:
        raise NotImplementedError

    def numbered(self, job: Job) -> PreparedRequest:
        """The job's request with the next request number in its prompt."""
        meta: GenJob = job.meta
        wire = bytearray(job.request.wire)
        wire[meta.number_at : meta.number_at + 8] = b"%08d" % (next(_numbers) % 100_000_000)
        return PreparedRequest(job.request.method, job.request.path, bytes(wire))

    async def fetch(self, conn: Connection, job: Job, timeout: float, meanwhile: Callable[[], None] | None = None) -> Callable[[], Outcome]:
        # each event is read as it arrives: the work is spread over the stream, not piled up at its
        # end, when (in a closed loop of equal requests) every worker's next first token is due
        feeder = self.feeder()
        response = await stream(conn, self.numbered(job), timeout, meanwhile, self.separator, feeder.feed)
        return partial(self.check_stream, job, response, feeder)

    def check(self, job: Job, response: Any) -> Outcome:
        return self.check_stream(job, response)

    # --- answers ---

    def feeder(self) -> Feeder:
        raise NotImplementedError

    def read_events(self, response: StreamResponse) -> Reading:
        """A whole stream read at once (the same reading `fetch` does as events arrive)."""
        feeder = self.feeder()
        for event, t in zip(response.events, response.times):
            feeder.feed(event, t)
        return feeder.finish(response)

    def check_stream(self, job: Job, response: StreamResponse, feeder: Feeder | None = None) -> Outcome:
        reading = feeder.finish(response) if feeder is not None else self.read_events(response)
        times = reading.output_times
        if not times:
            raise RequestError("bad_response", reading.problem or "the stream carried no output")
        meta: GenJob = job.meta
        estimated = reading.output_tokens is None
        output = len(times) if estimated else reading.output_tokens
        source = reading.source if not estimated else "estimated: one token per streamed event (the server sent no token count)"
        start, first, last = response.sent_at, times[0], times[-1]
        end = response.finished_at
        ttft = first - start
        itl = tpot = None
        if output and output > 1:
            itl = (last - first) / (output - 1)
            tpot = (end - first) / (output - 1)
        gaps = [b - a for a, b in itertools.pairwise(times)]
        short = bool(output is not None and output < meta.output_tokens)
        gen = GenFigures(
            ttft_s=ttft, itl_s=itl, tpot_s=tpot, input_tokens=reading.input_tokens, output_tokens=output,
            asked_tokens=meta.output_tokens, events=len(times), tokens_source=source, finish=reading.finish, short=short,
        )
        extra: dict[str, float | int | str] = dict(reading.extra or {})
        if reading.finish:
            extra["finish"] = reading.finish
        return Outcome(output or 0, output, estimated, server_s=reading.server_s, extra=extra or None,
                       status=response.status, gen=gen, gaps=gaps)

    def without_length_fields(self) -> bool:
        """Stop sending ignore_eos / min_tokens; False when there were none to drop."""
        if not self.force_length:
            return False
        self.force_length = False
        return True


@dataclass
class Reading:
    """What a stream said: when output came, the token counts, why it stopped."""

    output_times: list[float]
    output_tokens: int | None = None
    input_tokens: int | None = None
    finish: str | None = None
    source: str = "usage"
    server_s: float | None = None
    extra: dict[str, float | int | str] | None = None
    problem: str | None = None

    def __post_init__(self) -> None:
        if self.extra is None:
            self.extra = {}


class Feeder:
    """Reads one stream event by event, as they arrive (Connection.stream's on_event). A wrong
    event is kept as the request's error, raised by `finish`: the stream is still read to its
    end, so the connection stays usable."""

    __slots__ = ("error", "reading")

    def __init__(self, source: str = "usage") -> None:
        self.reading = Reading([], source=source)
        self.error: RequestError | None = None

    def feed(self, event: bytes, t: float) -> None:
        if self.error is not None:
            return
        try:
            self.take(event, t)
        except RequestError as exc:
            self.error = exc

    def take(self, event: bytes, t: float) -> None:
        raise NotImplementedError

    def finish(self, response: StreamResponse) -> Reading:
        if self.error is not None:
            raise self.error
        self.close(response)
        if self.error is not None:
            raise self.error
        return self.reading

    def close(self, response: StreamResponse) -> None:
        """The stream ended: say what is missing."""


# --- server-sent events ----------------------------------------------------------------------


def sse_data(event: bytes) -> bytes | None:
    """The data of one SSE event (its `data:` lines joined), None for a comment or an event
    without data; an `error:` field (llama.cpp) raises."""
    if event.startswith(b"data: ") and event.count(b"\n") <= 2:
        return event[6:].rstrip(b"\n")
    parts = []
    for line in event.split(b"\n"):
        if line.startswith(b"data:"):
            parts.append(line[5:].removeprefix(b" "))
        elif line.startswith(b"error:"):
            raise RequestError("bad_response", f"the server reported an error in the stream: {stream_error(line[6:].strip())}")
    return b"\n".join(parts) if parts else None


def stream_error(data: bytes) -> str:
    """The message of an error object sent inside a stream ({"error": {"message": …}} and kin)."""
    try:
        value = msgspec.json.decode(data)
    except msgspec.DecodeError:
        return clean(data[:200])
    if isinstance(value, dict):
        inner = value.get("error", value)
        if isinstance(inner, dict):
            inner = inner.get("message") or inner.get("detail") or inner
        if isinstance(inner, str):
            return clean(inner[:200])
    return clean(msgspec.json.encode(value)[:200])


class _Delta(msgspec.Struct):
    content: str | None = None
    reasoning_content: str | None = None  # vLLM / SGLang reasoning parsers
    reasoning: str | None = None


class _Choice(msgspec.Struct):
    delta: _Delta | None = None
    text: str | None = None  # /v1/completions
    finish_reason: str | None = None


class _Usage(msgspec.Struct):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class _Timings(msgspec.Struct):  # llama.cpp adds its own timings to the last chunk
    prompt_per_second: float | None = None
    predicted_per_second: float | None = None
    prompt_ms: float | None = None
    predicted_ms: float | None = None


class _Chunk(msgspec.Struct):
    choices: list[_Choice] | None = None
    usage: _Usage | None = None
    timings: _Timings | None = None
    error: Any = None
    object: str | None = None
    message: str | None = None


_chunk = msgspec.json.Decoder(_Chunk)


def _timing_extra(timings: _Timings | None, extra: dict[str, float | int | str]) -> None:
    if timings is None:
        return
    if timings.prompt_per_second:
        extra["server_prompt_tok_s"] = timings.prompt_per_second
    if timings.predicted_per_second:
        extra["server_decode_tok_s"] = timings.predicted_per_second


_OUTPUT_KEYS = (b'"content":"', b'"text":"', b'"reasoning_content":"', b'"reasoning":"')


def _plain_output(data: bytes) -> bool | None:
    """Whether a compact OpenAI chunk carries output, read without decoding it (~0.3 µs against
    ~1.5 µs: at tens of thousands of tokens a second that is the runner's CPU); None when the
    chunk needs decoding: it may carry usage, an error, a finish_reason or timings, or its JSON is
    not written the compact way. Inside a JSON string a quote is escaped, so these byte patterns
    are keys (or, for "error", possibly a value: then it is decoded, which is only slower)."""
    if b'"usage":{' in data or b'"error"' in data or b'"timings"' in data:
        return None
    if b'"finish_reason"' in data and b'"finish_reason":null' not in data:
        return None
    for key in _OUTPUT_KEYS:
        at = data.find(key)
        if at >= 0:
            if data[at + len(key) : at + len(key) + 1] != b'"':
                return True
            if key == b'"content":"' and b'"reasoning' in data:
                return None  # empty content beside a reasoning field: let the decoder look at both
            return False
    return None


class _OpenAIFeeder(Feeder):
    __slots__ = ("done",)

    def __init__(self) -> None:
        super().__init__()
        self.done = False

    def take(self, event: bytes, t: float) -> None:
        data = sse_data(event)
        if data is None:
            return
        if data == b"[DONE]":
            self.done = True
            return
        fast = _plain_output(data)
        if fast is not None:
            if fast:
                self.reading.output_times.append(t)
            return
        try:
            chunk = _chunk.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise RequestError("bad_response", f"unexpected stream chunk ({exc}): {clean(data[:80])!r}") from None
        if chunk.error is not None or chunk.object == "error":
            raise RequestError("bad_response", f"the server reported an error in the stream: {stream_error(data)}")
        reading = self.reading
        for choice in chunk.choices or ():
            delta = choice.delta
            if choice.text or (delta is not None and (delta.content or delta.reasoning_content or delta.reasoning)):
                reading.output_times.append(t)
            if choice.finish_reason:
                reading.finish = choice.finish_reason
        if chunk.usage is not None:
            reading.output_tokens = chunk.usage.completion_tokens
            reading.input_tokens = chunk.usage.prompt_tokens
        _timing_extra(chunk.timings, reading.extra)  # type: ignore[arg-type]

    def close(self, response: StreamResponse) -> None:
        if not self.done and not self.reading.output_times:
            self.reading.problem = "the stream ended without output and without data: [DONE]"


class OpenAIStreaming(GenerationAdapter):
    """Chat or completions chunks; the usage chunk (choices []) before `data: [DONE]`."""

    def body(self, prompt: str, output_tokens: int) -> dict[str, Any]:
        body: dict[str, Any] = self.prompt_body(prompt)
        if self.model:
            body["model"] = self.model
        body.update({"max_tokens": output_tokens, "stream": True, "stream_options": {"include_usage": True}})
        if self.force_length:
            body.update({"ignore_eos": True, "min_tokens": output_tokens})
        return body

    def prompt_body(self, prompt: str) -> dict[str, Any]:
        raise NotImplementedError

    def feeder(self) -> Feeder:
        return _OpenAIFeeder()

    @property
    def api_root(self) -> str:
        """'/v1' for '/v1/chat/completions' and '/v1/completions'."""
        path = self.path
        for tail in ("/chat/completions", "/completions"):
            if path.endswith(tail):
                return path[: -len(tail)]
        return path.rsplit("/", 1)[0]

    async def preflight(self, conn: Connection) -> ServerInfo:
        notes: list[str] = []
        status, _, problem = await probe_json(conn, self.get("/health"))
        if status is None:
            return self.unreachable(problem)
        health = "ok" if 200 <= status < 300 else ("503 not ready" if status == 503 else None)
        _, data, problem = await probe_json(conn, self.get(self.api_root + "/models"))
        self.model = pick_served_model(self.model, data, problem, self.api_root + "/models", notes)
        server = None
        max_concurrency = None
        _, version, _ = await probe_json(conn, self.get("/version"))
        if isinstance(version, dict) and isinstance(version.get("version"), str):
            server = f"version {version['version']}"
        _, props, _ = await probe_json(conn, self.get("/props"))
        if isinstance(props, dict) and isinstance(props.get("total_slots"), int):
            server = server or "llama.cpp"
            max_concurrency = props["total_slots"]
            notes.append(f"llama.cpp serves {max_concurrency} requests at once (--parallel); more wait in its queue")
        return self.info(health=health, server=server, max_concurrency=max_concurrency, notes=tuple(notes))


class OpenAIChat(OpenAIStreaming):
    name = "openai-chat"
    description = "OpenAI-compatible POST /v1/chat/completions, streamed (vLLM, SGLang, llama.cpp, TensorRT-LLM, NIM, LiteLLM)"
    default_path = "/v1/chat/completions"

    def prompt_body(self, prompt: str) -> dict[str, Any]:
        return {"messages": [{"role": "user", "content": prompt}]}


class OpenAICompletions(OpenAIStreaming):
    name = "openai-completions"
    description = "OpenAI-compatible POST /v1/completions, streamed (no chat template: prompt lengths as built)"
    default_path = "/v1/completions"

    def prompt_body(self, prompt: str) -> dict[str, Any]:
        return {"prompt": prompt}


# --- Ollama /api/chat (NDJSON) ----------------------------------------------------------------


class _OllamaMessage(msgspec.Struct):
    content: str | None = None
    thinking: str | None = None


class _OllamaChunk(msgspec.Struct):
    message: _OllamaMessage | None = None
    done: bool = False
    done_reason: str | None = None
    error: str | None = None
    total_duration: int | None = None  # nanoseconds, final object only
    load_duration: int | None = None
    prompt_eval_count: int | None = None
    prompt_eval_duration: int | None = None
    eval_count: int | None = None
    eval_duration: int | None = None


_ollama_chunk = msgspec.json.Decoder(_OllamaChunk)


class _OllamaFeeder(Feeder):
    __slots__ = ("final",)

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self.final: _OllamaChunk | None = None

    def take(self, event: bytes, t: float) -> None:
        try:
            chunk = _ollama_chunk.decode(event)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise RequestError("bad_response", f"unexpected Ollama stream line ({exc}): {clean(event[:80])!r}") from None
        if chunk.error:
            raise RequestError("bad_response", f"Ollama reported an error in the stream: {clean(chunk.error[:200])}")
        message = chunk.message
        if message is not None and (message.content or message.thinking):
            self.reading.output_times.append(t)
        if chunk.done:
            self.final = chunk

    def close(self, response: StreamResponse) -> None:
        if response.rest.strip():  # a last line without its newline
            self.feed(response.rest, response.finished_at)
            if self.error is not None:
                return
        final, reading = self.final, self.reading
        if final is None:
            reading.problem = "the stream ended without Ollama's final object (done: true)"
            return
        reading.output_tokens = final.eval_count
        reading.input_tokens = final.prompt_eval_count
        reading.finish = final.done_reason
        extra = reading.extra
        assert extra is not None
        if final.prompt_eval_count and final.prompt_eval_duration:
            extra["server_prompt_tok_s"] = final.prompt_eval_count / (final.prompt_eval_duration / 1e9)
        if final.eval_count and final.eval_duration:
            extra["server_decode_tok_s"] = final.eval_count / (final.eval_duration / 1e9)
        if final.load_duration and final.load_duration > 50_000_000:
            extra["load_s"] = final.load_duration / 1e9
        reading.server_s = final.total_duration / 1e9 if final.total_duration else None


class OllamaChat(GenerationAdapter):
    name = "ollama"
    description = "Ollama POST /api/chat, NDJSON stream (num_predict for the length, keep_alive so the model stays loaded)"
    default_path = "/api/chat"
    separator = b"\n"

    def body(self, prompt: str, output_tokens: int) -> dict[str, Any]:
        return {"model": self.model, "messages": [{"role": "user", "content": prompt}], "stream": True,
                "options": {"num_predict": output_tokens}, "keep_alive": self.options.keep_alive}

    def without_length_fields(self) -> bool:
        return False  # num_predict is all Ollama has

    def feeder(self) -> Feeder:
        return _OllamaFeeder("native")

    async def preflight(self, conn: Connection) -> ServerInfo:
        notes = ["Ollama serves OLLAMA_NUM_PARALLEL requests at once per model; more wait in its queue",
                 "Ollama has no ignore_eos: a model may stop before num_predict (counted as stopped early)"]
        return await ollama_preflight(self, conn, notes, embedding=False)


# --- llama.cpp native /completion -------------------------------------------------------------


class _LlamaChunk(msgspec.Struct):
    content: str | None = None
    tokens: list[int] | None = None
    stop: bool = False
    tokens_predicted: int | None = None
    tokens_evaluated: int | None = None
    stop_type: str | None = None
    timings: _Timings | None = None
    error: Any = None


_llama_chunk = msgspec.json.Decoder(_LlamaChunk)


class _LlamaFeeder(Feeder):
    __slots__ = ("final",)

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self.final: _LlamaChunk | None = None

    def take(self, event: bytes, t: float) -> None:
        data = sse_data(event)
        if data is None:
            return
        try:
            chunk = _llama_chunk.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise RequestError("bad_response", f"unexpected llama.cpp stream chunk ({exc}): {clean(data[:80])!r}") from None
        if chunk.error is not None:
            raise RequestError("bad_response", f"the server reported an error in the stream: {stream_error(data)}")
        if chunk.stop:
            self.final = chunk
        elif chunk.content or chunk.tokens:
            self.reading.output_times.append(t)

    def close(self, response: StreamResponse) -> None:
        final, reading = self.final, self.reading
        if final is None:
            reading.problem = "the stream ended without llama.cpp's final chunk (stop: true)"
            return
        reading.output_tokens = final.tokens_predicted
        reading.input_tokens = final.tokens_evaluated
        reading.finish = final.stop_type
        _timing_extra(final.timings, reading.extra)  # type: ignore[arg-type]
        if final.timings is not None and final.timings.prompt_ms is not None and final.timings.predicted_ms is not None:
            reading.server_s = (final.timings.prompt_ms + final.timings.predicted_ms) / 1000


class LlamaCppCompletion(GenerationAdapter):
    name = "llamacpp"
    description = "llama.cpp native POST /completion, streamed (its own timings beside ours)"
    default_path = "/completion"

    def body(self, prompt: str, output_tokens: int) -> dict[str, Any]:
        body: dict[str, Any] = {"prompt": prompt, "n_predict": output_tokens, "stream": True}
        if self.force_length:
            body["ignore_eos"] = True
        return body

    def feeder(self) -> Feeder:
        return _LlamaFeeder("native")

    async def preflight(self, conn: Connection) -> ServerInfo:
        status, _, problem = await probe_json(conn, self.get("/health"))
        if status is None:
            return self.unreachable(problem)
        health = "ok" if 200 <= status < 300 else f"{status}"
        _, props, problem = await probe_json(conn, self.get("/props"))
        if not isinstance(props, dict):
            return self.info(health=health, notes=(f"no llama.cpp /props ({problem or 'not JSON'}) — is this a llama.cpp server?",))
        model = props.get("model_alias") or props.get("model_path")
        if isinstance(model, str) and not self.model:
            self.model = clean(model.rsplit("/", 1)[-1])
        slots = props.get("total_slots") if isinstance(props.get("total_slots"), int) else None
        build = props.get("build_info")
        notes = (f"llama.cpp serves {slots} requests at once (--parallel); more wait in its queue",) if slots else ()
        return self.info(health=health, server=f"llama.cpp {build}" if isinstance(build, str) else "llama.cpp",
                         max_concurrency=slots, notes=notes)


GENERATION_ADAPTERS: tuple[type[GenerationAdapter], ...] = (OpenAIChat, OpenAICompletions, OllamaChat, LlamaCppCompletion)
