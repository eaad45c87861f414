"""Discovery: containers in, probe specs out; configured probes win."""

from __future__ import annotations

import pytest

from spark_tui.models.containers import Container, PublishedPort
from spark_tui.models.probes import ProbeSpec
from spark_tui.core.services.discovery import (
    discover_probes,
    endpoint,
    image_repository,
    match_preset,
    merge_probes,
    plan_probes,
    probe_host,
)
from spark_tui.core.services.presets import ConfiguredProbes


def tcp(container_port: int, host_port: int, host_ip: str = "0.0.0.0") -> PublishedPort:
    return PublishedPort(container_port, "tcp", host_ip, host_port)


def container(
    image: str, *ports: PublishedPort, name: str = "c1", state: str = "running", service: str | None = None, network: str | None = None
) -> Container:
    return Container(id=name * 6, name=name, image=image, state=state, status="Up 2 minutes", ports=ports, compose_service=service, network_mode=network)


@pytest.mark.parametrize(
    ("image", "repository"),
    [
        ("ollama/ollama:0.12.6", "ollama/ollama"),
        ("docker.io/ollama/ollama@sha256:abc", "ollama/ollama"),
        ("localhost:5000/team/vllm-openai:v0.11.0", "localhost:5000/team/vllm-openai"),
        ("localhost:5000/team/vllm-openai", "localhost:5000/team/vllm-openai"),
        ("postgres", "postgres"),
        ("docker.io/library/postgres:16", "postgres"),
        ("GHCR.IO/HuggingFace/Text-Embeddings-Inference:cpu-1.8", "ghcr.io/huggingface/text-embeddings-inference"),
    ],
)
def test_image_repository(image: str, repository: str) -> None:
    assert image_repository(image) == repository


@pytest.mark.parametrize(
    ("image", "preset"),
    [
        ("ollama/ollama:latest", "ollama"),
        ("sparktui-t4-abc123/ollama", "ollama"),
        ("vllm/vllm-openai:v0.11.0", "vllm"),
        ("nvcr.io/nvidia/vllm:25.09-py3", "vllm"),
        ("ghcr.io/huggingface/text-embeddings-inference:1.8", "tei"),
        ("ghcr.io/huggingface/text-embeddings-inference:cuda-1.8", "tei"),
        ("nvcr.io/nim/nvidia/nv-embedqa-e5-v5:1.6.0", "nim"),
        ("nvcr.io/nim/meta/llama-3.1-8b-instruct:latest", "nim"),
        ("michaelf34/infinity:0.0.77", "infinity"),
        ("quay.io/docling-project/docling-serve:v1.7.2", "docling"),
        ("ghcr.io/docling-project/docling-serve-cu128:latest", "docling"),
        ("ds4sd/docling-serve:latest", "docling"),
        ("bytebot/omniparser:edge", "omniparser"),
        ("local/nv-embed-server:dev", "nv-embed"),
        ("ghcr.io/berriai/litellm:main-latest", "litellm"),
        ("ghcr.io/open-webui/open-webui:ollama", "open-webui"),
        ("pgvector/pgvector:pg16", "postgres"),
        ("postgres:16-alpine", "postgres"),
        ("redis:7", "redis"),
        ("grafana/grafana:12.0", None),
        ("nginx:latest", None),
        ("ollama-proxy/nginx", None),
    ],
)
def test_match_by_image(image: str, preset: str | None) -> None:
    found = match_preset(container(image, tcp(1234, 1234), tcp(1235, 1235)))
    assert (found.name if found else None) == preset


def test_match_by_compose_service_then_by_port() -> None:
    by_service = match_preset(container("registry.lan/custom:1", tcp(8000, 8000), service="vllm"))
    assert by_service is not None and by_service.name == "vllm"
    by_port = match_preset(container("registry.lan/custom:1", tcp(11434, 11434)))
    assert by_port is not None and by_port.name == "ollama"
    assert match_preset(container("registry.lan/custom:1", tcp(8000, 8000))) is None  # 8000 is everyone's port


def test_wildcard_addresses_are_probed_on_loopback() -> None:
    assert probe_host("0.0.0.0") == "127.0.0.1"
    assert probe_host("::") == "::1"
    assert probe_host("") == "127.0.0.1"
    assert probe_host("192.168.1.20") == "192.168.1.20"


def test_discovered_ollama() -> None:
    [spec] = discover_probes([container("ollama/ollama", tcp(11434, 11434), tcp(11434, 11434, "::"), name="stack-ollama-1", service="ollama")])
    assert spec == ProbeSpec(
        name="ollama",
        kind="ollama",
        url="http://127.0.0.1:11434",
        interval=2.0,
        timeout=2.0,
        slow_ms=1000.0,
        origin="discovered",
        container="stack-ollama-1",
    )


def test_ipv6_only_and_specific_addresses() -> None:
    [v6] = discover_probes([container("ollama/ollama", tcp(11434, 31434, "::"))])
    assert v6.url == "http://[::1]:31434"
    [lan] = discover_probes([container("vllm/vllm-openai", tcp(8000, 18000, "10.0.0.5"))])
    assert lan.url == "http://10.0.0.5:18000"


def test_postgres_is_a_tcp_probe() -> None:
    [spec] = discover_probes([container("pgvector/pgvector:pg16", tcp(5432, 15432, "127.0.0.1"), name="db")])
    assert (spec.kind, spec.url) == ("postgres", "tcp://127.0.0.1:15432")


def test_only_the_services_own_port_or_the_only_one() -> None:
    # TEI listens on 80 in its image; a metrics port beside it is not probed
    [tei] = discover_probes([container("ghcr.io/huggingface/text-embeddings-inference:1.8", tcp(80, 8080), tcp(9000, 9000))])
    assert tei.url == "http://127.0.0.1:8080"
    # the only published port is used whatever its number
    [only] = discover_probes([container("vllm/vllm-openai", tcp(9999, 8001))])
    assert only.url == "http://127.0.0.1:8001"
    # several unknown ports: no guessing
    assert discover_probes([container("vllm/vllm-openai", tcp(9998, 8001), tcp(9999, 8002))]) == []


def test_host_network_containers_are_probed_on_loopback_at_the_usual_port() -> None:
    ollama, omniparser, db = discover_probes(
        [
            container("ollama/ollama", name="ollama", network="host"),
            container("local/omniparser:v2", name="omni", network="host"),
            container("pgvector/pgvector:pg16", name="db", network="host"),
        ]
    )
    assert (ollama.url, ollama.container, ollama.timeout) == ("http://127.0.0.1:11434", "ollama", 2.0)
    assert (omniparser.url, omniparser.slow_ms, omniparser.timeout) == ("http://127.0.0.1:8000", 3000.0, 6.0)  # busy is not down
    assert db.url == "tcp://127.0.0.1:5432"
    assert discover_probes([container("busybox", name="web", network="host")]) == []  # still recognised services only


def test_not_running_unpublished_and_udp_are_skipped() -> None:
    assert discover_probes([container("ollama/ollama", tcp(11434, 11434), state="exited")]) == []
    assert discover_probes([container("ollama/ollama")]) == []
    assert discover_probes([container("ollama/ollama", PublishedPort(11434, "udp", "0.0.0.0", 11434))]) == []


def test_names_stay_unique() -> None:
    specs = discover_probes(
        [
            container("ollama/ollama", tcp(11434, 11434), name="a-ollama-1", service="ollama"),
            container("ollama/ollama", tcp(11434, 21434), name="b-ollama-1", service="ollama"),
            container("vllm/vllm-openai", tcp(8000, 8000), name="vllm"),
            container("omniparser:latest", tcp(8000, 8001), tcp(9989, 9989), name="parser"),
        ]
    )
    assert [s.name for s in specs] == ["a-ollama-1", "b-ollama-1", "vllm", "parser:8000", "parser:9989"]
    assert specs[3].slow_ms == 3000.0


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("http://localhost:11434", "http://127.0.0.1:11434/api", True),
        ("http://[::1]:8000", "http://127.0.0.1:8000", True),
        ("tcp://127.0.0.1:5432", "postgresql://u:p@localhost:5432/db", True),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8001", False),
        ("http://gpu-box:8000", "http://127.0.0.1:8000", False),
        ("https://example.org", "https://example.org:443/x", True),
    ],
)
def test_endpoints(a: str, b: str, same: bool) -> None:
    assert (endpoint(a) == endpoint(b)) is same
    assert endpoint("tcp://nohostport") is None


def test_configured_probes_win_by_name_or_endpoint() -> None:
    configured = [
        ProbeSpec(name="ollama", kind="ollama", url="http://gpu-box.lan:11434"),  # same name, other host
        ProbeSpec(name="embeddings", kind="tei", url="http://localhost:8080"),  # same endpoint, other name
    ]
    disabled = [ProbeSpec(name="webui", kind="open-webui", url="")]
    discovered = discover_probes(
        [
            container("ollama/ollama", tcp(11434, 11434), name="ollama"),
            container("ghcr.io/huggingface/text-embeddings-inference:1.8", tcp(80, 8080), name="tei"),
            container("ghcr.io/open-webui/open-webui:main", tcp(8080, 3000), name="webui"),
            container("vllm/vllm-openai", tcp(8000, 8000), name="vllm"),
        ]
    )
    merged = merge_probes(configured, discovered, disabled)
    assert [(s.name, s.origin) for s in merged] == [("ollama", "config"), ("embeddings", "config"), ("vllm", "discovered")]


def test_plan_probes() -> None:
    plan = plan_probes(ConfiguredProbes(enabled=(), disabled=()), [container("ollama/ollama", tcp(11434, 11434))])
    assert [s.kind for s in plan] == ["ollama"]
    assert plan_probes(ConfiguredProbes(enabled=(), disabled=())) == []
