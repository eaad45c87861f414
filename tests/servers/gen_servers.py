"""A loopback text generation server with a known timing model, speaking each engine's stream as
its own source writes it.

Timing: a request waits for one of `parallel` slots (C), its first token is ready `a_ms` (A) after
it got one, then one token every `i_ms` (I). The first token goes out alone (vLLM's stream interval
also sends the first token at once); after it, `per_event` tokens go in each event, sent when the
event's last token is ready. So a client must see TTFT = A, ITL = I, and a closed loop of K <= C
asking n tokens gets K·n / (A + (n-1)·I) tokens/s. Sleeps aim at absolute times, so errors do not
add up over a long answer. With I = 0 the whole stream goes out in one write: as fast as it can.

Prompt tokens: one per whitespace-separated word of the prompt (+ CHAT_TEMPLATE_TOKENS for chat
messages), reported as the engine reports them.

Wire formats (checked against the engines' sources and a real llama.cpp server):
- "vllm": /v1/chat/completions and /v1/completions, chunked SSE `data: {…}\\n\\n`: a role chunk
  (delta {"role": "assistant", "content": ""}), content chunks, the finish_reason in the last
  content chunk, a usage chunk with "choices": [] when stream_options.include_usage, `data: [DONE]`;
  GET /health, /v1/models, /version. (SGLang and trtllm-serve write the same shapes.)
- "llamacpp": the same routes as llama.cpp writes them (role chunk with "content": null, an empty
  delta with the finish_reason, usage + "timings" in a chunk with "choices": []; completions put
  usage and timings in the finishing chunk), the native /completion stream (content, tokens, stop,
  tokens_predicted; the final chunk with stop: true, stop_type, timings), GET /props.
- "ollama": /api/chat NDJSON lines (message.content, done: false) and a final object with
  done: true, done_reason, total/load/prompt_eval/eval durations in ns and counts; /api/version, /api/tags.

Options: `eos_after` (stop after that many tokens unless ignore_eos is sent: a model meeting its
EOS), `strict` (400 for ignore_eos / min_tokens, as a strict OpenAI server), `usage` (False: no
usage chunk, as servers that ignore include_usage), `fail_after` (an error object mid-stream).

In tests: `with GenServer("vllm", a_ms=20, i_ms=5) as srv: srv.url`. As a process (bench/):
`python tests/servers/gen_servers.py --shape vllm --a-ms 20 --i-ms 5 --parallel 64` prints "PORT n".
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from typing import Any

CHAT_TEMPLATE_TOKENS = 7
MODEL = "loopback-llm"
CREATED = 1_760_000_000


def sleep_until(at: float) -> None:
    delay = at - time.perf_counter()
    if delay > 0:
        time.sleep(delay)


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


class GenServer:
    def __init__(self, shape: str = "vllm", *, a_ms: float = 10.0, i_ms: float = 2.0, parallel: int = 64, per_event: int = 1,
                 eos_after: int | None = None, strict: bool = False, usage: bool = True, fail_after: int | None = None,
                 port: int = 0) -> None:
        self.shape = shape
        self.a_s = a_ms / 1000
        self.i_s = i_ms / 1000
        self.per_event = max(1, per_event)
        self.eos_after = eos_after
        self.strict = strict
        self.usage = usage
        self.fail_after = fail_after
        self.slots = threading.Semaphore(parallel)
        self.bodies: list[dict[str, Any]] = []  # the JSON of every generation request
        self.finished: list[float] = []  # time.monotonic() when each stream's last byte was written
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self._sock.listen(1024)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, name=f"gen-{shape}", daemon=True)
        self._connections: list[socket.socket] = []
        self._cache: dict[tuple[Any, ...], bytes] = {}  # content events are the same bytes each time: built once

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> GenServer:  # noqa: PYI034 - the tests' own classes, never subclassed
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stopping.set()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        with self._lock:
            for conn in self._connections:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._thread.join(timeout=5)

    # --- HTTP ---

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._connections.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        try:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                while len(buffer) < length:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                body, buffer = buffer[:length], buffer[length:]
                if method == "GET":
                    self._get(conn, path)
                else:
                    self._post(conn, path, body)
        except OSError:
            return
        finally:
            conn.close()

    @staticmethod
    def _answer(conn: socket.socket, status: int, value: Any, content_type: str = "application/json") -> None:
        data = value if isinstance(value, bytes) else dumps(value)
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}.get(status, "Error")
        conn.sendall(b"HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %d\r\n\r\n" % (status, reason.encode(), content_type.encode(), len(data)) + data)

    def _get(self, conn: socket.socket, path: str) -> None:
        shape = self.shape
        if shape in ("vllm", "llamacpp") and path == "/health":
            return self._answer(conn, 200, {"status": "ok"} if shape == "llamacpp" else b"")
        if shape in ("vllm", "llamacpp") and path == "/v1/models":
            return self._answer(conn, 200, {"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": shape}]})
        if shape == "vllm" and path == "/version":
            return self._answer(conn, 200, {"version": "0.11.0"})
        if shape == "llamacpp" and path == "/props":
            return self._answer(conn, 200, {"model_path": f"/models/{MODEL}.gguf", "total_slots": 4, "build_info": "b6000-loopback"})
        if shape == "ollama" and path == "/api/version":
            return self._answer(conn, 200, {"version": "0.12.0"})
        if shape == "ollama" and path == "/api/tags":
            return self._answer(conn, 200, {"models": [{"name": "nomic-embed-text:latest"}, {"name": "llama3.2:latest"}]})
        self._answer(conn, 404, {"error": "File Not Found"} if shape == "llamacpp" else {"detail": "Not Found"})

    def _post(self, conn: socket.socket, path: str, body: bytes) -> None:
        try:
            request = json.loads(body)
        except ValueError:
            return self._answer(conn, 400, {"error": {"message": "body is not JSON", "type": "invalid_request_error", "code": 400}})
        routes = {"vllm": ("/v1/chat/completions", "/v1/completions"),
                  "llamacpp": ("/v1/chat/completions", "/v1/completions", "/completion"),
                  "ollama": ("/api/chat",)}[self.shape]
        if path not in routes:
            return self._answer(conn, 404, {"detail": "Not Found"})
        with self._lock:
            self.bodies.append(request)
        if self.strict and ("ignore_eos" in request or "min_tokens" in request):
            return self._answer(conn, 400, {"error": {"message": "Unrecognized request arguments supplied: ignore_eos, min_tokens", "type": "invalid_request_error"}})
        if path == "/api/chat":
            prompt = " ".join(m.get("content", "") for m in request.get("messages", []))
            asked = int((request.get("options") or {}).get("num_predict") or 128)
            ignore_eos = False
        elif path == "/completion":
            prompt = request.get("prompt", "")
            asked = int(request.get("n_predict") or 16)
            ignore_eos = bool(request.get("ignore_eos"))
        else:
            prompt = request.get("prompt") or " ".join(m.get("content", "") for m in request.get("messages", []))
            asked = int(request.get("max_tokens") or request.get("max_completion_tokens") or 16)
            ignore_eos = bool(request.get("ignore_eos"))
        prompt_tokens = len(str(prompt).split()) + (CHAT_TEMPLATE_TOKENS if "messages" in request else 0)
        n = asked if ignore_eos or self.eos_after is None else min(asked, self.eos_after)
        finish = "length" if n == asked else "stop"
        include_usage = bool((request.get("stream_options") or {}).get("include_usage")) and self.usage
        kind = {"/v1/chat/completions": "chat", "/v1/completions": "completions", "/completion": "native", "/api/chat": "ollama"}[path]
        with self.slots:
            self._stream(conn, kind, n, prompt_tokens, finish, include_usage)

    # --- streams ---

    def _stream(self, conn: socket.socket, kind: str, n: int, prompt_tokens: int, finish: str, include_usage: bool) -> None:
        got_slot = time.perf_counter()
        content_type = b"application/x-ndjson" if kind == "ollama" else b"text/event-stream"
        head = b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\ntransfer-encoding: chunked\r\n\r\n" % content_type
        groups = [1] + [self.per_event] * ((n - 1) // self.per_event) + ([(n - 1) % self.per_event] if (n - 1) % self.per_event else [])
        if n <= 1:
            groups = [n]
        events: list[tuple[float, bytes]] = []
        opening = self._opening(kind)
        produced = 0
        for index, size in enumerate(groups):
            produced += size
            last = produced == n
            ready = got_slot + self.a_s + (produced - 1) * self.i_s
            text = " tok" * size
            if self.fail_after is not None and produced > self.fail_after:
                events.append((ready, self._error(kind)))
                break
            events.append((ready, self._content(kind, text, produced, prompt_tokens, finish if last else None, opening if index == 0 else b"")))
        else:
            end = events[-1][0] if events else got_slot + self.a_s
            total_s = end - got_slot
            events.append((end, self._closing(kind, n, prompt_tokens, finish, include_usage, total_s)))
        if self.i_s == 0:  # as fast as it can: one write
            sleep_until(events[0][0])
            conn.sendall(head + b"".join(chunk(data) for _, data in events) + b"0\r\n\r\n")
        else:
            conn.sendall(head)
            for at, data in events:
                sleep_until(at)
                conn.sendall(chunk(data))
            conn.sendall(b"0\r\n\r\n")
        with self._lock:
            self.finished.append(time.monotonic())

    def _opening(self, kind: str) -> bytes:
        """vLLM and llama.cpp open a chat stream with a role-only chunk."""
        if kind != "chat":
            return b""
        delta = {"role": "assistant", "content": ""} if self.shape == "vllm" else {"role": "assistant", "content": None}
        return self._sse(self._chat_chunk([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}]))

    def _chat_chunk(self, choices: list[Any], **more: Any) -> dict[str, Any]:
        return {"id": "chatcmpl-loopback", "object": "chat.completion.chunk", "created": CREATED, "model": MODEL, "choices": choices, **more}

    @staticmethod
    def _sse(value: Any) -> bytes:
        return b"data: " + dumps(value) + b"\n\n"

    def _timings(self, n: int, prompt_tokens: int, total_s: float) -> dict[str, float]:
        prompt_ms = self.a_s * 1000
        predicted_ms = max(1e-6, (total_s - self.a_s) * 1000)
        return {"cache_n": 0, "prompt_n": prompt_tokens, "prompt_ms": prompt_ms, "prompt_per_token_ms": prompt_ms / max(1, prompt_tokens),
                "prompt_per_second": prompt_tokens / max(1e-9, self.a_s), "predicted_n": n, "predicted_ms": predicted_ms,
                "predicted_per_token_ms": predicted_ms / max(1, n), "predicted_per_second": n / (predicted_ms / 1000)}

    def _content(self, kind: str, text: str, produced: int, prompt_tokens: int, finish: str | None, opening: bytes) -> bytes:
        if kind == "native":
            return self._content_uncached(kind, text, produced, prompt_tokens, finish, opening)
        key = (kind, text, finish, opening)
        data = self._cache.get(key)
        if data is None:
            data = self._cache[key] = self._content_uncached(kind, text, produced, prompt_tokens, finish, opening)
        return data

    def _content_uncached(self, kind: str, text: str, produced: int, prompt_tokens: int, finish: str | None, opening: bytes) -> bytes:
        if kind == "chat":
            if self.shape == "vllm":
                choice = {"index": 0, "delta": {"content": text}, "logprobs": None, "finish_reason": finish}
                return opening + self._sse(self._chat_chunk([choice]))
            choice = {"finish_reason": None, "index": 0, "delta": {"content": text}}
            out = opening + self._sse(self._chat_chunk([choice]))
            if finish:
                out += self._sse(self._chat_chunk([{"finish_reason": finish, "index": 0, "delta": {}}]))
            return out
        if kind == "completions":
            value = {"id": "cmpl-loopback", "object": "text_completion", "created": CREATED, "model": MODEL,
                     "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": finish if self.shape == "vllm" else None}]}
            out = self._sse(value)
            if finish and self.shape == "llamacpp":
                pass  # llama.cpp finishes in the closing chunk, with usage and timings
            return out
        if kind == "native":
            return self._sse({"index": 0, "content": text, "tokens": list(range(text.count("tok"))), "stop": False, "id_slot": -1,
                              "tokens_predicted": produced, "tokens_evaluated": prompt_tokens})
        return dumps({"model": MODEL, "created_at": "2026-12-05T18:00:00.000000Z", "message": {"role": "assistant", "content": text}, "done": False}) + b"\n"

    def _closing(self, kind: str, n: int, prompt_tokens: int, finish: str, include_usage: bool, total_s: float) -> bytes:
        usage = {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens + n, "completion_tokens": n}
        if kind == "chat":
            out = b""
            if include_usage:
                extra = {"timings": self._timings(n, prompt_tokens, total_s)} if self.shape == "llamacpp" else {}
                out += self._sse(self._chat_chunk([], usage=usage, **extra))
            return out + b"data: [DONE]\n\n"
        if kind == "completions":
            out = b""
            if self.shape == "llamacpp":
                value = {"choices": [{"text": "", "index": 0, "logprobs": None, "finish_reason": finish}], "created": CREATED, "model": MODEL,
                         "object": "text_completion", "id": "cmpl-loopback", "timings": self._timings(n, prompt_tokens, total_s)}
                if include_usage:
                    value["usage"] = usage
                out += self._sse(value)
            elif include_usage:
                out += self._sse({"id": "cmpl-loopback", "object": "text_completion", "created": CREATED, "model": MODEL, "choices": [], "usage": usage})
            return out + b"data: [DONE]\n\n"
        if kind == "native":
            return self._sse({"index": 0, "content": "", "tokens": [], "id_slot": 0, "stop": True, "model": MODEL, "tokens_predicted": n,
                              "tokens_evaluated": prompt_tokens, "generation_settings": {"n_predict": n}, "prompt": "", "has_new_line": False,
                              "truncated": False, "stop_type": "limit" if finish == "length" else "eos", "stopping_word": "", "tokens_cached": prompt_tokens + n,
                              "timings": self._timings(n, prompt_tokens, total_s)})
        ns = 1_000_000_000
        return dumps({"model": MODEL, "created_at": "2026-12-05T18:00:01.000000Z", "message": {"role": "assistant", "content": ""},
                      "done_reason": finish, "done": True, "total_duration": int(total_s * ns), "load_duration": 1_000_000,
                      "prompt_eval_count": prompt_tokens, "prompt_eval_duration": int(self.a_s * ns) or 1,
                      "eval_count": n, "eval_duration": max(1, int((total_s - self.a_s) * ns))}) + b"\n"

    def _error(self, kind: str) -> bytes:
        if kind == "ollama":
            return dumps({"error": "model runner has unexpectedly stopped"}) + b"\n"
        if self.shape == "llamacpp":
            return b"error: " + dumps({"code": 500, "message": "slot failed", "type": "server_error"}) + b"\n\n"
        return self._sse({"error": {"object": "error", "message": "engine dead", "type": "InternalServerError", "code": 500}})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", default="vllm", choices=("vllm", "llamacpp", "ollama"))
    parser.add_argument("--a-ms", type=float, default=10.0)
    parser.add_argument("--i-ms", type=float, default=2.0)
    parser.add_argument("--parallel", type=int, default=64)
    parser.add_argument("--per-event", type=int, default=1)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    sys.setswitchinterval(0.0002)  # a stream thread woken on time must not wait 5 ms for the GIL
    server = GenServer(args.shape, a_ms=args.a_ms, i_ms=args.i_ms, parallel=args.parallel, per_event=args.per_event, port=args.port)
    with server:
        print(f"PORT {server.port}", flush=True)
        try:
            sys.stdin.read()  # until the parent closes our stdin
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()


class GenServerProcess:
    """The same server in a child process (its own GIL: timing figures are then the model's)."""

    def __init__(self, shape: str = "vllm", *, a_ms: float = 10.0, i_ms: float = 2.0, parallel: int = 64, per_event: int = 1,
                 cpus: set[int] | None = None) -> None:
        self.argv = [sys.executable, __file__, "--shape", shape, "--a-ms", str(a_ms), "--i-ms", str(i_ms),
                     "--parallel", str(parallel), "--per-event", str(per_event)]
        self.cpus = cpus
        self.process: Any = None
        self.port = 0

    def __enter__(self) -> GenServerProcess:  # noqa: PYI034
        import os
        import subprocess

        self.process = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line.startswith("PORT "):
            self.process.kill()
            raise RuntimeError(f"the generation server did not start: {line!r}")
        self.port = int(line.split()[1])
        if self.cpus:
            os.sched_setaffinity(self.process.pid, self.cpus)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=5)
            except Exception:  # noqa: BLE001 - stuck: kill it
                self.process.kill()
                self.process.wait(timeout=5)
            self.process.stdout.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
