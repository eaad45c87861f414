"""The presets for the rest of a Spark's stack (Redis, Milvus, MinIO) and the other model
servers (SGLang, llama.cpp, trtllm-serve, Triton, TGI), each against a loopback server that
answers the way the service's own source does."""

from __future__ import annotations

import pytest
from probe_servers import LoopbackHttp, Reply, resp_server, tcp_server

from spark_tui.core.services.discovery import match_preset
from spark_tui.core.services.engine import check_once
from spark_tui.core.services.presets import ENGINE_PRESETS, PRESETS
from spark_tui.models.containers import Container, PublishedPort
from spark_tui.models.probes import ProbeResult, ProbeSpec, ProbeState


def spec(kind: str, url: str) -> ProbeSpec:
    return ProbeSpec(name=kind, kind=kind, url=url, timeout=1.0)


async def check(kind: str, routes: dict) -> tuple[ProbeResult, list[str]]:
    async with LoopbackHttp(routes) as server:
        [result] = await check_once([spec(kind, server.url)])
    return result, server.requests


# -- Redis (RESP) -------------------------------------------------------------------------------


async def test_redis_pong_is_up() -> None:
    async with resp_server() as port:
        [result] = await check_once([spec("redis", f"tcp://127.0.0.1:{port}")])
    assert (result.state, result.error, result.details) == (ProbeState.UP, None, {})
    assert result.latency_ms is not None


async def test_redis_with_a_password_is_up_and_says_so() -> None:
    async with resp_server(password="s3cret") as port:
        [result] = await check_once([spec("redis", f"redis://127.0.0.1:{port}")])
    assert (result.state, result.error) == (ProbeState.UP, None)
    assert result.details == {"auth": "needs a password"}


async def test_redis_loading_its_dataset_is_degraded() -> None:
    async with resp_server(loading=True) as port:
        [result] = await check_once([spec("redis", f"tcp://127.0.0.1:{port}")])
    assert (result.state, result.error) == (ProbeState.DEGRADED, "not ready: LOADING Redis is loading the dataset in memory")


async def test_another_server_on_the_redis_port_is_not_redis() -> None:
    async with tcp_server(b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n") as port:
        [result] = await check_once([spec("redis", f"tcp://127.0.0.1:{port}")])
    assert (result.state, result.error) == (ProbeState.DOWN, "not Redis: answered 'SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13' to PING")


# -- Milvus, MinIO ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "state", "error"),
    [
        (Reply(200, "OK"), ProbeState.UP, None),
        (Reply(500, "Not all components are registered, 1/3"), ProbeState.DEGRADED, "Not all components are registered, 1/3"),
        (Reply(500, "Not all components are healthy, 2/3"), ProbeState.DEGRADED, "Not all components are healthy, 2/3"),
        (Reply(502, ""), ProbeState.DOWN, "HTTP 502"),
    ],
)
async def test_milvus_healthz(reply: Reply, state: ProbeState, error: str | None) -> None:
    result, asked = await check("milvus", {"/healthz": reply})
    assert (result.state, result.error) == (state, error)
    assert asked == ["/healthz"]


@pytest.mark.parametrize(
    ("live", "ready", "state", "error"),
    [
        (200, 200, ProbeState.UP, None),
        (200, 503, ProbeState.DEGRADED, "not ready: no write quorum yet (drives missing or still starting), HTTP 503"),
        (503, 503, ProbeState.DOWN, "HTTP 503"),
    ],
)
async def test_minio_live_then_ready(live: int, ready: int, state: ProbeState, error: str | None) -> None:
    result, asked = await check("minio", {"/minio/health/live": Reply(live, b""), "/minio/health/ready": Reply(ready, b"")})
    assert (result.state, result.error) == (state, error)
    assert asked[0] == "/minio/health/live"


# -- model servers ------------------------------------------------------------------------------

SGLANG_MODEL_INFO = {
    "model_path": "Qwen/Qwen3-8B", "tokenizer_path": "Qwen/Qwen3-8B", "is_generation": True,
    "preferred_sampling_params": None, "weight_version": "default", "has_image_understanding": False,
    "has_audio_understanding": False, "model_type": "qwen3", "architectures": ["Qwen3ForCausalLM"],
}
SGLANG_SERVER_INFO = {
    "model_path": "Qwen/Qwen3-8B", "context_length": None, "port": 30000, "tp_size": 1, "mem_fraction_static": 0.8,
    "internal_states": [{"max_total_num_tokens": 451227, "last_gen_throughput": 41.5}], "version": "0.5.4",
}


async def test_sglang_up_with_model_and_version() -> None:
    result, _ = await check(
        "sglang", {"/health": Reply(200, b""), "/get_model_info": Reply(200, SGLANG_MODEL_INFO), "/get_server_info": Reply(200, SGLANG_SERVER_INFO)}
    )
    assert (result.state, result.model, result.version) == (ProbeState.UP, "Qwen/Qwen3-8B", "0.5.4")
    assert result.details == {"generation": True, "max_total_num_tokens": 451227}


async def test_sglang_starting_is_degraded() -> None:
    result, _ = await check("sglang", {"/health": Reply(503, b"")})
    assert (result.state, result.error) == (ProbeState.DEGRADED, "not ready (starting, or its health generation failed): HTTP 503")


LLAMACPP_PROPS = {
    "default_generation_settings": {"id": 0, "id_task": -1, "n_ctx": 8192, "speculative": False, "is_processing": False, "params": {"n_predict": -1, "temperature": 0.8}},
    "total_slots": 4,
    "model_path": "/models/Qwen3-8B-Q4_K_M.gguf",
    "modalities": {"vision": False, "audio": False},
    "chat_template": "{% for message in messages %}…{% endfor %}",
    "bos_token": "<|endoftext|>",
    "eos_token": "<|im_end|>",
    "build_info": "b6715-3df2244d",
}


async def test_llamacpp_up_with_props() -> None:
    result, _ = await check("llamacpp", {"/health": Reply(200, {"status": "ok"}), "/props": Reply(200, LLAMACPP_PROPS)})
    assert (result.state, result.model, result.version) == (ProbeState.UP, "Qwen3-8B-Q4_K_M.gguf", "b6715-3df2244d")
    assert result.details == {"slots": 4, "n_ctx": 8192}


async def test_llamacpp_loading_its_model_is_degraded() -> None:
    loading = Reply(503, {"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}})
    result, _ = await check("llamacpp", {"/health": loading, "/props": loading})
    assert (result.state, result.error) == (ProbeState.DEGRADED, "not ready: HTTP 503: Loading model")


async def test_trtllm_up_with_model_and_version() -> None:
    models = {"object": "list", "data": [{"id": "nvidia/Llama-3.1-8B-Instruct-FP8", "object": "model", "created": 1761132000, "owned_by": "tensorrt_llm"}]}
    result, _ = await check("trtllm", {"/health": Reply(200, b""), "/v1/models": Reply(200, models), "/version": Reply(200, {"version": "1.1.0rc2"})})
    assert (result.state, result.model, result.version) == (ProbeState.UP, "nvidia/Llama-3.1-8B-Instruct-FP8", "1.1.0rc2")


async def test_trtllm_error_is_down() -> None:
    result, _ = await check("trtllm", {"/health": Reply(500, "")})
    assert (result.state, result.error) == (ProbeState.DOWN, "HTTP 500")


TRITON_METADATA = {"name": "triton", "version": "2.59.0", "extensions": ["classification", "sequence", "model_repository", "statistics"]}


@pytest.mark.parametrize(
    ("status", "state", "error"),
    [(200, ProbeState.UP, None), (400, ProbeState.DEGRADED, "not ready (models loading, or one failed to load): HTTP 400")],
)
async def test_triton_readiness(status: int, state: ProbeState, error: str | None) -> None:
    result, asked = await check("triton", {"/v2/health/ready": Reply(status, b""), "/v2": Reply(200, TRITON_METADATA)})
    assert (result.state, result.error) == (state, error)
    assert result.version == "2.59.0" and asked[0] == "/v2/health/ready"


TGI_INFO = {
    "model_id": "meta-llama/Llama-3.1-8B-Instruct", "model_sha": "0e9e39f249a16976918f6564b8830bc894c89659",
    "model_pipeline_tag": "text-generation", "max_concurrent_requests": 128, "max_best_of": 2, "max_stop_sequences": 4,
    "max_input_tokens": 8191, "max_total_tokens": 8192, "validation_workers": 2, "max_client_batch_size": 4,
    "router": "text-generation-router", "version": "3.3.6", "sha": "f1c0ab2", "docker_label": "sha-f1c0ab2",
}


async def test_tgi_up_with_info() -> None:
    result, _ = await check("tgi", {"/health": Reply(200, b""), "/info": Reply(200, TGI_INFO)})
    assert (result.state, result.model, result.version) == (ProbeState.UP, "meta-llama/Llama-3.1-8B-Instruct", "3.3.6")
    assert result.details == {"max_input_tokens": 8191, "max_total_tokens": 8192, "max_concurrent_requests": 128, "max_client_batch_size": 4, "max_best_of": 2}
    assert result.models is not None and result.models[0].context_length == 8192


async def test_tgi_unhealthy_is_down() -> None:
    result, _ = await check("tgi", {"/health": Reply(503, {"error": "unhealthy", "error_type": "healthcheck"})})
    assert (result.state, result.error) == (ProbeState.DOWN, "HTTP 503: unhealthy")


# -- discovery and the engine marks ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "kind"),
    [
        ("redis:7.4-alpine", "redis"),
        ("redis/redis-stack-server:latest", "redis"),
        ("valkey/valkey:8", "redis"),
        ("milvusdb/milvus:v2.6.2", "milvus"),
        ("minio/minio:RELEASE.2025-09-07T16-13-09Z", "minio"),
        ("quay.io/minio/minio:latest", "minio"),
        ("lmsysorg/sglang:spark", "sglang"),
        ("ghcr.io/ggml-org/llama.cpp:server-cuda", "llamacpp"),
        ("nvcr.io/nvidia/tensorrt-llm/release:1.1.0rc2", "trtllm"),
        ("nvcr.io/nvidia/tritonserver:25.09-trtllm-python-py3", "triton"),
        ("ghcr.io/huggingface/text-generation-inference:3.3.6", "tgi"),
        ("ghcr.io/huggingface/text-embeddings-inference:cuda-1.8", "tei"),
    ],
)
def test_discovered_by_image(image: str, kind: str) -> None:
    container = Container(id="c" * 64, name="x", image=image, state="running", status="Up", ports=(PublishedPort(1, "tcp", "127.0.0.1", 1),))
    preset = match_preset(container)
    assert preset is not None and preset.name == kind


def test_the_inference_engines_are_marked() -> None:
    assert {name: preset.engine for name, preset in ENGINE_PRESETS.items()} == {
        "ollama": "ollama", "vllm": "vllm", "tei": "tei", "nim": "nim", "sglang": "sglang",
        "llamacpp": "llamacpp", "trtllm": "trtllm", "triton": "triton", "tgi": "tgi",
    }
    assert all(PRESETS[name].engine is None for name in ("redis", "milvus", "minio", "postgres", "docling", "litellm"))
