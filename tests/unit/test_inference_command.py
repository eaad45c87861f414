"""[[inference]] in the config, which servers are watched, and the command's table (no network)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from spark_tui.commands.inference import engine_of, render_servers, url_target
from spark_tui.config import parse_config
from spark_tui.core.inference.targets import plan_targets
from spark_tui.models.probes import ProbeSpec
from spark_tui.models.settings import ConfigError


def test_inference_entries_are_read_and_checked() -> None:
    config = parse_config('[[inference]]\nurl = "http://127.0.0.1:8000"\nengine = "vllm"\n'
                          '[[inference]]\nname = "nim"\nurl = "http://10.0.0.2:8000"\nmetrics_path = "/v1/metrics"\n')
    assert [(i.url, i.engine, i.metrics_path) for i in config.inference] == [
        ("http://127.0.0.1:8000", "vllm", None), ("http://10.0.0.2:8000", None, "/v1/metrics")]
    for bad, words in [('url = "ftp://x"', "expected http://host:port"),
                       ('url = "http://a:1"\nengine = "foo"', "unknown engine 'foo'"),
                       ('url = "http://a:1"\nmetrics_path = "metrics"', "must start with '/'"),
                       ('url = "http://a:1"\ninterval = 0.1', "inference[0].interval"),
                       ('url = "http://a:1"\nport = 1', "unknown key")]:
        with pytest.raises(ConfigError, match="inference\\[0\\]") as error:
            parse_config("[[inference]]\n" + bad)
        assert words in str(error.value)
    with pytest.raises(ConfigError, match="used by another"):
        parse_config('[[inference]]\nurl = "http://a:1"\n[[inference]]\nurl = "http://a:1"\n')


def spec(name: str, kind: str, url: str) -> ProbeSpec:
    return ProbeSpec(name=name, kind=kind, url=url, interval=3.0)


def test_engine_services_and_config_entries_make_the_targets() -> None:
    probes = [spec("vllm", "vllm", "http://127.0.0.1:8000"), spec("db", "postgres", "postgresql://x@127.0.0.1:5432"),
              spec("triton", "triton", "http://127.0.0.1:8000"), spec("sg", "sglang", "http://127.0.0.1:30000/"),
              spec("old", "llamacpp", "http://127.0.0.1:8081")]
    config = parse_config('[[inference]]\nname = "mine"\nurl = "http://127.0.0.1:30000"\nengine = "sglang"\n'
                          '[[inference]]\nurl = "http://127.0.0.1:8081"\nenabled = false\n')
    targets = plan_targets(probes, config.inference, engine_of)
    assert [(t.name, t.url, t.engine) for t in targets] == [
        ("mine", "http://127.0.0.1:30000", "sglang"),  # the config's entry wins over the probe at its URL
        ("vllm", "http://127.0.0.1:8000", "vllm"),
        ("triton", "http://127.0.0.1:8002", "triton"),  # Triton's metrics port
    ]
    assert targets[1].interval == 3.0  # at the probe's interval
    assert engine_of("postgres") is None and engine_of("ollama") == "ollama"


def test_url_target_and_table() -> None:
    assert url_target("http://user:pw@127.0.0.1:9000").name == "127.0.0.1:9000"
    with pytest.raises(ValueError):
        url_target("127.0.0.1:9000")
    out = io.StringIO()
    server = {"name": "x\x1b[31m", "url": "http://h", "engine": "vllm", "model": "m[b]", "running": 2.0,
              "waiting": 1.0, "kv_cache_usage": 0.5, "prompt_tokens_per_s": 10.0, "generation_tokens_per_s": 1234.5,
              "ttft": {"p50": 0.25, "p95": 1.5}, "itl": {"p50": None, "p95": None}, "sources": {}, "problem": None}
    render_servers(Console(file=out, width=160, color_system=None), [server])
    text = out.getvalue()
    assert "\x1b" not in text and "m[b]" in text and "1,234.5" in text and "2/1" in text and "50%" in text
    assert "250 ms" in text and "PROBLEM" not in text
