"""The command line as a user meets it: exit codes, one-line errors, no tracebacks."""

import json
import subprocess
import sys

import pytest


def spark_tui(*args: str, env_extra: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    import os

    env = dict(os.environ)
    env.pop("SPARK_TUI_CONFIG", None)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "spark_tui", *args], capture_output=True, text=True, timeout=timeout, env=env)


def test_bad_config_exits_2_with_one_line(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[dashboard]\ninterval = 'soon'\n")
    proc = spark_tui("--config", str(config), "snapshot")
    assert proc.returncode == 2
    assert proc.stderr == f"spark-tui: {config}: dashboard.interval: expected float, got str\n"
    assert proc.stdout == ""


def test_missing_named_config_exits_2(tmp_path):
    proc = spark_tui("snapshot", env_extra={"SPARK_TUI_CONFIG": str(tmp_path / "missing.toml")})
    assert proc.returncode == 2
    assert "config file not found" in proc.stderr and "Traceback" not in proc.stderr


def test_unknown_theme_exits_2(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[dashboard]\ntheme = 'neon'\n")
    proc = spark_tui("--config", str(config))
    assert proc.returncode == 2
    assert "unknown theme 'neon'" in proc.stderr and "ansi-dark" in proc.stderr


def test_bad_interval_flag_is_a_usage_error():
    proc = spark_tui("--interval", "0", "snapshot")
    assert proc.returncode == 2
    assert "expected 0.1 to 3600 seconds" in proc.stderr


def test_demo_snapshot_json_is_a_gb10_with_unified_memory(tmp_path):
    proc = spark_tui("--demo", "snapshot", "--json", env_extra={"XDG_CONFIG_HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)["machine"]
    gpu = data["gpu"]["gpus"][0]
    assert gpu["name"] == "NVIDIA GB10"
    assert gpu["power_limit_w"] is None and gpu["errors"]["memory"] == "Not Supported"
    assert data["memory"]["unified"] is True
    assert data["memory"]["total"] > 100 * 1024**3
    assert [g["name"] for g in data["system"]["core_groups"]] == ["Cortex-A725", "Cortex-X925"]
    containers = json.loads(proc.stdout)["containers"]  # the simulated Spark's, not this machine's Docker
    assert "ai-vllm-1" in {c["name"] for c in containers["containers"]}
    assert containers["notes"] == ["simulated containers (--demo)"]


def test_demo_snapshot_table_shows_the_simulated_containers(tmp_path):
    proc = spark_tui("--demo", "snapshot", env_extra={"XDG_CONFIG_HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert "ai-vllm-1" in proc.stdout and "simulated containers (--demo)" in proc.stdout


def test_snapshot_table_on_this_machine_explains_the_missing_gpu(tmp_path):
    proc = spark_tui("snapshot", env_extra={"XDG_CONFIG_HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert "NVML library not found: is the NVIDIA driver installed?" in proc.stdout
    assert "Memory" in proc.stdout and "meminfo: MemTotal − MemAvailable" in proc.stdout


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version(flag):
    proc = spark_tui(flag)
    assert proc.returncode == 0 and "spark-tui" in proc.stdout


def test_dashboard_start_does_not_import_the_headless_commands():
    from spark_tui.cli import names_a_command

    assert not names_a_command(["--demo", "--interval", "2", "--config", "x.toml"])
    assert names_a_command(["--demo", "snapshot"])
    assert names_a_command(["--help"])
    assert names_a_command(["snapshto"])  # a typo still gets argparse's "invalid choice"
