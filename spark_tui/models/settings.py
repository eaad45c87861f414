"""Settings as frozen structs, one per config section: what each component receives.

Plain data (msgspec Structs), so every layer can take its own section; reading and checking the
TOML file is spark_tui/config.py's work.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct


class ConfigError(Exception):
    """A configuration problem, already phrased for the user (one line)."""


class Section(Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Base of every config table: unknown keys are errors, values are immutable."""


class DashboardConfig(Section):
    interval: Annotated[float, Meta(ge=0.1, le=3600)] = 1.0
    """Seconds between samples of GPU, memory and CPU."""
    history_seconds: Annotated[int, Meta(ge=10, le=86_400)] = 300
    """How much history the graphs keep."""
    theme: str = "textual-dark"
    """Any Textual theme name; "ansi-dark" uses the terminal's own colours."""


class ComposeProjectConfig(Section):
    files: tuple[str, ...]
    """Compose files of one project, in order, like repeated `docker compose -f`."""
    name: str | None = None
    """Project name (-p); default: compose's own (the file's `name:` or its directory)."""
    env_files: tuple[str, ...] = ()
    """Extra --env-file arguments; the project's .env is read by compose as usual."""


class ComposeConfig(Section):
    files: tuple[str, ...] = ()
    """Compose files to show even when none of their containers exist; one project each."""
    projects: tuple[ComposeProjectConfig, ...] = ()
    """Projects made of several files: [[docker.compose.projects]] files = [...]."""
    memory_floor_gib: Annotated[float, Meta(ge=0, le=4096)] = 8.0
    """Warn before starting a profile that would leave less than this much memory available."""
    memory_hints_gib: dict[str, Annotated[float, Meta(ge=0, le=4096)]] = {}
    """Expected memory of a profile, by "profile" or "project/profile", in GiB."""
    remove_on_down: bool = False
    """`profile down` removes the profile's containers instead of only stopping them."""
    command_timeout: Annotated[float, Meta(ge=10, le=86_400)] = 900.0
    """Seconds a compose up/down may run before it is stopped."""


class DockerConfig(Section):
    host: str | None = None
    """Engine address; default: DOCKER_HOST, then the docker CLI's current context, then the local socket."""
    stats_interval: Annotated[float, Meta(ge=0.5, le=3600)] = 2.0
    """Seconds between CPU/memory reads of the containers (from cgroups: no load on dockerd)."""
    log_tail: Annotated[int, Meta(ge=0, le=100_000)] = 500
    """Log lines shown when a container's logs open."""
    compose: ComposeConfig = ComposeConfig()


class ProbeConfig(Section):
    """One [[probes]] table: a service checked on its own cadence (checked by spark_tui.core.services.presets when the file is read)."""

    name: Annotated[str, Meta(min_length=1, max_length=64)]
    """Shown in the services table; `spark-tui probe NAME` checks it."""
    kind: str = "http"
    """"http", "http-json", "http-any", "tcp", or a preset: ollama, vllm, tei, nim, sglang,
    llamacpp, trtllm, triton, tgi, redis, milvus, minio, infinity, omniparser, docling, nv-embed,
    litellm, open-webui, postgres."""
    url: str | None = None
    """The URL to check (a preset's base URL; default http://127.0.0.1:<its port>); tcp://host:port."""
    interval: Annotated[float, Meta(ge=0.5, le=3600)] = 2.0
    """Seconds between checks."""
    timeout: Annotated[float, Meta(gt=0, le=120)] | None = None
    """Seconds for a whole check: connect, answer and body (default 2, OmniParser and docling 6)."""
    slow_ms: Annotated[float, Meta(gt=0, le=600_000)] | None = None
    """An answer slower than this is "degraded" (default 1000, OmniParser and docling 3000); below the timeout."""
    expect_status: Annotated[int, Meta(ge=100, le=599)] | tuple[Annotated[int, Meta(ge=100, le=599)], ...] | None = None
    """Status(es) that count as up for http/http-json (default any 2xx)."""
    json_field: str | None = None
    """http-json: dotted path of a field to check, e.g. "status" or "data.0.id"."""
    expect_value: str | int | float | bool | None = None
    """http-json: the value json_field must have (default: present and not null)."""
    verify_tls: bool = True
    """Check https certificates; false for a self-signed one."""
    enabled: bool = True
    """false hides a discovered probe with the same name or URL (url may then be left out)."""


class InferenceConfig(Section):
    """One [[inference]] table: a model server whose own metrics are watched (checked by
    spark_tui.config when the file is read)."""

    url: Annotated[str, Meta(min_length=1, max_length=2048)]
    """The server's base URL, e.g. http://127.0.0.1:8000 (its metrics path is added)."""
    name: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    """Shown in the inference panel; `spark-tui inference NAME` (default: the URL's host:port)."""
    engine: str | None = None
    """vllm, sglang, llamacpp, tei, tgi, triton, nim, trtllm or ollama; default: found from the metric names."""
    metrics_path: str | None = None
    """Where the metrics are, when not the engine's own (/metrics; NIM /v1/metrics; trtllm-serve /prometheus/metrics)."""
    interval: Annotated[float, Meta(ge=0.5, le=3600)] = 2.0
    """Seconds between scrapes."""
    enabled: bool = True
    """false hides a discovered inference server with the same name or URL."""


class BenchConfig(Section):
    """[bench]: defaults for `spark-tui bench` and the benchmark screen; flags override them."""

    batch_sizes: tuple[Annotated[int, Meta(ge=1, le=4096)], ...] = (1, 8, 32)
    """Embedding batch sizes to sweep (texts per request)."""
    concurrencies: tuple[Annotated[int, Meta(ge=1, le=1024)], ...] = (1, 4)
    """Embedding concurrency levels to sweep (requests in flight, closed loop)."""
    parse_batch_sizes: tuple[Annotated[int, Meta(ge=1, le=256)], ...] = (1,)
    """docling documents per request (OmniParser always takes one image)."""
    parse_concurrencies: tuple[Annotated[int, Meta(ge=1, le=1024)], ...] = (1, 2)
    """Parse concurrency levels to sweep."""
    duration: Annotated[float, Meta(gt=0, le=86_400)] = 20.0
    """Seconds each cell runs (unless `requests` is set)."""
    requests: Annotated[int, Meta(ge=1)] | None = None
    """Requests per cell instead of a duration."""
    warmup_requests: Annotated[int, Meta(ge=0, le=1000)] = 2
    """Requests sent and discarded before the sweep (Ollama loads the model here)."""
    warmup_timeout: Annotated[float, Meta(gt=0, le=3600)] = 120.0
    """Seconds a warm-up request may wait (a model loading); no answer ends the run."""
    timeout: Annotated[float, Meta(gt=0, le=3600)] = 60.0
    """Seconds one request may take before it counts as a timeout."""
    memory_floor_gib: Annotated[float, Meta(ge=0, le=4096)] = 8.0
    """Abort a run when MemAvailable falls below this many GiB."""
    max_error_rate: Annotated[float, Meta(ge=0, le=1)] = 0.05
    """Above this share of failed requests, stop raising concurrency for that batch size."""
    text_words: Annotated[int, Meta(ge=1, le=100_000)] = 200
    """Words per generated text for embedding requests."""
    doc_pages: Annotated[int, Meta(ge=1, le=2000)] = 4
    """Pages per generated document for docling."""
    results_dir: str | None = None
    """Where runs are saved; default $XDG_DATA_HOME/spark-tui/runs."""


class Config(Section):
    dashboard: DashboardConfig = DashboardConfig()
    docker: DockerConfig = DockerConfig()
    probes: tuple[ProbeConfig, ...] = ()
    inference: tuple[InferenceConfig, ...] = ()
    bench: BenchConfig = BenchConfig()
