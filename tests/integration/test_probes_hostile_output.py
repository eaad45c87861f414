"""`spark-tui probe` shows what services say as plain text: a hostile answer can neither send
escape sequences to the terminal nor act as Rich markup; --json keeps the words as they came."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from probe_servers import Reply, serving_in_thread

OSC_TITLE = "\x1b]0;PWNED\x07"  # would retitle the terminal
MARKUP = "[@click=app.quit]x[/]"  # would be a click action (or vanish) if read as markup
HOSTILE = f"{OSC_TITLE} busy {MARKUP}"


def run_probe(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("SPARK_TUI_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "spark_tui", "--config", str(config), "probe", "--no-discover", *args],
        capture_output=True, text=True, timeout=60, env=env,
    )


def test_hostile_error_text_is_shown_plain_and_kept_in_json(tmp_path: Path) -> None:
    routes = {"/health": Reply(503, {"error": HOSTILE}, reason=f"Unavailable {OSC_TITLE}{MARKUP}")}
    with serving_in_thread(routes) as server:
        config = tmp_path / "config.toml"
        config.write_text(f'[[probes]]\nname = "evil"\nkind = "vllm"\nurl = "{server.url}"\n')
        table = run_probe(config)
        as_json = run_probe(config, "--json")
    assert table.returncode == 1, table.stderr  # HTTP 503 from vLLM: down
    for stream in (table.stdout, table.stderr):
        assert "\x1b" not in stream and "\x07" not in stream
    assert "␛]0;PWNED␇ busy [@click=app.quit]x[/]" in table.stdout  # every character visible, markup as written
    doc = json.loads(as_json.stdout)
    assert doc["results"][0]["error"] == f"HTTP 503: {HOSTILE}"  # the original words
    assert "sources" in doc and "results[].error" in doc["sources"]
