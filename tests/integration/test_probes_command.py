"""`spark-tui probe` end to end: config file, loopback services, exit codes, table and JSON."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pytest
from probe_servers import Reply, free_port, hung_listener, serving_in_thread
from rich.console import Console

from spark_tui.cli import main
from spark_tui.commands.probe import collect_probes, render_probes
from spark_tui.config import parse_config

NO_ENGINE = 'host = "unix:///nonexistent/sparktui-t4-docker.sock"'


def write_config(tmp_path: Path, probes: str, docker: str = NO_ENGINE) -> str:
    path = tmp_path / "config.toml"
    path.write_text(f"[docker]\n{docker}\n\n{probes}")
    return str(path)


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def services():
    routes = {
        "/health": Reply(200),
        "/v1/models": Reply(200, {"object": "list", "data": [{"id": "Qwen/Qwen3-Embedding-8B", "max_model_len": 32768}]}),
        "/version": Reply(200, {"version": "0.11.0"}),
        "/status": Reply(200, {"status": "starting"}),
    }
    with serving_in_thread(routes) as server:
        yield server


def probes_toml(base: str) -> str:
    return f"""
[[probes]]
name = "vllm"
kind = "vllm"
url = "{base}"

[[probes]]
name = "warming"
kind = "http-json"
url = "{base}/status"
json_field = "status"
expect_value = "ok"

[[probes]]
name = "gone"
kind = "ollama"
url = "http://127.0.0.1:{free_port()}"
timeout = 0.5
"""


def test_named_probe_up_exits_zero(services, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, probes_toml(services.url))
    assert main(["--config", config, "probe", "vllm"]) == 0
    out, err = capsys.readouterr()
    assert "vllm" in out and "up" in out and "Qwen/Qwen3-Embedding-8B · v0.11.0" in out
    assert "gone" not in out
    assert "no discovery" not in err  # a configured name: the containers cannot change its probe


def test_configured_names_do_not_wait_for_a_hung_docker(services, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with hung_listener() as port:  # an engine address that accepts and never answers
        config = write_config(tmp_path, probes_toml(services.url), docker=f'host = "tcp://127.0.0.1:{port}"')
        started = time.monotonic()
        assert main(["--config", config, "probe", "vllm", "warming"]) == 0
        assert time.monotonic() - started < 2.0  # listing the containers first took 5.5 s
        assert "no discovery" not in capsys.readouterr().err


def test_a_name_the_config_lacks_still_looks_at_the_containers(services, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, probes_toml(services.url))
    assert main(["--config", config, "probe", "vllm", "ollama"]) == 2
    err = capsys.readouterr().err
    assert "no discovery: no Docker daemon at unix:///nonexistent/sparktui-t4-docker.sock" in err
    assert "no probe named 'ollama'" in err


def test_named_probe_down_exits_one(services, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, probes_toml(services.url))
    assert main(["--config", config, "probe", "vllm", "gone"]) == 1
    out, _ = capsys.readouterr()
    assert "connection refused" in out


def test_degraded_passes_unless_strict(services, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, probes_toml(services.url))
    assert main(["--config", config, "probe", "warming"]) == 0
    assert main(["--config", config, "probe", "--strict", "warming"]) == 1
    out, _ = capsys.readouterr()
    assert 'status="starting" (expected "ok")' in out


def test_all_probes_as_json(services, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, probes_toml(services.url))
    assert main(["--config", config, "probe", "--json"]) == 1  # "gone" is down
    doc = json.loads(capsys.readouterr().out)
    states = {r["name"]: (r["state"], r["error"]) for r in doc["results"]}
    assert states == {
        "vllm": ("up", None),
        "warming": ("degraded", 'status="starting" (expected "ok")'),
        "gone": ("down", "connection refused"),
    }
    assert doc["results"][0]["model"] == "Qwen/Qwen3-Embedding-8B"
    assert doc["notes"][0].startswith("no discovery: ")


def test_unknown_name_is_a_usage_error(services, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, probes_toml(services.url))
    assert main(["--config", config, "probe", "--no-discover", "vlm"]) == 2
    _, err = capsys.readouterr()
    assert "no probe named 'vlm' (known: vllm, warming, gone)" in err
    assert "no discovery" not in err  # --no-discover does not even try


def test_config_errors_exit_two(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad_kind = write_config(tmp_path, '[[probes]]\nname = "x"\nkind = "olama"\n')
    assert main(["--config", bad_kind, "probe"]) == 2
    assert "probes[0]: kind: unknown probe kind 'olama'" in capsys.readouterr().err
    twice = write_config(tmp_path, '[[probes]]\nname = "x"\nkind = "ollama"\n[[probes]]\nname = "x"\nkind = "vllm"\n')
    assert main(["--config", twice, "probe"]) == 2
    assert "probes[1].name: 'x' is already the name of probes[0]" in capsys.readouterr().err
    slow_over_timeout = write_config(tmp_path, '[[probes]]\nname = "x"\nkind = "vllm"\ntimeout = 1\nslow_ms = 1500\n')
    assert main(["--config", slow_over_timeout, "probe"]) == 2
    err = capsys.readouterr().err
    assert err.strip().endswith("probes[0]: slow_ms: 1500 ms is not below the timeout (1 s): lower slow_ms or raise timeout")
    assert err.count("\n") == 1  # one line


def test_no_probes_at_all(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, "")
    assert main(["--config", config, "probe"]) == 0
    assert "no probes: add [[probes]] to the config file" in capsys.readouterr().err


def test_snapshot_section(services) -> None:
    config = parse_config(f"[docker]\n{NO_ENGINE}\n{probes_toml(services.url)}")
    snapshot = collect_probes(argparse.Namespace(demo=False), config)
    assert [r.state.value for r in snapshot.results] == ["up", "degraded", "down"]
    assert snapshot.notes and snapshot.notes[0].startswith("no discovery: ")
    console = Console(record=True, width=120)
    render_probes(console, snapshot)
    text = console.export_text()
    assert text.startswith("Services · checked ")
    assert "Qwen/Qwen3-Embedding-8B" in text and "no discovery" in text


def test_no_probes_as_json_is_still_a_json_object(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, "")
    assert main(["--config", config, "probe", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["results"] == []
    assert doc["notes"][0].startswith("no discovery: ")  # why no container was looked at
    assert doc["notes"][-1].startswith("no probes: add [[probes]] to the config file")
