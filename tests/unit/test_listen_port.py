"""The port a container's service listens on, read from its command line and environment (issue #14).

Each engine's own spelling, as a DGX Spark runs it on `--network host`; garbage ignored; only the
number kept, never the environment it came from.
"""

from __future__ import annotations

import random

import pytest
from hostile import HOSTILE

from spark_tui.core.docker.containers import (
    PORT_VARIABLES,
    container_from_inspect,
    container_from_summary,
    listen_port_from,
    ollama_host_port,
    port_number,
)

CID = "5c2d0e5b9f1a4c3e8d7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d"


@pytest.mark.parametrize(
    ("argv", "env", "port"),
    [
        # vLLM, as NVIDIA's playbooks run it, behind the NGC image's entrypoint
        (["/opt/nvidia/nvidia_entrypoint.sh", "vllm", "serve", "Qwen/Qwen3-8B", "--port", "8001"], [], 8001),
        (["vllm", "serve", "Qwen/Qwen3-8B", "--gpu-memory-utilization", "0.7", "--port=8002"], [], 8002),
        # llama.cpp's server: the flag, or its LLAMA_ARG_PORT; the flag wins as in llama.cpp
        (["/app/llama-server", "-m", "/models/m.gguf", "--host", "0.0.0.0", "--port", "8090"], [], 8090),
        (["/app/llama-server", "-m", "/models/m.gguf"], ["LLAMA_ARG_HOST=0.0.0.0", "LLAMA_ARG_PORT=8091"], 8091),
        (["/app/llama-server", "--port", "8092"], ["LLAMA_ARG_PORT=8091"], 8092),
        # SGLang
        (["python3", "-m", "sglang.launch_server", "--model-path", "Qwen/Qwen3-8B", "--host", "0.0.0.0", "--port", "30001"], [], 30001),
        # TEI and TGI: --port over PORT, which their images set to 80
        (["text-embeddings-router", "--json-output", "--model-id", "BAAI/bge-m3", "--port", "8081"], ["PORT=80"], 8081),
        (["text-embeddings-router", "--json-output", "--model-id", "BAAI/bge-m3"], ["HUGGINGFACE_HUB_CACHE=/data", "PORT=80"], 80),
        (["text-generation-launcher", "--model-id", "m"], ["PORT=8085"], 8085),
        # NIM
        (["/opt/nim/start_server.sh"], ["NIM_SERVER_PORT=8010"], 8010),
        # Ollama has no flag: OLLAMA_HOST, over a PORT meant for something else
        (["/bin/ollama", "serve"], ["OLLAMA_HOST=0.0.0.0:11500", "PORT=9999"], 11500),
        # a `sh -c` script: its words are read too, and the last --port counts
        (["sh", "-c", "pip install x && exec vllm serve m --port 8003 --host 0.0.0.0"], [], 8003),
        (["sh", "-c", "wait-for --port 5432 db; vllm serve m --port 8004;"], [], 8004),
        # a shell variable the container's environment fills
        (["sh", "-c", "exec llama-server --port $LLAMA_PORT"], ["LLAMA_PORT=9001"], 9001),
        (["sh", "-c", 'exec llama-server --port "${LLAMA_PORT}"'], ["LLAMA_PORT=9002"], 9002),
        (["sh", "-c", "exec llama-server --port ${LLAMA_PORT:-9003}"], [], 9003),
        (["sh", "-c", "exec llama-server --port ${LLAMA_PORT:-9003}"], ["LLAMA_PORT="], 9003),
        (["sh", "-c", "exec vllm serve m --port $PORT"], ["PORT=9004"], 9004),
        # nothing said
        (["/bin/ollama", "serve"], [], None),
        ([], [], None),
        (None, None, None),
    ],
)
def test_each_engines_spelling(argv: list[str] | None, env: list[str] | None, port: int | None) -> None:
    assert listen_port_from(argv, env) == port


@pytest.mark.parametrize(
    ("value", "port"),
    [
        ("0.0.0.0:11500", 11500),
        ("127.0.0.1:11500", 11500),
        (":11500", 11500),
        ("http://0.0.0.0:11500", 11500),
        ("http://0.0.0.0:11500/", 11500),
        ("https://spark.lan:11500/ollama", 11500),
        ("[::]:11500", 11500),
        ("'0.0.0.0:11500'", 11500),
        ('  "0.0.0.0:11500"  ', 11500),
        # no port: Ollama's own, or the scheme's
        ("0.0.0.0", 11434),
        ("", 11434),
        ("::", 11434),
        ("[::1]", 11434),
        ("http://0.0.0.0", 80),
        ("https://0.0.0.0", 443),
        # an invalid port: Ollama falls back to its default, and so do we
        ("0.0.0.0:99999", 11434),
        ("0.0.0.0:abc", 11434),
        ("0.0.0.0:", 11434),
        # port 0 asks the kernel for any free port: it cannot be known from outside
        ("0.0.0.0:0", None),
    ],
)
def test_ollama_host_as_ollama_reads_it(value: str, port: int | None) -> None:
    assert ollama_host_port(value) == port
    assert listen_port_from(["/bin/ollama", "serve"], [f"OLLAMA_HOST={value}"]) == port


@pytest.mark.parametrize(
    "word",
    ["abc", "-1", "0", "65536", "99999999999999999999", "1e3", "0x1f90", "８０８０", "1_000", "80.5", "", "$", "${}", "${UNSET}", "$(id -u)"],
)
def test_a_port_that_is_not_one_is_ignored(word: str) -> None:
    assert listen_port_from(["server", "--port", word]) is None
    assert listen_port_from(["server", f"--port={word}"]) is None
    assert listen_port_from(["server"], [f"PORT={word}", f"LLAMA_ARG_PORT={word}", f"NIM_SERVER_PORT={word}"]) is None
    # a garbage flag does not hide a variable that says the port
    assert listen_port_from(["server", "--port", word], ["PORT=8080"]) == 8080


@pytest.mark.parametrize(
    "argv",
    [
        ["server", "--port"],  # the flag with no value, at the end
        ["server", "--portal", "80"],
        ["server", "--port-range", "80"],
        ["server", "--metrics-port", "9090"],
        ["server", "--PORT", "80"],
        ["llama-cli", "-p", "8080"],  # -p is llama.cpp's --prompt
        ["server", "-port", "80"],
        ["server", 8080, None, {"--port": 1}, ["--port", "80"]],  # not words
    ],
)
def test_other_flags_are_not_the_port(argv: list[object]) -> None:
    assert listen_port_from(argv) is None


def test_environment_entries_that_are_not_key_value_are_ignored() -> None:
    assert listen_port_from([], ["PORT", "=8080", None, 8080, b"PORT=8080", "OTHER_PORT=8080"]) is None
    assert listen_port_from([], ["PORT=1", "PORT=8081"]) == 8081  # the last one, as Docker keeps it


def test_port_number_bounds() -> None:
    assert [port_number(text) for text in ("1", "65535", " 8000 ", '"8000"', "8000;")] == [1, 65535, 8000, 8000, 8000]
    assert [port_number(text) for text in ("0", "65536", "00000", "123456")] == [None, None, None, None]
    assert set(PORT_VARIABLES) == {"OLLAMA_HOST", "LLAMA_ARG_PORT", "NIM_SERVER_PORT", "PORT"}


def test_hostile_text_never_raises_and_gives_a_port_or_none() -> None:
    rng = random.Random(14)  # fixed seed: the same words every run
    alphabet = "-= $:{}/[]\"'0123456789portPORT\x00\x1b\n\t８"
    words = [text for _, text in HOSTILE] + ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30))) for _ in range(2000)]
    for word in words:
        for argv, env in (
            (["x", "--port", word], []),
            ([f"--port={word}"], []),
            ([word], [f"PORT={word}"]),
            ([], [f"OLLAMA_HOST={word}"]),
            ([f"x --port {word}"], [word]),
        ):
            port = listen_port_from(argv, env)
            assert port is None or (isinstance(port, int) and 1 <= port <= 65535), (argv, env, port)


def inspect_data(entrypoint: object, cmd: object, env: object) -> dict:
    return {
        "Id": CID,
        "Name": "/ollama",
        "State": {"Status": "running", "Pid": 41},
        "HostConfig": {"NetworkMode": "host"},
        "Config": {"Image": "ollama/ollama:0.12.6", "Entrypoint": entrypoint, "Cmd": cmd, "Env": env, "Labels": {}},
    }


def test_inspect_reads_entrypoint_cmd_and_env_and_keeps_only_the_port() -> None:
    secret = "hf_abcdefghijklmnopqrstuvwxyz0123456789"
    env = [f"HF_TOKEN={secret}", "OLLAMA_HOST=0.0.0.0:11500", "PATH=/usr/local/sbin:/usr/bin"]
    container = container_from_inspect(inspect_data(["/bin/ollama"], ["serve", "--api-key", "sk-live-0123456789abcdef"], env))
    assert (container.listen_port, container.network_mode) == (11500, "host")
    kept = repr(container)
    assert secret not in kept and "sk-live" not in kept and "OLLAMA_HOST" not in kept and "PATH=" not in kept
    # the entrypoint and the command are one command line
    vllm = container_from_inspect(inspect_data(["vllm", "serve"], ["Qwen/Qwen3-8B", "--port", "8001"], ["PORT=80"]))
    assert vllm.listen_port == 8001
    split = container_from_inspect(inspect_data(["vllm", "serve", "m", "--port"], ["8002"], None))
    assert split.listen_port == 8002


@pytest.mark.parametrize(
    ("entrypoint", "cmd", "env", "port"),
    [
        (None, None, None, None),
        (None, ["--port", "8001"], None, 8001),
        ("vllm serve m --port 8003", None, [], 8003),  # a string from an old engine: one word of many
        ({"--port": "8001"}, 8001, "PORT=8080", None),  # not lists: nothing read
    ],
)
def test_inspect_copes_with_what_the_engine_may_send(entrypoint: object, cmd: object, env: object, port: int | None) -> None:
    assert container_from_inspect(inspect_data(entrypoint, cmd, env)).listen_port == port


def test_inspect_without_a_config() -> None:
    data = inspect_data(None, None, None)
    del data["Config"]
    assert container_from_inspect(data).listen_port is None


@pytest.mark.parametrize(
    ("command", "port"),
    [
        ("/opt/nvidia/nvidia_entrypoint.sh vllm serve Qwen/Qwen3-8B --port 8001", 8001),
        ("python3 -m sglang.launch_server --model-path m --port=30001", 30001),
        ("/bin/ollama serve", None),  # the list carries no environment
        ("", None),
        (None, None),
        (["--port", "8001"], None),  # not the string the list API sends
    ],
)
def test_the_list_reads_the_command_string(command: object, port: int | None) -> None:
    entry = {"Id": CID, "Names": ["/m"], "Image": "vllm/vllm-openai", "State": "running", "Status": "Up 1 second", "Command": command, "HostConfig": {"NetworkMode": "host"}}
    assert container_from_summary(entry).listen_port == port
