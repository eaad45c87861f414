"""The real llama.cpp server the suite runs against (issues #15, #16): xllamacpp's embedded
llama-server on CPU with SmolLM2-135M-Instruct Q4_1. These pin the fixture and the wire facts the
adapters and metric parsers rely on (see tests/servers/llamacpp_wire_samples.md). Never skipped."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from servers.llamacpp import LlamaServer, llama_server

PROMPT = [{"role": "user", "content": "Hi"}]  # SmolLM2 answers this in ~10 tokens, then EOS


def metrics(server: LlamaServer) -> dict[str, tuple[str, float]]:
    """GET /metrics -> {name: (TYPE, value)} for the unlabelled llamacpp:* samples."""
    response = httpx.get(server.url + "/metrics", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    types: dict[str, str] = {}
    values: dict[str, tuple[str, float]] = {}
    for line in response.text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            types[name] = kind
        elif line and not line.startswith("#"):
            name, value = line.split()
            values[name] = (types[name], float(value))
    return values


def sse_events(response: httpx.Response) -> Iterator[str]:
    """The `data:` payloads of an SSE stream, in order."""
    for line in response.iter_lines():
        if line.startswith("data: "):
            yield line[len("data: "):]
        else:
            assert line == "", f"unexpected SSE line {line!r}"


def test_health_props_and_models(llamacpp_server: LlamaServer) -> None:
    base = llamacpp_server.url
    health = httpx.get(base + "/health", timeout=5)
    assert (health.status_code, health.json()) == (200, {"status": "ok"})

    props = httpx.get(base + "/props", timeout=5).json()
    assert props["total_slots"] == 2
    assert props["default_generation_settings"]["n_ctx"] == 1024  # per slot: ctx / parallel
    assert props["endpoint_metrics"] is True
    assert props["model_path"] == llamacpp_server.model_id == props["model_alias"]

    models = httpx.get(base + "/v1/models", timeout=5).json()
    assert models["object"] == "list"
    [model] = models["data"]
    assert model["id"] == llamacpp_server.model_id and model["owned_by"] == "llamacpp"
    assert model["meta"]["n_ctx"] == 1024 and model["meta"]["n_ctx_train"] == 8192
    assert model["meta"]["n_params"] == 134515008


def test_streamed_chat_reports_usage_in_a_last_chunk_without_choices(llamacpp_server: LlamaServer) -> None:
    body = {"model": "anything", "messages": PROMPT, "max_tokens": 16, "ignore_eos": True, "stream": True,
            "stream_options": {"include_usage": True}}
    with httpx.stream("POST", llamacpp_server.url + "/v1/chat/completions", json=body, timeout=60) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        events = list(sse_events(response))

    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": None}
    texts = [c["choices"][0]["delta"]["content"] for c in chunks[1:-2]]
    assert 1 <= len(texts) <= 16 and all(texts)
    finish, usage_chunk = chunks[-2], chunks[-1]
    assert finish["choices"][0]["finish_reason"] == "length" and finish["choices"][0]["delta"] == {}
    assert "usage" not in finish
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["completion_tokens"] == 16
    assert usage_chunk["usage"]["total_tokens"] == 16 + usage_chunk["usage"]["prompt_tokens"]
    timings = usage_chunk["timings"]
    assert timings["predicted_n"] == 16 and timings["predicted_per_second"] > 0


def test_without_ignore_eos_the_model_stops_early_and_min_tokens_is_ignored(llamacpp_server: LlamaServer) -> None:
    body = {"messages": PROMPT, "max_tokens": 32, "min_tokens": 24, "temperature": 0}
    answer = httpx.post(llamacpp_server.url + "/v1/chat/completions", json=body, timeout=60).json()
    assert answer["choices"][0]["finish_reason"] == "stop"
    assert answer["usage"]["completion_tokens"] < 24


def test_native_completion_stream_ends_with_timings_and_no_done(llamacpp_server: LlamaServer) -> None:
    body = {"prompt": "The sky is", "n_predict": 16, "ignore_eos": True, "stream": True}
    with httpx.stream("POST", llamacpp_server.url + "/completion", json=body, timeout=60) as response:
        assert response.status_code == 200
        events = [json.loads(e) for e in sse_events(response)]  # no "[DONE]": every payload is JSON
    *tokens, last = events
    assert all(e["stop"] is False and len(e["tokens"]) == 1 for e in tokens)
    assert [e["tokens_predicted"] for e in tokens] == list(range(1, 17))
    assert last["stop"] is True and last["stop_type"] == "limit" and last["tokens_predicted"] == 16
    assert last["generation_settings"]["n_predict"] == 16 and last["generation_settings"]["ignore_eos"] is True
    timings = last["timings"]
    assert timings["predicted_n"] == 16 and timings["predicted_per_second"] > 0
    assert timings["prompt_n"] + timings["cache_n"] == last["tokens_evaluated"]


def test_metrics_counters_advance_by_the_generated_count(llamacpp_server: LlamaServer) -> None:
    before = metrics(llamacpp_server)
    assert before["llamacpp:tokens_predicted_total"][0] == "counter"
    assert before["llamacpp:prompt_tokens_total"][0] == "counter"
    assert before["llamacpp:requests_processing"] == ("gauge", 0.0)
    assert before["llamacpp:predicted_tokens_seconds"][0] == "gauge"

    body = {"prompt": "Once upon a time", "n_predict": 24, "ignore_eos": True}
    answer = httpx.post(llamacpp_server.url + "/completion", json=body, timeout=60).json()
    assert answer["tokens_predicted"] == 24

    after = metrics(llamacpp_server)
    advanced = {name: after[name][1] - before[name][1] for name in after if after[name][0] == "counter"}
    assert advanced["llamacpp:tokens_predicted_total"] == 24
    assert advanced["llamacpp:prompt_tokens_total"] == answer["timings"]["prompt_n"]
    assert advanced["llamacpp:tokens_predicted_seconds_total"] > 0
    assert advanced["llamacpp:n_decode_total"] >= 24
    # The throughput gauges cover only the span since the previous scrape, then reset.
    assert after["llamacpp:predicted_tokens_seconds"][1] > 0
    assert metrics(llamacpp_server)["llamacpp:predicted_tokens_seconds"][1] == 0


async def test_two_slots_serve_two_requests_at_once(llamacpp_server: LlamaServer) -> None:
    before = metrics(llamacpp_server)["llamacpp:tokens_predicted_total"][1]
    async with httpx.AsyncClient(base_url=llamacpp_server.url, timeout=60) as client:
        answers = await asyncio.gather(*(
            client.post("/v1/completions", json={"prompt": f"Story {i}:", "max_tokens": 16, "ignore_eos": True})
            for i in range(2)))
    assert [a.json()["usage"]["completion_tokens"] for a in answers] == [16, 16]
    assert metrics(llamacpp_server)["llamacpp:tokens_predicted_total"][1] - before == 32


def test_tokenize_round_trip(llamacpp_server: LlamaServer) -> None:
    tokens = httpx.post(llamacpp_server.url + "/tokenize", json={"content": "Hello world"}, timeout=5).json()
    assert tokens == {"tokens": [19556, 905]}
    text = httpx.post(llamacpp_server.url + "/detokenize", json=tokens, timeout=5).json()
    assert text == {"content": "Hello world"}


def test_metrics_off_answers_501_with_a_hint(llamacpp_server_no_metrics: LlamaServer) -> None:
    base = llamacpp_server_no_metrics.url
    assert httpx.get(base + "/health", timeout=5).status_code == 200
    response = httpx.get(base + "/metrics", timeout=5)
    assert response.status_code == 501
    error = response.json()["error"]
    assert error["type"] == "not_supported_error" and error["code"] == 501
    assert "--metrics" in error["message"]
    assert httpx.get(base + "/props", timeout=5).json()["endpoint_metrics"] is False


def test_context_manager_stops_the_child_and_removes_its_log() -> None:
    with llama_server(parallel=1, ctx=256) as server:
        assert httpx.get(server.url + "/health", timeout=5).status_code == 200
        assert server.process.poll() is None
        assert 50 * 2**20 < server.rss_bytes() < 1024 * 2**20
    assert server.process.returncode is not None
    assert not server.log_path.exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/health", timeout=2)


def test_a_server_that_cannot_start_says_why(tmp_path: Path) -> None:
    bogus = tmp_path / "missing.gguf"
    with pytest.raises(RuntimeError, match="exited with 1 before /health") as failure:
        with llama_server(parallel=1, ctx=256, model=bogus):
            pass
    assert "failed to load model" in str(failure.value)
