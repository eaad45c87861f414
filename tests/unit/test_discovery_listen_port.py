"""Discovery at the port a container says its service listens on (issue #14): `--network host`
containers publish none, so the command line or environment names it, else the preset's usual one."""

from __future__ import annotations

from spark_tui.core.services.discovery import discover_probes
from spark_tui.models.containers import Container, PublishedPort


def container(image: str, *ports: PublishedPort, name: str = "c1", network: str | None = "host", listen_port: int | None = None) -> Container:
    return Container(id=name * 6, name=name, image=image, state="running", status="Up", ports=ports, network_mode=network, listen_port=listen_port)


def tcp(container_port: int, host_port: int) -> PublishedPort:
    return PublishedPort(container_port, "tcp", "0.0.0.0", host_port)


def test_a_host_network_container_is_probed_at_the_port_it_names() -> None:
    ollama, vllm, tei, db = discover_probes(
        [
            container("ollama/ollama", name="ollama", listen_port=11500),
            container("nvcr.io/nvidia/vllm:25.09-py3", name="vllm", listen_port=8001),
            container("ghcr.io/huggingface/text-embeddings-inference:1.8", name="tei", listen_port=80),
            container("pgvector/pgvector:pg16", name="db", listen_port=5433),
        ]
    )
    assert [(s.kind, s.url, s.container) for s in (ollama, vllm, tei, db)] == [
        ("ollama", "http://127.0.0.1:11500", "ollama"),
        ("vllm", "http://127.0.0.1:8001", "vllm"),
        ("tei", "http://127.0.0.1:80", "tei"),
        ("postgres", "tcp://127.0.0.1:5433", "db"),
    ]
    assert [s.name for s in (ollama, vllm, tei, db)] == ["ollama", "vllm", "tei", "db"]  # one port each: no ":port"


def test_a_host_network_container_that_names_no_port_keeps_the_usual_one() -> None:
    ollama, sglang = discover_probes([container("ollama/ollama", name="ollama"), container("lmsysorg/sglang:spark", name="sglang")])
    assert (ollama.url, sglang.url) == ("http://127.0.0.1:11434", "http://127.0.0.1:30000")


def test_two_host_network_servers_of_one_kind_get_their_own_ports() -> None:
    first, second = discover_probes(
        [container("vllm/vllm-openai", name="qwen", listen_port=8001), container("vllm/vllm-openai", name="llama", listen_port=8002)]
    )
    assert {(s.name, s.url) for s in (first, second)} == {("qwen", "http://127.0.0.1:8001"), ("llama", "http://127.0.0.1:8002")}


def test_a_published_container_is_probed_at_the_published_port_of_the_port_it_names() -> None:
    # `-p 18001:8001 -p 19090:9090 vllm serve m --port 8001`: the named port picks the service's own
    [spec] = discover_probes([container("vllm/vllm-openai", tcp(8001, 18001), tcp(9090, 19090), network="bridge", listen_port=8001)])
    assert spec.url == "http://127.0.0.1:18001"
    # without it, two unknown ports are still not guessed
    assert discover_probes([container("vllm/vllm-openai", tcp(8001, 18001), tcp(9090, 19090), network="bridge")]) == []
    # a named port that is not published changes nothing: the preset's own is probed
    [ollama] = discover_probes([container("ollama/ollama", tcp(11434, 21434), network="bridge", listen_port=11500)])
    assert ollama.url == "http://127.0.0.1:21434"
