"""The preset table: each service a Spark runs, with its check (checks.py), default port, how
its container is recognised for discovery, and whether it is an inference engine; and the
[[probes]] config read against it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit, urlunsplit

from spark_tui.core.services.checks import (
    Check,
    FetchExtras,
    check_docling,
    check_fastapi,
    check_http,
    check_http_any,
    check_http_json,
    check_infinity,
    check_litellm,
    check_llamacpp,
    check_milvus,
    check_minio,
    check_nim,
    check_ollama,
    check_omniparser,
    check_open_webui,
    check_postgres,
    check_redis,
    check_sglang,
    check_tcp,
    check_tei,
    check_tgi,
    check_triton,
    check_trtllm,
    check_vllm,
    docling_extras,
    infinity_extras,
    llamacpp_extras,
    nim_extras,
    ollama_extras,
    open_webui_extras,
    parse_json_path,
    sglang_extras,
    tei_extras,
    tgi_extras,
    triton_extras,
    trtllm_extras,
    vllm_extras,
)
from spark_tui.models.probes import ProbeSpec

if TYPE_CHECKING:
    from spark_tui.models.settings import ProbeConfig

# The inference engines the metrics feature and the generation benchmark know how to talk to.
Engine = Literal["vllm", "sglang", "llamacpp", "tgi", "trtllm", "triton", "nim", "ollama", "tei"]


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    checks: str  # what the check does, in words (help text, README)
    scheme: Literal["http", "tcp"]
    default_port: int
    check: Check
    extras: FetchExtras | None = None
    slow_ms: float | None = None  # None: the probe's own default
    timeout_s: float | None = None  # None: the probe's own default; above slow_ms, or slow reads as down
    images: tuple[str, ...] = ()  # regular expressions over the image repository (no tag)
    services: tuple[str, ...] = ()  # Compose service names that suggest this preset
    container_ports: tuple[int, ...] = ()  # ports the service listens on inside its container
    port_identifies: bool = False  # the container port alone is enough to recognise it
    engine: Engine | None = None  # an LLM/inference engine, and which (inference metrics, generation benchmark)


GENERIC_KINDS = ("http", "http-json", "http-any", "tcp")
BUSY_SLOW_MS = 3000.0  # services that answer their health check behind heavy work
BUSY_TIMEOUT_S = 6.0

_ALL: tuple[Preset, ...] = (
    Preset("http", "HTTP", "GET the URL; up when the status is expected (any 2xx by default)", "http", 80, check_http),
    Preset(
        "http-json",
        "HTTP + JSON",
        "GET the URL; the body must be JSON, and json_field must equal expect_value when given",
        "http",
        80,
        check_http_json,
    ),
    Preset("http-any", "HTTP (any answer)", "GET the URL; any HTTP answer below 500 counts as up", "http", 80, check_http_any),
    Preset("tcp", "TCP", "connect to host:port", "tcp", 0, check_tcp),
    Preset(
        "ollama",
        "Ollama",
        "GET /api/version; models from /api/tags, loaded ones and their memory from /api/ps",
        "http",
        11434,
        check_ollama,
        ollama_extras,
        images=(r"(.*/)?ollama",),
        services=("ollama",),
        container_ports=(11434,),
        port_identifies=True,
        engine="ollama",
    ),
    Preset(
        "vllm",
        "vLLM",
        "GET /health (200; 5xx when the engine died); served model id from /v1/models",
        "http",
        8000,
        check_vllm,
        vllm_extras,
        images=(r"(.*/)?vllm-openai", r"(.*/)?vllm", r"nvcr\.io/nvidia/vllm"),
        services=("vllm",),
        container_ports=(8000,),
        engine="vllm",
    ),
    Preset(
        "tei",
        "Text Embeddings Inference",
        "GET /health (200; 503 when the backend fails); model and batch limits from /info",
        "http",
        8080,
        check_tei,
        tei_extras,
        images=(r"(.*/)?text-embeddings-inference",),
        services=("tei", "text-embeddings-inference"),
        container_ports=(80, 8080),
        engine="tei",
    ),
    Preset(
        "nim",
        "NVIDIA NIM",
        "GET /v1/health/ready (200, ready=true; 503 while loading = degraded); model from /v1/models",
        "http",
        8000,
        check_nim,
        nim_extras,
        images=(r"nvcr\.io/nim/.*",),
        services=("nim",),
        container_ports=(8000,),
        engine="nim",
    ),
    Preset(
        "sglang",
        "SGLang",
        "GET /health (200; 503 while starting or unhealthy = degraded); model from /get_model_info, version from /get_server_info",
        "http",
        30000,
        check_sglang,
        sglang_extras,
        images=(r"(.*/)?sglang",),  # lmsysorg/sglang, nvcr.io/nvidia/sglang
        services=("sglang",),
        container_ports=(30000,),
        port_identifies=True,
        engine="sglang",
    ),
    Preset(
        "llamacpp",
        "llama.cpp server",
        'GET /health ({"status": "ok"}; 503 while the model loads = degraded); model, context and slots from /props',
        "http",
        8080,
        check_llamacpp,
        llamacpp_extras,
        images=(r".*llama\.cpp.*", r".*llama-server.*"),  # ghcr.io/ggml-org/llama.cpp:server-cuda
        services=("llamacpp", "llama-cpp", "llama.cpp", "llama-server"),
        container_ports=(8080,),
        engine="llamacpp",
    ),
    Preset(
        "trtllm",
        "TensorRT-LLM (trtllm-serve)",
        "GET /health (200); model from /v1/models, version from /version",
        "http",
        8000,
        check_trtllm,
        trtllm_extras,
        images=(r"nvcr\.io/nvidia/tensorrt-llm/.*", r".*tensorrt-llm.*", r".*trtllm.*"),
        services=("trtllm", "trtllm-serve", "tensorrt-llm"),
        container_ports=(8000,),
        engine="trtllm",
    ),
    Preset(
        "triton",
        "Triton Inference Server",
        "GET /v2/health/ready (200; 400 while models load = degraded); version from /v2",
        "http",
        8000,
        check_triton,
        triton_extras,
        images=(r"nvcr\.io/nvidia/tritonserver", r".*tritonserver.*"),
        services=("triton", "tritonserver", "triton-server"),
        container_ports=(8000,),
        engine="triton",
    ),
    Preset(
        "tgi",
        "Text Generation Inference",
        "GET /health (200; 503 when its shards fail); model and token limits from /info",
        "http",
        8080,
        check_tgi,
        tgi_extras,
        images=(r"(.*/)?text-generation-inference",),
        services=("tgi", "text-generation-inference"),
        container_ports=(80, 8080),
        engine="tgi",
    ),
    Preset(
        "redis",
        "Redis",
        "PING over RESP: +PONG is up, -NOAUTH up (needs a password), -LOADING degraded",
        "tcp",
        6379,
        check_redis,
        images=(r"(.*/)?redis", r"(.*/)?redis-stack(-server)?", r"(.*/)?valkey"),
        services=("redis", "valkey"),
        container_ports=(6379,),
        port_identifies=True,
    ),
    Preset(
        "milvus",
        "Milvus",
        'GET :9091/healthz ("OK"; 500 "Not all components are …" = degraded)',
        "http",
        9091,
        check_milvus,
        images=(r"(.*/)?milvus",),  # milvusdb/milvus
        services=("milvus", "milvus-standalone"),
        container_ports=(9091,),
    ),
    Preset(
        "minio",
        "MinIO",
        "GET /minio/health/live (200) and /minio/health/ready (503 without write quorum = degraded)",
        "http",
        9000,
        check_minio,
        images=(r"(.*/)?minio/minio", r"(.*/)?bitnami/minio"),
        services=("minio",),
        container_ports=(9000,),
    ),
    Preset(
        "infinity",
        "Infinity",
        'GET /health → {"unix": …}; models from /models',
        "http",
        7997,
        check_infinity,
        infinity_extras,
        images=(r"(.*/)?infinity", r"(.*/)?infinity-emb.*"),
        services=("infinity",),
        container_ports=(7997,),
        port_identifies=True,
    ),
    Preset(
        "omniparser",
        "OmniParser",
        'GET /probe/ → {"message": "Omniparser API ready"}; Bytebot\'s build: GET /health with its device',
        "http",
        8000,
        check_omniparser,
        slow_ms=BUSY_SLOW_MS,
        timeout_s=BUSY_TIMEOUT_S,
        images=(r".*omniparser.*",),
        services=("omniparser", "bytebot-omniparser"),
        container_ports=(8000, 9989),
    ),
    Preset(
        "docling",
        "docling-serve",
        "GET /health (status ok) and /ready (503 until its models load = degraded); version from /version",
        "http",
        5001,
        check_docling,
        docling_extras,
        slow_ms=BUSY_SLOW_MS,
        timeout_s=BUSY_TIMEOUT_S,
        images=(r".*docling-serve.*",),
        services=("docling", "docling-serve"),
        container_ports=(5001,),
        port_identifies=True,
    ),
    Preset(
        "nv-embed",
        "NV-Embed (FastAPI)",
        "GET /health (status, ready and model fields read when present), else /openapi.json or /docs",
        "http",
        8080,
        check_fastapi,
        images=(r".*nv-?embed.*",),
        services=("nv-embed", "nvembed", "embed", "embedding", "embeddings"),
        container_ports=(8080, 8000),
    ),
    Preset(
        "litellm",
        "LiteLLM proxy",
        "GET /health/readiness (status, db, version; 503 = not ready), else /health/liveliness",
        "http",
        4000,
        check_litellm,
        images=(r".*litellm.*",),
        services=("litellm",),
        container_ports=(4000,),
        port_identifies=True,
    ),
    Preset(
        "open-webui",
        "Open WebUI",
        'GET /health → {"status": true}; version from /api/version',
        "http",
        8080,
        check_open_webui,
        open_webui_extras,
        images=(r".*open-webui.*",),
        services=("open-webui", "openwebui", "webui"),
        container_ports=(8080,),
    ),
    Preset(
        "postgres",
        "PostgreSQL",
        "TCP connect and an SSLRequest: a real Postgres answers S or N (nothing is logged)",
        "tcp",
        5432,
        check_postgres,
        images=(r"(.*/)?postgres", r".*pgvector.*", r".*postgis.*", r".*timescaledb.*", r".*paradedb.*"),
        services=("postgres", "postgresql", "db", "pgvector"),
        container_ports=(5432,),
        port_identifies=True,
    ),
)

PRESETS: dict[str, Preset] = {preset.name: preset for preset in _ALL}
KINDS: tuple[str, ...] = tuple(PRESETS)
SERVICE_PRESETS: tuple[Preset, ...] = tuple(p for p in _ALL if p.name not in GENERIC_KINDS)
ENGINE_PRESETS: dict[str, Preset] = {p.name: p for p in _ALL if p.engine is not None}  # the inference engines


def preset_for(kind: str) -> Preset:
    try:
        return PRESETS[kind]
    except KeyError:
        raise ValueError(f"unknown probe kind {kind!r} (expected one of: {', '.join(KINDS)})") from None


# ---------------------------------------------------------------------------------------------
# from the config file


DEFAULT_INTERVAL_S = 2.0
DEFAULT_TIMEOUT_S = 2.0
DEFAULT_SLOW_MS = 1000.0
_HTTP_SCHEMES = ("http", "https")
_TCP_SCHEMES = {"tcp": ("tcp",), "postgres": ("tcp", "postgres", "postgresql"), "redis": ("tcp", "redis")}


def validate_probe_config(probe: ProbeConfig) -> None:
    """Raise ValueError("key: what is wrong") for a [[probes]] table that cannot work."""
    if not probe.name.strip() or probe.name != probe.name.strip():
        raise ValueError(f"name: {probe.name!r} must not be blank or start or end with spaces")
    if probe.kind not in PRESETS:
        raise ValueError(f"kind: unknown probe kind {probe.kind!r} (expected one of: {', '.join(KINDS)})")
    preset = PRESETS[probe.kind]
    if probe.url is None:
        if probe.enabled and probe.kind in GENERIC_KINDS:
            raise ValueError(f'url: required for kind "{probe.kind}"')
    else:
        _check_url(probe.url, preset)
    if probe.kind != "http-json":
        for key in ("json_field", "expect_value"):
            if getattr(probe, key) is not None:
                raise ValueError(f'{key}: only used with kind = "http-json"')
    if probe.expect_status is not None and probe.kind not in ("http", "http-json"):
        raise ValueError('expect_status: only used with kind = "http" or "http-json"')
    if probe.json_field is not None:
        try:
            parse_json_path(probe.json_field)
        except ValueError as exc:
            raise ValueError(f"json_field: {exc}") from None
    elif probe.expect_value is not None:
        raise ValueError("expect_value: needs json_field (which field should have this value?)")
    timeout = probe_timeout(probe, preset)
    if probe.slow_ms is not None and probe.slow_ms >= timeout * 1000:  # it would time out first: never "degraded"
        raise ValueError(f"slow_ms: {probe.slow_ms:g} ms is not below the timeout ({timeout:g} s): lower slow_ms or raise timeout")


def probe_timeout(probe: ProbeConfig, preset: Preset) -> float:
    return probe.timeout if probe.timeout is not None else preset.timeout_s or DEFAULT_TIMEOUT_S


def probe_slow_ms(probe: ProbeConfig, preset: Preset) -> float:
    return probe.slow_ms if probe.slow_ms is not None else preset.slow_ms or DEFAULT_SLOW_MS


def _check_url(url: str, preset: Preset) -> None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"url: {url!r} is not a valid URL ({exc})") from None
    schemes = _HTTP_SCHEMES if preset.scheme == "http" else _TCP_SCHEMES.get(preset.name, ("tcp",))
    if parts.scheme not in schemes:
        example = f"http://127.0.0.1:{preset.default_port or 8080}" if preset.scheme == "http" else f"tcp://127.0.0.1:{preset.default_port or 5432}"
        raise ValueError(f"url: {url!r} must start with {' or '.join(s + '://' for s in schemes)} (e.g. {example})")
    if not parts.hostname:
        raise ValueError(f"url: {url!r} names no host")
    if preset.scheme == "tcp" and port is None and not preset.default_port:
        raise ValueError(f"url: {url!r} needs a port (tcp://host:port)")


def default_url(preset: Preset) -> str:
    scheme = "http" if preset.scheme == "http" else "tcp"
    return f"{scheme}://127.0.0.1:{preset.default_port}"


def spec_from_config(probe: ProbeConfig) -> ProbeSpec:
    """The probe a validated [[probes]] table describes, preset defaults filled in."""
    preset = PRESETS[probe.kind]
    url = probe.url or (default_url(preset) if probe.kind not in GENERIC_KINDS else "")
    if url and preset.scheme == "tcp" and urlsplit(url).port is None:
        parts = urlsplit(url)  # postgres://db → the preset's port
        url = urlunsplit((parts.scheme, f"{parts.netloc}:{preset.default_port}", parts.path, parts.query, parts.fragment))
    status = probe.expect_status
    return ProbeSpec(
        name=probe.name,
        kind=probe.kind,
        url=url,
        interval=probe.interval,
        timeout=probe_timeout(probe, preset),
        slow_ms=probe_slow_ms(probe, preset),
        expect_status=(status,) if isinstance(status, int) else (tuple(status) if status is not None else None),
        json_field=probe.json_field,
        expect_value=probe.expect_value,
        verify_tls=probe.verify_tls,
        origin="config",
    )


@dataclass(frozen=True)
class ConfiguredProbes:
    enabled: tuple[ProbeSpec, ...]  # to run
    disabled: tuple[ProbeSpec, ...]  # not run, but they hide discovered probes with the same name or URL


def configured_probes(probes: Sequence[ProbeConfig]) -> ConfiguredProbes:
    """The config's [[probes]] as specs; ConfigError when two share a name."""
    from spark_tui.models.settings import ConfigError

    seen: dict[str, int] = {}
    enabled, disabled = [], []
    for index, probe in enumerate(probes):
        if probe.name in seen:
            raise ConfigError(f"probes[{index}].name: {probe.name!r} is already the name of probes[{seen[probe.name]}]")
        seen[probe.name] = index
        (enabled if probe.enabled else disabled).append(spec_from_config(probe))
    return ConfiguredProbes(tuple(enabled), tuple(disabled))
