"""CommandRun with a stand-in for docker compose: a Python script printing as compose does."""

import sys
import threading
import time

import pytest

from spark_tui.models.compose import ComposeCommand
from spark_tui.core.compose.cli import CommandRun, ComposeError, failure_message, run_command, run_json


def script(code: str) -> ComposeCommand:
    return ComposeCommand(argv=(sys.executable, "-u", "-c", code), description="test")


def test_lines_stream_as_they_come_and_the_result_is_ok(tmp_path) -> None:
    """The first line arrives while the command still runs: the command waits for the test to
    have read it (a file the test makes on reading it) before it says the second."""
    go = tmp_path / "go"
    code = (
        "import os,sys,time\n"
        "print('one'); sys.stdout.flush()\n"
        f"deadline = time.monotonic() + 20\n"
        f"while not os.path.exists({str(go)!r}) and time.monotonic() < deadline: time.sleep(0.01)\n"
        f"print('HF_TOKEN=hf_abcdefghijklmnopqrstuvwxyz' if os.path.exists({str(go)!r}) else 'never streamed', file=sys.stderr)"
    )
    run = CommandRun(script(code))
    texts = []
    for line in run.lines():
        texts.append(line.text)
        if line.text == "one":
            go.touch()
    assert texts == ["one", "HF_TOKEN=****"], "the second line came only after the first was read"
    assert run.result.ok and run.result.returncode == 0 and run.result.message is None
    assert run.result.output == ("one", "HF_TOKEN=****")


def test_failure_carries_composes_own_message() -> None:
    code = (
        "import sys\n"
        "print(' Container ai-api-1  Starting', file=sys.stderr)\n"
        "print('Error response from daemon: driver failed programming external connectivity on endpoint ai-api-1: "
        "Bind for 127.0.0.1:8000 failed: port is already allocated', file=sys.stderr)\n"
        "sys.exit(1)"
    )
    result = run_command(script(code))
    assert not result.ok and result.returncode == 1
    assert result.message.startswith("Error response from daemon") and "port is already allocated" in result.message


def test_failure_message_falls_back_to_the_last_words() -> None:
    assert failure_message(["a", "b", "c", "d", ""], 3) == "b / c / d"
    assert failure_message([], 3) == "docker compose exited with status 3 and said nothing"


def test_cancel_stops_the_command_and_its_children_quickly() -> None:
    code = "import subprocess,sys,time\nprint('started', flush=True)\nsubprocess.Popen(['sleep','60'])\ntime.sleep(60)"
    run = CommandRun(script(code))
    lines = run.lines()
    assert next(lines).text == "started"
    started = time.monotonic()
    threading.Timer(0.1, run.cancel).start()
    list(lines)
    assert time.monotonic() - started < 5
    assert run.result.cancelled and not run.result.ok and run.result.message == "cancelled"


def test_cancel_event_for_the_blocking_helper() -> None:
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    result = run_command(script("import time\ntime.sleep(60)"), cancel=stop)
    assert result.cancelled


def test_timeout_stops_a_hung_command() -> None:
    run = CommandRun(script("import time\ntime.sleep(60)"), timeout_s=0.3)
    list(run.lines())
    assert run.result.timed_out and "stopped after 0 s" in run.result.message


def test_term_ignored_is_killed_after_the_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("spark_tui.core.compose.cli.KILL_GRACE_S", 0.3)
    code = "import signal,time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('x', flush=True)\ntime.sleep(60)"
    run = CommandRun(script(code))
    lines = run.lines()
    next(lines)
    run.cancel()
    started = time.monotonic()
    list(lines)
    assert time.monotonic() - started < 5 and run.result.returncode == -9


def test_a_missing_program_is_a_result_not_a_traceback() -> None:
    run = CommandRun(ComposeCommand(argv=("/nonexistent/docker", "compose", "up"), description="x"))
    assert list(run.lines()) == []
    assert run.result.returncode is None and run.result.message.startswith("cannot run /nonexistent/docker")


def test_stopping_reading_early_stops_the_command() -> None:
    run = CommandRun(script("import time\nprint('a', flush=True)\ntime.sleep(60)"))
    lines = run.lines()
    next(lines)
    started = time.monotonic()
    lines.close()
    assert time.monotonic() - started < 8 and run.result.cancelled


def test_run_json() -> None:
    assert run_json([sys.executable, "-c", "print('{\"name\": \"ai\"}')"]) == {"name": "ai"}
    with pytest.raises(ComposeError, match="yaml: line 1"):
        run_json([sys.executable, "-c", "import sys; print('yaml: line 1: did not find expected node content', file=sys.stderr); sys.exit(15)"])
    with pytest.raises(ComposeError, match="not JSON"):
        run_json([sys.executable, "-c", "print('nope')"])
