"""Answer checks of each adapter on canned responses (no network)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from spark_tui.core.bench.adapters import adapter_class, adapter_names, make_adapter
from spark_tui.core.bench.adapters_base import AdapterOptions, Job, PayloadSettings, RequestError, classify_status, describe_failure, error_detail
from spark_tui.core.bench.http import Response, prepare


def adapter(name: str, **options: Any) -> Any:
    return make_adapter(name, "http://127.0.0.1:1", AdapterOptions(**options), PayloadSettings(text_words=5, ring=2))


def response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    head = "HTTP/1.1 %d X\r\n" % status + "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    return Response(status, "X", head.encode(), data)


def job(items: int, tokens: int = 40, meta: Any = None) -> Job:
    return Job(prepare(adapter("openai").endpoint, "POST", "/x", b"{}"), items, tokens, meta)


def test_registry() -> None:
    assert adapter_names("embed") == ["openai", "tei", "ollama", "nvembed"]
    assert adapter_names("parse") == ["omniparser", "docling"]
    with pytest.raises(ValueError, match="unknown parse adapter 'tei'"):
        adapter_class("tei", "parse")


def test_openai_jobs_are_distinct_and_carry_model_and_extra_body() -> None:
    a = adapter("openai", model="m", extra_body={"input_type": "query"})
    jobs = a.jobs("text", 3)
    bodies = [json.loads(j.request.wire.split(b"\r\n\r\n", 1)[1]) for j in jobs]
    assert len(jobs) == 2 and bodies[0]["input"] != bodies[1]["input"] and len(bodies[0]["input"]) == 3
    assert bodies[0]["model"] == "m" and bodies[0]["input_type"] == "query"
    assert jobs[0].items == 3 and jobs[0].tokens_estimate and jobs[0].request.wire.startswith(b"POST /v1/embeddings HTTP/1.1\r\n")


def test_openai_check_counts_vectors_and_reads_usage() -> None:
    a = adapter("openai")
    good = {"data": [{"index": i, "embedding": [0.1, 0.2, 0.3]} for i in range(2)], "usage": {"prompt_tokens": 17}}
    outcome = a.check(job(2), response(good))
    assert (outcome.items, outcome.tokens, outcome.tokens_estimated) == (2, 17, False)
    assert a.vectors.dimension == 3
    no_usage = a.check(job(2, tokens=33), response({"data": good["data"]}))
    assert (no_usage.tokens, no_usage.tokens_estimated) == (33, True)
    cases = [
        ({"data": good["data"][:1]}, "wrong vector count: sent 2 inputs, got 1 embeddings"),
        ({"data": [{"embedding": [0.1, 0.2]}, {"embedding": [0.1, 0.2]}]}, "dimension mismatch: got 2, earlier answers had 3"),
        ({"data": [{"embedding": [0.1, 0.2, 0.3]}, {"embedding": [0.1, 0.2]}]}, "dimension mismatch within one answer: lengths [2, 3]"),
        ({"data": [{"embedding": [[0.1]]}, {"embedding": [0.1, 0.2, 0.3]}]}, "nested list"),
        ({"data": [{"embedding": "abc"}, {"embedding": "abc"}]}, "not a list of numbers"),
        ({"result": []}, "unexpected embeddings answer"),
        (b'{"data": [', "malformed JSON in embeddings answer"),
    ]
    for body, message in cases:
        with pytest.raises(RequestError) as exc:
            a.check(job(2), response(body))
        assert exc.value.error == "bad_response" and message in exc.value.message, exc.value.message


def test_tei_reads_its_headers() -> None:
    a = adapter("tei")
    headers = {"x-total-time": "12", "x-compute-time": "10", "x-queue-time": "2", "x-inference-time": "7", "x-compute-tokens": "99"}
    outcome = a.check(job(2), response([[0.1, 0.2], [0.3, 0.4]], headers=headers))
    assert outcome.tokens == 99 and not outcome.tokens_estimated
    assert outcome.server_s == pytest.approx(0.012)
    assert outcome.extra == {"queue_s": pytest.approx(0.002), "inference_s": pytest.approx(0.007)}
    bare = a.check(job(2), response([[0.1, 0.2], [0.3, 0.4]]))
    assert (bare.server_s, bare.tokens_estimated) == (None, True)


def test_ollama_reads_durations_and_prompt_eval_count() -> None:
    a = adapter("ollama", model="nomic-embed-text")
    body = {"embeddings": [[0.1, 0.2]], "prompt_eval_count": 7, "total_duration": 5_000_000, "load_duration": 2_000_000_000}
    outcome = a.check(job(1), response(body))
    assert outcome.tokens == 7 and outcome.server_s == pytest.approx(0.005) and outcome.extra == {"load_s": 2.0}
    request = json.loads(a.jobs("text", 2)[0].request.wire.split(b"\r\n\r\n", 1)[1])
    assert request["keep_alive"] == "30m" and request["model"] == "nomic-embed-text"


@pytest.mark.parametrize("body", [[[0.1, 0.2]], {"embeddings": [[0.1, 0.2]]}, {"vectors": [[0.1, 0.2]]}])
def test_nvembed_accepts_common_answer_shapes(body: Any) -> None:
    assert adapter("nvembed").check(job(1), response(body)).tokens_estimated


def test_nvembed_without_embeddings_names_the_keys() -> None:
    with pytest.raises(RequestError, match=r"no embeddings \(keys: error, ok\)"):
        adapter("nvembed").check(job(1), response({"ok": True, "error": None}))


def test_omniparser_counts_elements() -> None:
    outcome = adapter("omniparser").check(job(1), response({"parsed_content_list": [{"type": "text"}] * 7, "latency": 1.2, "som_image_base64": "x" * 100}))
    assert outcome.extra == {"elements": 7} and outcome.server_s == 1.2
    with pytest.raises(RequestError, match="unexpected OmniParser"):
        adapter("omniparser").check(job(1), response({"latency": 1.0}))


def test_docling_json_zip_and_failures() -> None:
    from spark_tui.core.bench.adapters_parse import _DocBatch

    a = adapter("docling")
    single = Job(job(4).request, 4, meta=_DocBatch(1, False))
    ok = a.check(single, response({"document": {"md_content": "# x"}, "status": "partial_success", "errors": [], "processing_time": 2.5}))
    assert ok.extra == {"status": "partial_success", "documents": 1} and ok.server_s == 2.5
    with pytest.raises(RequestError, match="could not convert the document \\(status failure\\): bad pdf"):
        a.check(single, response({"document": None, "status": "failure", "errors": ["bad pdf"]}))
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.md", "x")
        z.writestr("b.md", "y")
    two = Job(job(8).request, 8, meta=_DocBatch(2, False))
    assert a.check(two, response(archive.getvalue(), headers={"content-type": "application/zip"})).extra == {"status": "zip", "documents": 2}
    three = Job(job(12).request, 12, meta=_DocBatch(3, False))
    with pytest.raises(RequestError, match="sent 3 documents, the zip answer holds 2"):
        a.check(three, response(archive.getvalue(), headers={"content-type": "application/zip"}))


def test_docling_jobs_are_multipart_with_the_known_page_count() -> None:
    a = make_adapter("docling", "http://h:5001", AdapterOptions(), PayloadSettings(doc_pages=3, ring=1))
    (only,) = a.jobs("docx", 2)
    wire = only.request.wire
    assert only.items == 6 and wire.startswith(b"POST /v1/convert/file HTTP/1.1")
    assert wire.count(b'name="files"; filename=') == 2 and b'name="to_formats"' in wire
    long = make_adapter("docling", "http://h:5001", AdapterOptions(), PayloadSettings(doc_pages=25, ring=1))
    assert long.jobs("pdf", 1)[0].request.wire.startswith(b"POST /v1/convert/file/async HTTP/1.1")


def test_failures_are_classified_and_described() -> None:
    assert [classify_status(s) for s in (400, 401, 413, 422, 429, 500, 503, 302)] == ["400", "4xx", "413", "422", "429", "5xx", "5xx", "bad_response"]
    request = job(1).request
    assert describe_failure(request, response({"error": "batch size 33 > maximum allowed batch size 32"}, 413)) == (
        "HTTP 413 X from POST /x: batch size 33 > maximum allowed batch size 32 — batch too large for the server")
    assert error_detail(json.dumps({"detail": [{"loc": ["body"], "msg": "field required"}]}).encode()) == "field required"
    assert error_detail(b"<html>  Bad\n gateway </html>") == "<html> Bad gateway </html>"


# --- large answers: counted on the raw bytes, msgspec sees only the rest -----------------------

def big_vectors(count: int, dim: int) -> list[list[float]]:
    return [[(-1) ** j * (0.0123456789 + j * 1e-7) for j in range(dim)] for _ in range(count)]


BIG_ANSWERS = {
    "openai": lambda vs: {"object": "list", "data": [{"object": "embedding", "embedding": v, "index": i} for i, v in enumerate(vs)],
                          "model": "m", "usage": {"prompt_tokens": 9, "total_tokens": 9}},
    "tei": lambda vs: vs,
    "ollama": lambda vs: {"model": "m", "embeddings": vs, "total_duration": 5, "prompt_eval_count": 9},
    "nvembed": lambda vs: {"embeddings": vs},
}


@pytest.mark.parametrize("shape", list(BIG_ANSWERS))
@pytest.mark.parametrize("indent", [None, 2])
def test_large_answers_are_checked_without_decoding_their_numbers(shape: str, indent: int | None, monkeypatch: pytest.MonkeyPatch) -> None:
    from spark_tui.core.bench import adapters_base, adapters_embed

    handed: list[int] = []
    real = adapters_base.decode

    def decode(body: bytes, kind: Any, what: str) -> Any:
        handed.append(len(body))
        return real(body, kind, what)

    monkeypatch.setattr(adapters_embed, "decode", decode)
    a = adapter(shape, model="m")
    body = json.dumps(BIG_ANSWERS[shape](big_vectors(64, 1024)), indent=indent).encode()
    assert a.check(job(64), response(body)).items == 64 and a.vectors.dimension == 1024
    assert max(handed, default=0) < 8_000 < len(body)  # the vectors (~1.3 MB) never reach msgspec


@pytest.mark.parametrize("shape", list(BIG_ANSWERS))
def test_every_vector_is_counted(shape: str) -> None:
    a = adapter(shape, model="m")
    vectors = big_vectors(3, 100)
    vectors[1], vectors[2] = vectors[1][:-1], vectors[2] + [0.5]  # 99 and 101: the same number of commas in all
    with pytest.raises(RequestError, match=r"dimension mismatch within one answer: lengths \[99, 100, 101\]"):
        a.check(job(3), response(BIG_ANSWERS[shape](vectors)))


@pytest.mark.parametrize("shape", list(BIG_ANSWERS))
def test_in_large_answers_every_position_is_counted_within_one_round(shape: str) -> None:
    """Over FULL_CHECK_BYTES the first and a rotating vector are counted: an odd vector elsewhere
    is caught within batch − 1 answers, an odd first one at once."""
    a = adapter(shape, model="m")
    vectors = big_vectors(64, 1024)
    vectors[37] = vectors[37][:-1]
    body = BIG_ANSWERS[shape](vectors)
    assert len(json.dumps(body)) > a.vectors.FULL_CHECK_BYTES
    for _ in range(63):
        try:
            a.check(job(64), response(body))
        except RequestError as exc:
            assert "dimension mismatch within one answer: lengths [1023, 1024]" in str(exc)
            break
    else:
        pytest.fail("the odd vector was never counted")
    fresh = adapter(shape, model="m")
    with pytest.raises(RequestError, match="lengths \\[1023, 1024\\]"):
        fresh.check(job(64), response(BIG_ANSWERS[shape]([vectors[37]] + vectors[1:])))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"data": [{"embedding": [0.1, "0.2", 0.3]}]}', "not a list of numbers"),
        (b'{"data": [{"embedding": [0.1, 0.2, ]}]}', "not a list of numbers"),
        (b'{"data": [{"embedding": []}]}', "empty embedding vectors"),
        (b'{"data": [{"embedding": null}]}', "not a list of numbers"),
        (b'{"data": [{"embedding": [0.1, 0.2', "malformed JSON"),
        (b'{"data": [{"embedding": [0.1]}]', "malformed JSON"),
        (b'{"object": "embedding", "data": [{"index": 0}]}', "unexpected embeddings answer"),
    ],
)
def test_openai_answers_that_are_not_embeddings(body: bytes, message: str) -> None:
    with pytest.raises(RequestError) as exc:
        adapter("openai").check(job(1), response(body))
    assert exc.value.error == "bad_response" and message in exc.value.message, exc.value.message


def test_a_key_named_like_the_vectors_inside_a_string_is_not_taken_for_them() -> None:
    body = {"model": 'a "embedding": [1, 2] model', "data": [{"embedding": [0.5, 0.25], "object": "embedding"}]}
    assert adapter("openai").check(job(1), response(body)).items == 1
    with pytest.raises(RequestError, match="not a list of embeddings|Expected `array`"):
        adapter("tei").check(job(1), response({"error": "x"}))


def test_client_errors_are_told_apart_from_batches_too_large() -> None:
    request = job(1).request
    tei = describe_failure(request, response({"error": "batch size 33 > maximum allowed batch size 32", "error_type": "validation"}, 422))
    assert tei.endswith("— batch too large for the server")
    wrong = describe_failure(request, response({"detail": "missing inputs"}, 422))
    assert wrong == "HTTP 422 X from POST /x: missing inputs — is the adapter right for this server?"
    assert describe_failure(request, response({"error": "Input is too large: exceeds the limit"}, 400)).endswith("too large for the server")
    assert describe_failure(request, response(b"", 413)).endswith("— batch too large for the server")
