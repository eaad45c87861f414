"""Parse APIs: OmniParser v2 POST /parse/ (one screenshot per request) and docling-serve
/v1/convert/file (documents, synchronously or through the async task API for long ones)."""

from __future__ import annotations

import asyncio
import base64
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import msgspec

from spark_tui.core.bench.adapters_base import (
    Adapter,
    Job,
    Outcome,
    RequestError,
    decode,
    probe_json,
    send,
)
from spark_tui.core.bench.http import (
    Connection,
    Response,
    TransportError,
    multipart_form,
    prepare,
)
from spark_tui.core.bench.payload_docs import DOCUMENT_FORMATS, make_document
from spark_tui.core.bench.payload_images import RESOLUTIONS, cached_screenshot
from spark_tui.core.untrusted import clean
from spark_tui.models.bench import ServerInfo

# --- OmniParser --------------------------------------------------------------------------------


class _OmniAnswer(msgspec.Struct):
    parsed_content_list: list[msgspec.Raw]
    latency: float | None = None


class OmniParser(Adapter):
    name = "omniparser"
    kind = "parse"
    unit = "frames"
    description = "OmniParser v2 POST /parse/ {base64_image} (synthetic 1080p/1440p/4K desktop screenshots)"
    default_path = "/parse/"
    payloads = tuple(RESOLUTIONS)
    fixed_batch = 1

    async def preflight(self, conn: Connection) -> ServerInfo:
        status, data, problem = await probe_json(conn, self.get("/probe/"))
        if status is None:
            return self.unreachable(problem)
        if status < 300:
            message = data.get("message") if isinstance(data, dict) else None
            return self.info(health="ok", server="OmniParser", notes=(f"probe: {message}",) if message else ())
        status, data, problem = await probe_json(conn, self.get("/health"))  # the Bytebot image's endpoint
        if status is not None and status < 300:
            device = data.get("device") if isinstance(data, dict) else None
            notes = (f"OmniParser runs on {device}",) if device else ()
            if device and device != "cuda":
                notes += (f"OmniParser reports device {device!r}, not cuda: expect CPU speeds",)
            return self.info(health="ok", server="OmniParser", notes=notes)
        return self.info(notes=("neither GET /probe/ nor GET /health answered; the warm-up request checks the server",))

    def jobs(self, payload: str, batch: int) -> list[Job]:
        variants = min(self.payload.ring, 4)  # large frames: a few distinct ones are enough
        jobs = []
        for variant in range(variants):
            image = base64.b64encode(cached_screenshot(payload, variant)).decode("ascii")
            jobs.append(Job(self.post_json(self.path, {"base64_image": image, **self.options.extra_body}), 1))
        return jobs

    def check(self, job: Job, response: Response) -> Outcome:
        answer = decode(response.body, _OmniAnswer, "OmniParser /parse/ answer")
        return Outcome(1, server_s=answer.latency, extra={"elements": len(answer.parsed_content_list)}, status=response.status)


# --- docling-serve -----------------------------------------------------------------------------


class _DoclingAnswer(msgspec.Struct):
    document: dict[str, msgspec.Raw] | None = None
    status: str | None = None
    errors: list[Any] = []
    processing_time: float | None = None


class _DoclingTask(msgspec.Struct):
    task_id: str
    task_status: str
    task_position: int | None = None
    error_message: str | None = None  # docling-serve 1.x says why a task failed


@dataclass(frozen=True)
class _DocBatch:
    documents: int
    use_async: bool


class DoclingServe(Adapter):
    name = "docling"
    kind = "parse"
    unit = "pages"
    description = "docling-serve POST /v1/convert/file (PDF/HTML/DOCX made locally; async API for long documents)"
    default_path = "/v1/convert/file"
    payloads = tuple(DOCUMENT_FORMATS)
    FORM_FIELDS = (("to_formats", "md"), ("image_export_mode", "placeholder"))

    async def preflight(self, conn: Connection) -> ServerInfo:
        status, data, problem = await probe_json(conn, self.get("/health"))
        if status is None:
            return self.unreachable(problem)
        notes: list[str] = []
        health = "ok" if status < 300 else f"{status}"
        ready, _, _ = await probe_json(conn, self.get("/ready"))
        if ready == 503:
            health = "503 not ready (models still loading)"
        _, version, _ = await probe_json(conn, self.get("/version"))
        server = "docling-serve"
        if isinstance(version, dict):
            number = version.get("docling-serve") or version.get("docling_serve") or version.get("version")
            if isinstance(number, str):
                server = f"docling-serve {number}"
        if self.uses_async(self.payload.doc_pages):
            notes.append(f"{self.payload.doc_pages}-page documents go through the async API (/v1/convert/file/async)")
        return self.info(health=health, server=server, notes=tuple(notes))

    def uses_async(self, pages: int) -> bool:
        mode = self.options.docling_async
        return mode == "always" or (mode == "auto" and pages >= self.options.docling_async_pages)

    def jobs(self, payload: str, batch: int) -> list[Job]:
        pages = self.payload.doc_pages
        use_async = self.uses_async(pages)
        path = self.path + "/async" if use_async else self.path
        jobs = []
        for ring_index in range(min(self.payload.ring, 4)):
            files = []
            for d in range(batch):
                doc = make_document(payload, pages, seed=ring_index * 1000 + d)
                files.append(("files", doc.filename, doc.content_type, doc.data))
            fields = list(self.FORM_FIELDS) + [(k, v if isinstance(v, str) else msgspec.json.encode(v).decode()) for k, v in self.options.extra_body.items()]
            content_type, body = multipart_form(fields, files)
            request = prepare(self.endpoint, "POST", path, body, content_type, self.options.headers)
            jobs.append(Job(request, batch * pages, meta=_DocBatch(batch, use_async)))
        return jobs

    async def fetch(self, conn: Connection, job: Job, timeout: float, meanwhile: Callable[[], None] | None = None) -> Callable[[], Outcome]:
        if not job.meta.use_async:
            try:
                return await super().fetch(conn, job, timeout, meanwhile)
            except RequestError as exc:
                # the sync API runs a task and fetches its result: a conversion that failed on the
                # server leaves none, and the route answers 404 "Task result not found"
                if exc.status == 404 and "task result not found" in exc.message.lower():
                    raise RequestError("bad_response", "docling could not convert the document: the server's conversion task "
                                       "failed and left no result (HTTP 404 Task result not found; the async API, "
                                       "--docling-async always, reports the server's reason)", 404) from None
                raise
        outcome = await self._through_async_api(conn, job, timeout, meanwhile)
        return lambda: outcome

    async def _through_async_api(self, conn: Connection, job: Job, timeout: float, meanwhile: Callable[[], None] | None) -> Outcome:
        """Submit, poll until the task ends, fetch and check the result: the documents' whole round."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        submitted = await send(conn, job.request, timeout, meanwhile)
        task = decode(submitted.body, _DoclingTask, "docling async submission")
        polls = 0
        while task.task_status not in ("success", "failure"):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise RequestError("timeout", f"docling task {task.task_id} still {task.task_status} after {timeout:g} s")
            wait = max(0.0, min(self.options.poll_wait_s, remaining - 1))
            answer = await send(conn, self.get(f"/v1/status/poll/{task.task_id}?wait={wait:g}"), remaining)
            task = decode(answer.body, _DoclingTask, "docling task status")
            polls += 1
        if task.task_status == "failure":
            raise RequestError("bad_response", await self._failure_reason(conn, task, max(0.1, deadline - loop.time())))
        result = await send(conn, self.get(f"/v1/result/{task.task_id}"), max(0.1, deadline - loop.time()))
        outcome = self.check(job, result)
        extra = dict(outcome.extra or {})
        extra["polls"] = polls
        return Outcome(outcome.items, server_s=outcome.server_s, extra=extra, status=outcome.status)

    async def _failure_reason(self, conn: Connection, task: _DoclingTask, timeout: float) -> str:
        """The server's own words for a failed task: its status's error_message, else the errors of
        its result (when it kept one)."""
        head = f"docling could not convert the document (task {clean(task.task_id)} failed)"
        if task.error_message:
            return f"{head}: {clean(task.error_message[:300])}"
        try:
            result = await conn.send(self.get(f"/v1/result/{task.task_id}"), min(timeout, 10.0))
        except TransportError:
            return head + " and gave no reason"
        if 200 <= result.status < 300:
            try:
                answer = msgspec.json.decode(result.body, type=_DoclingAnswer)
            except (msgspec.DecodeError, msgspec.ValidationError):
                answer = None
            if answer is not None and answer.errors:
                return f"{head}: {clean(str(answer.errors[0])[:300])}"
        return head + " and gave no reason (docling-serve's log has it)"

    def check(self, job: Job, response: Response) -> Outcome:
        documents = job.meta.documents
        if response.headers.get("content-type", "").startswith("application/zip") or response.body[:4] == b"PK\x03\x04":
            return self._check_zip(job, response, documents)
        answer = decode(response.body, _DoclingAnswer, "docling answer")
        if answer.status == "failure":
            detail = f": {clean(str(answer.errors[0])[:300])}" if answer.errors else ""
            raise RequestError("bad_response", f"docling could not convert the document (status failure){detail}")
        if answer.document is None:
            raise RequestError("bad_response", "the docling answer has no document")
        if documents != 1:
            raise RequestError("bad_response", f"sent {documents} documents, the answer holds one")
        return Outcome(job.items, server_s=answer.processing_time, extra={"status": answer.status or "unknown", "documents": 1}, status=response.status)

    @staticmethod
    def _check_zip(job: Job, response: Response, documents: int) -> Outcome:
        try:
            with zipfile.ZipFile(io.BytesIO(response.body)) as archive:
                stems = {PurePosixPath(name).stem for name in archive.namelist() if not name.endswith("/")}
        except zipfile.BadZipFile as exc:
            raise RequestError("bad_response", f"the docling answer is a broken zip file: {exc}") from None
        if len(stems) < documents:
            raise RequestError("bad_response", f"sent {documents} documents, the zip answer holds {len(stems)}")
        return Outcome(job.items, extra={"status": "zip", "documents": documents}, status=response.status)
