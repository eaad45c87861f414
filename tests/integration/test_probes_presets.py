"""Each preset against a loopback server answering in that service's real shape."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from probe_servers import (
    Hang,
    LoopbackHttp,
    Reply,
    self_signed_cert,
    server_tls_context,
    tcp_server,
)

from spark_tui.models.settings import ProbeConfig
from spark_tui.models.probes import ProbeResult, ProbeSpec, ProbeState
from spark_tui.core.services.checks import SSL_REQUEST
from spark_tui.core.services.presets import spec_from_config
from spark_tui.core.services.engine import check_once

OLLAMA_TAGS = {
    "models": [
        {
            "name": "llama3.1:8b",
            "model": "llama3.1:8b",
            "modified_at": "2025-10-20T10:11:12.123456789Z",
            "size": 4920753328,
            "digest": "46e0c10c039e019119339687c3c1757cc81b9da49709a3b3924863ba87ca666e",
            "details": {"parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"], "parameter_size": "8.0B", "quantization_level": "Q4_K_M"},
        },
        {
            "name": "qwen3-embedding:8b",
            "model": "qwen3-embedding:8b",
            "modified_at": "2025-10-21T09:00:00Z",
            "size": 4675894272,
            "digest": "64b933495768",
            "details": {"format": "gguf", "family": "qwen3", "parameter_size": "7.6B", "quantization_level": "Q4_K_M"},
        },
    ]
}
OLLAMA_PS = {
    "models": [
        {
            "name": "llama3.1:8b",
            "model": "llama3.1:8b",
            "size": 6654289920,
            "digest": "46e0c10c039e019119339687c3c1757cc81b9da49709a3b3924863ba87ca666e",
            "details": {"format": "gguf", "family": "llama", "parameter_size": "8.0B", "quantization_level": "Q4_K_M"},
            "expires_at": "2025-10-22T12:05:00.000000000Z",
            "size_vram": 6654289920,
            "context_length": 4096,
        }
    ]
}
VLLM_MODELS = {
    "object": "list",
    "data": [
        {
            "id": "Qwen/Qwen3-Embedding-8B",
            "object": "model",
            "created": 1761132000,
            "owned_by": "vllm",
            "root": "Qwen/Qwen3-Embedding-8B",
            "parent": None,
            "max_model_len": 32768,
            "permission": [{"id": "modelperm-1", "object": "model_permission", "allow_sampling": True}],
        }
    ],
}
TEI_INFO = {
    "model_id": "BAAI/bge-large-en-v1.5",
    "model_sha": "d4aa6901d3a41ba39fb536a557fa166f842b0e09",
    "model_dtype": "float16",
    "model_type": {"embedding": {"pooling": "cls"}},
    "max_concurrent_requests": 512,
    "max_input_length": 512,
    "max_batch_tokens": 16384,
    "max_batch_requests": None,
    "max_client_batch_size": 32,
    "auto_truncate": False,
    "tokenization_workers": 10,
    "version": "1.8.2",
    "sha": "a69cc2ee2b6d3a7aeb4b1d1ef9b2d1b5b1f1ab52",
    "docker_label": "sha-a69cc2e",
}


def spec(kind: str, url: str, **kwargs: object) -> ProbeSpec:
    return ProbeSpec(name=kind, kind=kind, url=url, timeout=kwargs.pop("timeout", 1.0), **kwargs)  # type: ignore[arg-type]


async def check(kind: str, routes: dict, **kwargs: object) -> tuple[ProbeResult, list[str]]:
    async with LoopbackHttp(routes) as server:
        [result] = await check_once([spec(kind, server.url, **kwargs)])
    return result, server.requests


async def test_ollama_up_with_version_and_loaded_models() -> None:
    result, asked = await check(
        "ollama",
        {"/api/version": Reply(200, {"version": "0.12.6"}), "/api/tags": Reply(200, OLLAMA_TAGS), "/api/ps": Reply(200, OLLAMA_PS)},
    )
    assert result.state is ProbeState.UP, result.error
    assert result.version == "0.12.6"
    assert result.model == "llama3.1:8b"  # the loaded one
    assert result.models is not None and [m.name for m in result.models] == ["llama3.1:8b", "qwen3-embedding:8b"]
    loaded, idle = result.models
    assert (loaded.loaded, loaded.gpu_bytes, loaded.context_length, loaded.quantization) == (True, 6654289920, 4096, "Q4_K_M")
    assert (idle.loaded, idle.gpu_bytes, idle.size_bytes) == (False, None, 4675894272)
    assert result.details == {"models_available": 2, "models_loaded": 1, "loaded_gpu_bytes": 6654289920}
    assert asked[0] == "/api/version"


async def test_ollama_with_nothing_loaded() -> None:
    result, _ = await check(
        "ollama",
        {"/api/version": Reply(200, {"version": "0.12.6"}), "/api/tags": Reply(200, OLLAMA_TAGS), "/api/ps": Reply(200, {"models": []})},
    )
    assert result.state is ProbeState.UP
    assert result.model is None
    assert result.details["models_loaded"] == 0
    assert "loaded_gpu_bytes" not in result.details


async def test_something_else_on_the_ollama_port() -> None:
    result, _ = await check("ollama", {"/api/version": Reply(200, "<!doctype html><title>Grafana</title>")})
    assert result.state is ProbeState.DOWN
    assert result.error is not None and result.error.startswith("not JSON: ")


async def test_vllm_up_with_served_model() -> None:
    result, _ = await check(
        "vllm", {"/health": Reply(200), "/v1/models": Reply(200, VLLM_MODELS), "/version": Reply(200, {"version": "0.11.0"})}
    )
    assert result.state is ProbeState.UP, result.error
    assert (result.model, result.version) == ("Qwen/Qwen3-Embedding-8B", "0.11.0")
    assert result.details["max_model_len"] == 32768


async def test_vllm_engine_dead_is_down() -> None:
    result, _ = await check("vllm", {"/health": Reply(503, "")})
    assert (result.state, result.error) == (ProbeState.DOWN, "HTTP 503")
    assert result.model is None


async def test_vllm_with_api_key_still_up() -> None:
    result, _ = await check("vllm", {"/health": Reply(200), "/v1/models": Reply(401, {"error": "Unauthorized"})})
    assert result.state is ProbeState.UP
    assert result.details["models"] == "needs an API key"


async def test_tei_up_with_limits() -> None:
    result, _ = await check("tei", {"/health": Reply(200, b""), "/info": Reply(200, TEI_INFO)})
    assert result.state is ProbeState.UP
    assert (result.model, result.version) == ("BAAI/bge-large-en-v1.5", "1.8.2")
    assert result.details["max_client_batch_size"] == 32
    assert result.details["max_batch_tokens"] == 16384
    assert result.details["model_type"] == "embedding"
    assert "max_batch_requests" not in result.details  # null in /info: not reported, not 0


async def test_tei_backend_unhealthy() -> None:
    result, _ = await check("tei", {"/health": Reply(503, {"error": "unhealthy", "error_type": "unhealthy"})})
    assert (result.state, result.error) == (ProbeState.DOWN, "HTTP 503: unhealthy")


@pytest.mark.parametrize(
    ("reply", "state", "error"),
    [
        (Reply(200, {"ready": True}), ProbeState.UP, None),
        (Reply(200, {"object": "health.response", "message": "Service is ready."}), ProbeState.UP, None),
        (Reply(200, {"ready": False}), ProbeState.DEGRADED, "ready=false"),
        (Reply(503, {"object": "error", "message": "Service is not ready", "type": "ServiceUnavailable", "code": 503}), ProbeState.DEGRADED, "not ready: HTTP 503: Service is not ready"),
        (Reply(500, ""), ProbeState.DOWN, "HTTP 500"),
    ],
)
async def test_nim_readiness(reply: Reply, state: ProbeState, error: str | None) -> None:
    result, _ = await check(
        "nim",
        {
            "/v1/health/ready": reply,
            "/v1/models": Reply(200, {"object": "list", "data": [{"id": "nvidia/nv-embedqa-e5-v5", "object": "model"}]}),
            "/v1/version": Reply(200, {"release": "1.6.0", "api": "1.0.0"}),
        },
    )
    assert (result.state, result.error) == (state, error)
    if state is not ProbeState.DOWN:
        assert (result.model, result.version) == ("nvidia/nv-embedqa-e5-v5", "1.6.0")


async def test_infinity_up_with_models() -> None:
    models = {
        "data": [
            {"id": "BAAI/bge-small-en-v1.5", "stats": {"queue_fraction": 0.0}, "object": "model", "owned_by": "infinity", "created": 1761132000, "backend": "torch", "capabilities": ["embed"]}
        ],
        "object": "list",
    }
    result, _ = await check("infinity", {"/health": Reply(200, {"unix": 1761132000.25}), "/models": Reply(200, models)})
    assert result.state is ProbeState.UP
    assert result.model == "BAAI/bge-small-en-v1.5"
    assert result.details == {"backend": "torch", "capabilities": "embed"}


async def test_infinity_shape_is_checked() -> None:
    result, _ = await check("infinity", {"/health": Reply(200, {"status": "ok"})})
    assert result.state is ProbeState.DOWN
    assert result.error == 'unexpected answer: no "unix" field (is this Infinity?)'


async def test_omniparser_upstream_probe() -> None:
    result, asked = await check("omniparser", {"/probe/": Reply(200, {"message": "Omniparser API ready"})})
    assert result.state is ProbeState.UP
    assert result.details["message"] == "Omniparser API ready"
    assert asked == ["/probe/"]


async def test_omniparser_bytebot_variant_and_remembering_the_endpoint() -> None:
    async with LoopbackHttp({"/health": Reply(200, {"status": "healthy", "device": "cuda"})}) as server:
        from spark_tui.core.services.engine import HttpClients, run_check

        clients = HttpClients()
        memory: dict = {}
        probe = spec("omniparser", server.url)
        first = await run_check(probe, clients, memory, extras_due=True)
        second = await run_check(probe, clients, memory, extras_due=True)
        await clients.aclose()
    assert first.outcome.state is ProbeState.UP
    assert first.outcome.details["device"] == "cuda"
    assert second.outcome.state is ProbeState.UP
    assert server.requests == ["/probe/", "/health", "/health"]  # 404 once, then straight to /health


async def test_omniparser_busy_parsing_is_up_then_degraded_never_down() -> None:
    # a /probe/ waiting behind one parse (~0.8–1.65 s on GB10) or two, with the preset's own
    # thresholds as a [[probes]] table without timeout or slow_ms gets them
    ready = {"message": "Omniparser API ready"}
    async with (
        LoopbackHttp({"/probe/": Reply(200, ready, delay=2.3)}) as behind_one,
        LoopbackHttp({"/probe/": Reply(200, ready, delay=3.3)}) as behind_two,
    ):
        specs = [spec_from_config(ProbeConfig(name=f"omniparser-{n}", kind="omniparser", url=s.url)) for n, s in enumerate((behind_one, behind_two))]
        busy, busier = await check_once(specs)
    assert busy.state is ProbeState.UP, busy.error  # over the 2 s default timeout, under the 3 s threshold
    assert busier.state is ProbeState.DEGRADED, busier.error
    assert busier.error is not None and busier.error.startswith("slow: 33") and busier.error.endswith("(over 3000 ms)")


async def test_docling_loading_models_is_degraded() -> None:
    routes = {"/health": Reply(200, {"status": "ok"}), "/ready": Reply(503, {"detail": "Service not ready"}), "/version": Reply(200, {"docling-serve": "1.7.2", "docling": "2.58.0"})}
    result, _ = await check("docling", routes)
    assert result.state is ProbeState.DEGRADED
    assert result.error == "not ready: models loading (HTTP 503: Service not ready)"
    assert result.version == "1.7.2"
    assert result.details["docling"] == "2.58.0"


async def test_docling_ready() -> None:
    routes = {"/health": Reply(200, {"status": "ok"}), "/ready": Reply(200, {"status": "ok"}), "/version": Reply(200, {"docling-serve": "1.7.2"})}
    result, _ = await check("docling", routes)
    assert (result.state, result.error, result.version) == (ProbeState.UP, None, "1.7.2")


async def test_docling_before_ready_existed() -> None:
    result, _ = await check("docling", {"/health": Reply(200, {"status": "ok"})})
    assert result.state is ProbeState.UP


@pytest.mark.parametrize(
    ("routes", "state", "error", "model"),
    [
        ({"/health": Reply(200, {"status": "ok", "model": "nvidia/NV-Embed-v2"})}, ProbeState.UP, None, "nvidia/NV-Embed-v2"),
        ({"/health": Reply(200, {"status": "loading"})}, ProbeState.DEGRADED, 'status="loading"', None),
        ({"/health": Reply(200, {"ready": False, "model_loaded": False})}, ProbeState.DEGRADED, "ready=false", None),
        ({"/health": Reply(200, "OK")}, ProbeState.UP, None, None),
        ({"/openapi.json": Reply(200, {"openapi": "3.1.0", "info": {"title": "NV-Embed server", "version": "0.2.0"}, "paths": {}})}, ProbeState.UP, None, None),
        ({"/docs": Reply(200, "<!DOCTYPE html><title>Swagger UI</title>")}, ProbeState.UP, None, None),
        ({}, ProbeState.DOWN, "none of /health, /openapi.json, /docs exists (HTTP 404)", None),
    ],
)
async def test_nv_embed_fastapi_server(routes: dict, state: ProbeState, error: str | None, model: str | None) -> None:
    result, _ = await check("nv-embed", routes)
    assert (result.state, result.error, result.model) == (state, error, model)


async def test_nv_embed_reads_openapi_version() -> None:
    result, _ = await check("nv-embed", {"/openapi.json": Reply(200, {"openapi": "3.1.0", "info": {"title": "NV-Embed server", "version": "0.2.0"}})})
    assert (result.version, result.details["title"], result.details["endpoint"]) == ("0.2.0", "NV-Embed server", "/openapi.json")


async def test_litellm_ready() -> None:
    readiness = {"status": "healthy", "db": "Not connected", "cache": None, "litellm_version": "1.78.5", "success_callbacks": []}
    result, _ = await check("litellm", {"/health/readiness": Reply(200, readiness)})
    assert (result.state, result.version, result.details["db"]) == (ProbeState.UP, "1.78.5", "Not connected")


async def test_litellm_database_down_is_degraded() -> None:
    result, _ = await check("litellm", {"/health/readiness": Reply(503, {"detail": "Service Unhealthy (DB not connected)"})})
    assert result.state is ProbeState.DEGRADED
    assert result.error == "not ready: HTTP 503: Service Unhealthy (DB not connected)"


async def test_litellm_liveliness_fallback() -> None:
    result, _ = await check("litellm", {"/health/liveliness": Reply(200, "I'm alive!")})
    assert result.state is ProbeState.UP


async def test_open_webui() -> None:
    result, _ = await check("open-webui", {"/health": Reply(200, {"status": True}), "/api/version": Reply(200, {"version": "0.6.34"})})
    assert (result.state, result.version) == (ProbeState.UP, "0.6.34")


async def test_open_webui_reporting_false() -> None:
    result, _ = await check("open-webui", {"/health": Reply(200, {"status": False})})
    assert (result.state, result.error) == (ProbeState.DEGRADED, "status=false")


@pytest.mark.parametrize(("answer", "tls"), [(b"N", False), (b"EFATAL: unsupported frontend protocol", False)])
async def test_postgres_answers_the_ssl_request(answer: bytes, tls: bool) -> None:
    async with tcp_server(answer) as port:
        [result] = await check_once([spec("postgres", f"tcp://127.0.0.1:{port}")])
    assert result.state is ProbeState.UP, result.error
    assert result.details["tls"] is tls
    assert result.latency_ms is not None


async def test_something_else_on_the_postgres_port() -> None:
    async with tcp_server(b"SSH-2.0-OpenSSH_9.6\r\n") as port:
        [result] = await check_once([spec("postgres", f"tcp://127.0.0.1:{port}")])
    assert result.state is ProbeState.DOWN
    assert result.error == "not Postgres: answered 'SSH-2.0-OpenSSH_9.6' to an SSLRequest"


async def test_tcp_connect() -> None:
    async with tcp_server(None) as port:
        [result] = await check_once([spec("tcp", f"tcp://127.0.0.1:{port}")])
    assert result.state is ProbeState.UP
    assert result.latency_ms is not None and result.latency_ms < 1000


@pytest.mark.parametrize(
    ("field", "expected", "body", "state", "error"),
    [
        ("status", "ok", {"status": "ok"}, ProbeState.UP, None),
        ("status", "ok", {"status": "starting"}, ProbeState.DEGRADED, 'status="starting" (expected "ok")'),
        ("ready", True, {"ready": False}, ProbeState.DEGRADED, "ready=false (expected true)"),
        ("data.0.id", None, {"data": [{"id": "m"}]}, ProbeState.UP, None),
        ("data.0.id", None, {"data": []}, ProbeState.DEGRADED, "data.0.id missing from the answer"),
        ("workers", 4, {"workers": 4.0}, ProbeState.UP, None),
    ],
)
async def test_http_json_field(field: str, expected: object, body: dict, state: ProbeState, error: str | None) -> None:
    async with LoopbackHttp({"/status": Reply(200, body)}) as server:
        [result] = await check_once([spec("http-json", server.url + "/status", json_field=field, expect_value=expected)])
    assert (result.state, result.error) == (state, error)


async def test_http_any_accepts_a_login_page_but_not_a_server_error() -> None:
    async with LoopbackHttp({"/": Reply(401, "login required"), "/broken": Reply(502, "Bad Gateway")}) as server:
        [ok, broken] = await check_once([spec("http-any", server.url + "/"), spec("http-any", server.url + "/broken")])
    assert ok.state is ProbeState.UP
    assert (broken.state, broken.error) == (ProbeState.DOWN, "HTTP 502: Bad Gateway")


async def test_preset_behind_a_path_prefix() -> None:
    async with LoopbackHttp({"/ollama/api/version": Reply(200, {"version": "0.12.6"})}) as server:
        [result] = await check_once([spec("ollama", server.url + "/ollama/")])
    assert (result.state, result.version) == (ProbeState.UP, "0.12.6")


async def test_extras_that_hang_do_not_change_the_state() -> None:
    result, _ = await check("vllm", {"/health": Reply(200), "/v1/models": Hang()}, timeout=0.4)
    assert result.state is ProbeState.UP
    assert result.model is None


async def test_postgres_with_tls_gets_a_handshake_and_a_clean_goodbye(tmp_path: Path) -> None:
    # a Postgres with ssl=on answers S; the probe completes the handshake and closes without
    # sending a startup packet, which the server takes silently (no "incomplete startup packet")
    tls = server_tls_context(*self_signed_cert(tmp_path))
    seen: dict[str, object] = {}
    done = asyncio.Event()

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            seen["request"] = await reader.readexactly(8)
            writer.write(b"S")
            await writer.drain()
            await writer.start_tls(tls)
            seen["after_handshake"] = await reader.read(100)
        except Exception as exc:  # recorded for the assertion below
            seen["error"] = exc
        finally:
            writer.close()
            done.set()

    server = await asyncio.start_server(connected, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        [result] = await check_once([spec("postgres", f"tcp://127.0.0.1:{port}", timeout=5.0)])
        async with asyncio.timeout(5):
            await done.wait()
    finally:
        server.close()
    assert result.state is ProbeState.UP, result.error
    assert result.details["tls"] is True
    assert seen.get("request") == SSL_REQUEST
    assert "error" not in seen
    assert seen["after_handshake"] == b""  # nothing sent after the handshake: a clean close


async def test_postgres_that_offers_tls_but_stalls_in_the_handshake_is_still_up() -> None:
    async with tcp_server(b"S") as port:  # says S, then never speaks TLS
        [result] = await check_once([spec("postgres", f"tcp://127.0.0.1:{port}", timeout=0.5)])
    assert result.state is ProbeState.UP, result.error
    assert result.details["tls"] is True
