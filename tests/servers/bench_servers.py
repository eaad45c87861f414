"""Loopback servers speaking each benchmark API shape, with switchable misbehaviour.

`ApiServer(shape, …)` serves on 127.0.0.1 (port 0) from a thread and records what it received:

shapes: openai (+ `path` for Infinity's /embeddings), tei (/embed, /info, x-*-time headers,
413/422 over `max_batch`), ollama (/api/embed, /api/version, /api/tags; chunked answers; model
load on the first request), nvembed (/embed {texts|inputs}), omniparser (/parse/, /probe/),
docling (/v1/convert/file, the async task API, zip answers for several files).

faults (work requests only): None, "status:<code>", "malformed", "wrong_count", "dim_mismatch",
"hang", "close", "overload:<n>" (429 above n requests in flight), "convert_fail" (docling: the
conversion fails on the server: sync 404 "Task result not found", async a failed task whose
status carries error_message), "char_tokens" (openai/tei: token counts that are characters).
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import re
import struct
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DIM = 8


def png_size(data: bytes) -> tuple[int, int]:
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return struct.unpack(">II", data[16:24])


class ApiServer:
    def __init__(self, shape: str, *, fault: str | None = None, max_batch: int | None = None, delay_s: float = 0.0,
                 path: str | None = None, tei_status_over_limit: int = 413, load_delay_s: float = 0.0,
                 info_max_batch: int | None = None, tokenize: bool = False) -> None:
        self.shape = shape
        self.fault = fault
        self.max_batch = max_batch
        self.delay_s = delay_s
        self.path = path
        self.tei_status_over_limit = tei_status_over_limit
        self.load_delay_s = load_delay_s
        self.info_max_batch = info_max_batch  # what TEI's /info claims, when it differs from what /embed enforces
        self.tokenize = tokenize  # POST /tokenize as vLLM ({"prompt"} -> {"count", "tokens"}) or TEI ({"inputs"} -> [[{id, text}]]) answer it
        self.bodies: list[Any] = []  # decoded JSON bodies of work requests (multipart: file count)
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self.in_flight = 0
        self.max_in_flight = 0
        self.loaded = False
        self.tasks: dict[str, int] = {}  # docling task id -> polls so far
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._counter = itertools.count()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"api-{shape}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> ApiServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                api.requests.append(("GET", self.path))
                api.get(self)

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                api.requests.append(("POST", self.path))
                api.post(self, body)

        return Handler

    # --- answers ---

    @staticmethod
    def send(handler: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str] | None = None,
             content_type: str = "application/json", chunked: bool = False) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("content-type", content_type)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        if chunked:
            handler.send_header("transfer-encoding", "chunked")
            handler.end_headers()
            for start in range(0, len(data), 100):
                piece = data[start : start + 100]
                handler.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
            handler.wfile.write(b"0\r\n\r\n")
        else:
            handler.send_header("content-length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)

    def get(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?")[0]
        shape = self.shape
        if shape == "openai" and path in ("/health",):
            return self.send(h, 200, b"", content_type="text/plain")
        if shape == "openai" and path.endswith("/models"):
            return self.send(h, 200, {"object": "list", "data": [{"id": "test-embedder", "object": "model"}]})
        if shape == "openai" and path == "/version":
            return self.send(h, 200, {"version": "0.11.0"})
        if shape == "tei" and path == "/health":
            return self.send(h, 200, b"", content_type="text/plain")
        if shape == "tei" and path == "/info":
            return self.send(h, 200, {"model_id": "BAAI/bge-small", "version": "1.8.0", "max_client_batch_size": self.info_max_batch or self.max_batch or 32,
                                      "max_batch_tokens": 16384, "max_concurrent_requests": 512})
        if shape == "ollama" and path == "/api/version":
            return self.send(h, 200, {"version": "0.12.0"})
        if shape == "ollama" and path == "/api/tags":
            return self.send(h, 200, {"models": [{"name": "llama3:latest"}, {"name": "nomic-embed-text:latest"}]})
        if shape == "nvembed" and path == "/health":
            return self.send(h, 200, {"status": "ok", "model": "nvidia/NV-Embed-v2"})
        if shape == "omniparser" and path == "/probe/":
            return self.send(h, 200, {"message": "Omniparser API ready"})
        if shape == "docling":
            if path == "/health":
                return self.send(h, 200, {"status": "ok"})
            if path == "/version":
                return self.send(h, 200, {"docling-serve": "1.5.0", "docling": "2.50.0"})
            match = re.fullmatch(r"/v1/status/poll/([\w-]+)", path)
            if match:
                task = match[1]
                with self._lock:
                    self.tasks[task] = self.tasks.get(task, 0) + 1
                    polls = self.tasks[task]
                if self.fault == "convert_fail" and polls >= 2:
                    return self.send(h, 200, {"task_id": task, "task_type": "convert", "task_status": "failure",
                                              "error_message": "PdfiumError: Failed to load document (PDFium: Data format error)."})
                return self.send(h, 200, {"task_id": task, "task_type": "convert", "task_status": "started" if polls < 2 else "success"})
            match = re.fullmatch(r"/v1/result/([\w-]+)", path)
            if match:
                if self.fault == "convert_fail":
                    return self.send(h, 404, {"detail": "Task result not found. Please wait for a completion status."})
                return self.send(h, 200, self.docling_answer())
        self.send(h, 404, {"detail": "Not Found"})

    def post(self, h: BaseHTTPRequestHandler, body: bytes) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            in_flight = self.in_flight
        try:
            self._post(h, body, in_flight)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _post(self, h: BaseHTTPRequestHandler, body: bytes, in_flight: int) -> None:
        path = h.path.split("?")[0]
        if path == "/tokenize" and self.tokenize and self.shape in ("openai", "tei"):
            request = json.loads(body)
            words = str(request.get("prompt") or request.get("inputs") or "").split()  # one token per word, and a BOS
            if self.shape == "tei":
                return self.send(h, 200, [[{"id": i, "text": w, "special": False, "start": 0, "stop": 0} for i, w in enumerate(words)]])
            return self.send(h, 200, {"count": len(words) + 1, "max_model_len": 8192, "tokens": list(range(len(words) + 1))})
        expected = {"openai": self.path or "/v1/embeddings", "tei": "/embed", "ollama": "/api/embed", "nvembed": "/embed",
                    "omniparser": "/parse/", "docling": "/v1/convert/file"}[self.shape]
        if path not in (expected, expected + "/async"):
            return self.send(h, 404, {"detail": "Not Found"})
        fault = self.fault or ""
        if fault == "hang":
            self.stopping.wait(30)
            return
        if fault == "close":
            h.close_connection = True
            h.connection.shutdown(2)
            return
        if fault.startswith("overload:") and in_flight > int(fault.split(":")[1]):
            return self.send(h, 429, {"error": "Model is overloaded", "error_type": "overloaded"})
        if fault.startswith("status:"):
            code = int(fault.split(":")[1])
            return self.send(h, code, {"error": f"injected failure {code}"})
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.shape == "docling":
            return self.post_docling(h, body, path.endswith("/async"))
        try:
            request = json.loads(body)
        except ValueError:
            return self.send(h, 422, {"detail": "body is not JSON"})
        self.bodies.append(request)
        if self.shape == "omniparser":
            return self.post_omniparser(h, request)
        texts = {"openai": "input", "tei": "inputs", "ollama": "input", "nvembed": "texts"}[self.shape]
        if self.shape == "nvembed" and "inputs" in request:
            texts = "inputs"
        items = request.get(texts)
        if isinstance(items, str):
            items = [items]
        if not isinstance(items, list):
            return self.send(h, 422, {"detail": f"missing {texts}"})
        n = len(items)
        if self.shape == "tei" and self.max_batch and n > self.max_batch:
            return self.send(h, self.tei_status_over_limit, {"error": f"batch size {n} > maximum allowed batch size {self.max_batch}", "error_type": "validation"})
        if fault == "malformed":
            return self.send(h, 200, b'{"data": [{"embedding": [0.1, 0.2', content_type="application/json")
        counts = n - 1 if fault == "wrong_count" else n
        serial = next(self._counter)
        dims = [DIM] * counts
        if fault == "dim_mismatch":
            dims = [DIM + (serial % 2)] * counts
        vectors = [[0.5] * d for d in dims]
        tokens = sum(len(str(t)) if fault == "char_tokens" else len(str(t).split()) for t in items)
        if self.shape == "openai":
            answer = {"object": "list", "model": request.get("model"), "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)],
                      "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
            return self.send(h, 200, answer)
        if self.shape == "tei":
            return self.send(h, 200, vectors, headers={"x-compute-time": "7", "x-total-time": "9", "x-queue-time": "1", "x-inference-time": "5",
                                                      "x-tokenization-time": "1", "x-compute-tokens": str(tokens)})
        if self.shape == "ollama":
            load_ns = 0
            if not self.loaded:
                time.sleep(self.load_delay_s)
                load_ns = int(self.load_delay_s * 1e9)
                self.loaded = True
            answer = {"model": request.get("model"), "embeddings": vectors, "total_duration": 3_000_000 + load_ns, "load_duration": load_ns, "prompt_eval_count": tokens}
            return self.send(h, 200, answer, chunked=True)
        return self.send(h, 200, {"embeddings": vectors})

    def post_omniparser(self, h: BaseHTTPRequestHandler, request: dict[str, Any]) -> None:
        try:
            width, height = png_size(base64.b64decode(request["base64_image"]))
        except (KeyError, ValueError) as exc:
            return self.send(h, 422, {"detail": f"bad image: {exc}"})
        elements = [{"type": "text", "bbox": [0, 0, 0.1, 0.1], "interactivity": False, "content": "x", "source": "ocr"}] * (height // 100)
        return self.send(h, 200, {"som_image_base64": "AAAA", "parsed_content_list": elements, "latency": 0.02})

    def post_docling(self, h: BaseHTTPRequestHandler, body: bytes, is_async: bool) -> None:
        if self.fault == "convert_fail" and not is_async:  # docling-serve's sync route after its task failed
            return self.send(h, 404, {"detail": "Task result not found. Please wait for a completion status."})
        files = re.findall(rb'name="files"; filename="([^"]+)"', body)
        self.bodies.append({"files": [f.decode() for f in files], "fields": re.findall(rb'name="(\w+)"\r\n\r\n', body)})
        if not files:
            return self.send(h, 422, {"detail": "no files"})
        if is_async:
            task = f"task-{next(self._counter)}"
            return self.send(h, 200, {"task_id": task, "task_type": "convert", "task_status": "pending", "task_position": 1})
        if len(files) > 1:
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w") as archive:
                for name in files:
                    archive.writestr(name.decode().rsplit(".", 1)[0] + ".md", "# converted\n")
            return self.send(h, 200, out.getvalue(), content_type="application/zip")
        return self.send(h, 200, self.docling_answer())

    @staticmethod
    def docling_answer() -> dict[str, Any]:
        return {"document": {"filename": "doc.pdf", "md_content": "# Title\n\ntext"}, "status": "success", "errors": [],
                "processing_time": 0.05, "timings": {}}
