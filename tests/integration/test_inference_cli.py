"""`spark-tui inference` against loopback servers speaking each engine's metrics page, and a real
llama.cpp server: figures within a few percent of what the server emitted over the same window,
the --json shape, metrics off, a hung server bounded by the timeout."""

from __future__ import annotations

import json
import re
import threading
import time

import httpx
import pytest
from servers.inference_servers import (
    LlamaCppEngine,
    OllamaEngine,
    SglangEngine,
    TgiEngine,
    VllmEngine,
    ollama_server,
    sglang_server,
    tgi_server,
    vllm_server,
)
from servers.inference_servers import llamacpp_server as llamacpp_emulator_server
from servers.llamacpp import LlamaServer

from spark_tui.cli import main
from spark_tui.commands.inference import httpx_fetch, measure
from spark_tui.core.inference.scrape import InferenceTarget

ISSUE_KEYS = {"name", "url", "engine", "model", "running", "waiting", "kv_cache_usage", "prompt_tokens_per_s",
              "generation_tokens_per_s", "ttft", "itl", "sources", "problem"}


def counter(body: bytes, name: str) -> float:
    """The sum of a family's sample values on a page (every label set), read independently of the parser."""
    pattern = re.compile(rb"^" + re.escape(name.encode()) + rb"(?:\{[^}]*\})? ([0-9.e+-]+)$", re.MULTILINE)
    return sum(float(value) for value in pattern.findall(body))


def rate_from_renders(server, name: str) -> float:
    """The counter's increase between the server's last two pages ÷ the time between them."""
    (first_at, first), (second_at, second) = server.renders[-2:]
    return (counter(second, name) - counter(first, name)) / (second_at - first_at)


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["inference", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def adds_during_window(action):
    """A `sleep` for measure() that makes the server do work while the window runs."""
    def sleep(seconds: float) -> None:
        action()
        time.sleep(seconds)
    return sleep


@pytest.mark.parametrize("engines", [1, 2])
def test_vllm_rates_match_what_the_server_emitted(engines: int) -> None:
    engine = VllmEngine(engines=engines)
    with vllm_server(engine) as server:

        def load() -> None:
            for index in range(engines):
                engine.add_tokens(prompt=3000 + index, generation=777 * (index + 1), engine=index)
                engine.set_load(running=5 + index, waiting=2, kv_usage=0.4 + 0.1 * index, engine=index)
                for _ in range(20):
                    engine.finish_request(ttft=0.3, itls=[0.02] * 10, e2e=1.0, engine=index)

        # 2 s, the command's default: a scheduling skew of tens of ms between the server's render and
        # the command's clock stays within the 3 % (at 0.5 s a loaded machine made it 4 %)
        [figures] = measure([InferenceTarget("v", server.url)], 2.0, sleep=adds_during_window(load))
    assert figures.engine == "vllm" and figures.model == engine.model
    truth = rate_from_renders(server, "vllm:generation_tokens_total")
    assert truth > 0
    assert figures.generation_tokens_per_s == pytest.approx(truth, rel=0.03)
    assert figures.prompt_tokens_per_s == pytest.approx(rate_from_renders(server, "vllm:prompt_tokens_total"), rel=0.03)
    assert figures.running == sum(5 + i for i in range(engines))
    assert figures.kv_cache_usage == pytest.approx(0.4 + 0.1 * (engines - 1))
    assert 0.25 <= figures.ttft.p50 <= 0.5  # the 0.25–0.5 s bucket holds every observation


def test_sglang_and_tgi_and_llamacpp_emulators() -> None:
    sglang, tgi, llama = SglangEngine(), TgiEngine(), LlamaCppEngine()
    # SGLang's and TGI's series appear with their first request: one before the window, so both scrapes have them.
    sglang.finish_request(prompt=1, generation=1, ttft=0.5, itl=0.01, e2e=1.0)
    tgi.generate(input_length=1, generated=1, duration=1.0)
    with sglang_server(sglang) as s, tgi_server(tgi) as t, llamacpp_emulator_server(llama) as l:

        def load() -> None:
            for _ in range(10):
                sglang.finish_request(prompt=100, generation=250, ttft=0.5, itl=0.01, e2e=3.0)
                tgi.generate(input_length=120, generated=300, duration=2.0)
                llama.generate(prompt=40, prompt_ms=20.0, predicted=64, predicted_ms=900.0)

        targets = [InferenceTarget("sg", s.url), InferenceTarget("tgi", t.url), InferenceTarget("ll", l.url)]
        found = {f.name: f for f in measure(targets, 2.0, sleep=adds_during_window(load))}  # see the vLLM test
    assert [found[n].engine for n in ("sg", "tgi", "ll")] == ["sglang", "tgi", "llamacpp"]
    for name, server, family in (("sg", s, "sglang:generation_tokens_total"),
                                 ("tgi", t, "tgi_request_generated_tokens_sum"),
                                 ("ll", l, "llamacpp:tokens_predicted_total")):
        truth = rate_from_renders(server, family)
        assert truth > 0, name
        assert found[name].generation_tokens_per_s == pytest.approx(truth, rel=0.03), name


def test_json_shape_is_the_issues(capsys) -> None:
    engine = VllmEngine()
    ollama = OllamaEngine()
    ollama.load("llama3.1:8b", size=5 << 30, size_vram=5 << 30, context_length=8192,
                expires_at="2099-01-01T00:00:00Z")
    with vllm_server(engine) as v, ollama_server(ollama) as o:
        code, out, _err = run_cli(capsys, "--url", v.url, "--url", o.url, "--window", "0.3", "--json")
    assert code == 0
    document = json.loads(out)
    assert list(document) == ["servers"]
    servers = {s["engine"]: s for s in document["servers"]}
    assert set(servers) == {"vllm", "ollama"}
    for server in servers.values():
        assert set(server) == ISSUE_KEYS
        assert set(server["ttft"]) == {"p50", "p95"} and set(server["itl"]) == {"p50", "p95"}
    assert servers["vllm"]["generation_tokens_per_s"] == 0.0  # idle: zero, exposed
    assert servers["ollama"]["generation_tokens_per_s"] is None  # Ollama does not say: null
    assert servers["ollama"]["model"] == "llama3.1:8b"
    assert "no token rates" in servers["ollama"]["problem"]


def test_table_and_unknown_name(capsys) -> None:
    with vllm_server(VllmEngine(model="org/model[bold]x")) as v:
        code, out, _ = run_cli(capsys, "--url", v.url, "--window", "0.2")
        assert code == 0 and "org/model[bold]x" in out and "vLLM" in out
        code, _, err = run_cli(capsys, "nope", "--url", v.url, "--no-discover", "--window", "0.2")
    assert code == 2 and "no inference server named 'nope'" in err


def test_metrics_off_says_how_to_turn_them_on(capsys) -> None:
    with sglang_server(SglangEngine(), metrics=False) as s:
        code, out, _ = run_cli(capsys, "--url", s.url, "--window", "0.2", "--json")
    [server] = json.loads(out)["servers"]
    assert code == 0  # not an error: the server is fine, its metrics are off
    assert server["engine"] == "sglang" and "--enable-metrics" in server["problem"]


def test_a_hung_server_is_bounded_by_the_timeout(capsys) -> None:
    with vllm_server(VllmEngine(), fault="hang") as hung, vllm_server(VllmEngine()) as fine:
        started = time.monotonic()
        code, out, _ = run_cli(capsys, "--url", hung.url, "--url", fine.url, "--window", "0.2",
                               "--timeout", "0.5", "--json")
        took = time.monotonic() - started
    assert took < 0.2 + 2 * 0.5 + 1.5  # two scrapes, each bounded; the fine server did not wait for it
    servers = {s["url"]: s for s in json.loads(out)["servers"]}
    assert "no answer" in servers[hung.url]["problem"]
    assert servers[fine.url]["problem"] is None and servers[fine.url]["engine"] == "vllm"
    assert code == 1


# -- the real llama.cpp server ------------------------------------------------------------------------


def _generate_until(url: str, stop: threading.Event) -> None:
    """Streamed chat completions back to back (both slots busy) until `stop`."""
    body = {"messages": [{"role": "user", "content": "Count."}], "stream": True, "max_tokens": 6,
            "ignore_eos": True}
    with httpx.Client(timeout=30) as client:
        while not stop.is_set():
            try:
                with client.stream("POST", url + "/v1/chat/completions", json=body) as response:
                    for _ in response.iter_lines():
                        pass
            except httpx.RemoteProtocolError:
                continue  # the server closed a kept-alive connection (its keep-alive max): a new one


def test_real_llamacpp_generation_rate(llamacpp_server: LlamaServer) -> None:
    pages: list[tuple[float, bytes]] = []

    def recording(_target: InferenceTarget):
        fetch, close = httpx_fetch(5.0)

        def fetch_and_keep(url: str) -> tuple[int, bytes]:
            sent = time.monotonic()
            status, body = fetch(url)
            if url.endswith("/metrics"):
                pages.append((sent, body))
            return status, body

        return fetch_and_keep, close

    stop = threading.Event()
    workers = [threading.Thread(target=_generate_until, args=(llamacpp_server.url, stop)) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        time.sleep(0.5)  # both slots busy before the window opens
        [figures] = measure([InferenceTarget("llama", llamacpp_server.url)], 2.0, fetch_for=recording)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=30)
    assert figures.engine == "llamacpp", figures.problem
    (first_at, first), (second_at, second) = pages[-2:]
    delta = counter(second, "llamacpp:tokens_predicted_total") - counter(first, "llamacpp:tokens_predicted_total")
    assert delta > 0
    assert figures.generation_tokens_per_s == pytest.approx(delta / (second_at - first_at), rel=0.03)


def test_real_llamacpp_metrics_off(llamacpp_server_no_metrics: LlamaServer, capsys) -> None:
    code, out, _ = run_cli(capsys, "--url", llamacpp_server_no_metrics.url, "--window", "0.2", "--json")
    [server] = json.loads(out)["servers"]
    assert code == 0
    assert server["engine"] == "llamacpp" and "--metrics" in server["problem"]
