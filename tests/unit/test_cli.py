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


@pytest.mark.parametrize("command", [(), ("snapshot",), ("probe", "--json"), ("profiles",)])
def test_unknown_theme_exits_2_for_every_command(tmp_path, command):
    config = tmp_path / "config.toml"
    config.write_text("[dashboard]\ntheme = 'neon'\n")
    proc = spark_tui("--config", str(config), *command)
    assert proc.returncode == 2
    assert "unknown theme 'neon'" in proc.stderr and "ansi-dark" in proc.stderr
    assert proc.stdout == ""


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


def demo_env(tmp_path) -> dict:
    return {"XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_STATE_HOME": str(tmp_path / "state")}


def test_demo_probe_shows_the_simulated_services(tmp_path):
    proc = spark_tui("--demo", "probe", "--json", env_extra=demo_env(tmp_path))
    assert proc.returncode == 1, proc.stderr  # the simulated OmniParser refuses connections
    doc = json.loads(proc.stdout)
    states = {r["name"]: r["state"] for r in doc["results"]}
    assert states["vllm"] == "up" and states["omniparser"] == "down"
    assert doc["notes"][0].startswith("simulated services (--demo)")
    one = spark_tui("--demo", "probe", "vllm", env_extra=demo_env(tmp_path))
    assert one.returncode == 0 and "Qwen/Qwen3-32B-FP8" in one.stdout and "omniparser" not in one.stdout
    unknown = spark_tui("--demo", "probe", "vlm", env_extra=demo_env(tmp_path))
    assert unknown.returncode == 2 and "no probe named 'vlm' (known: postgres, tei, " in unknown.stderr


def test_demo_profile_up_and_down_change_what_later_demo_commands_show(tmp_path):
    env = demo_env(tmp_path)
    before = json.loads(spark_tui("--demo", "profiles", "--json", env_extra=env).stdout)
    states = {(p["project"], p["name"]): p["state"] for project in before["projects"] for p in project["profiles"]}
    assert states == {("ai", "embed"): "down", ("ai", "gpu"): "up", ("docs", "ocr"): "down"}
    assert before["notes"] == ["simulated Compose projects (--demo)"] and "projects" in before["sources"]
    up = spark_tui("--demo", "profile", "up", "embed", env_extra=env)
    assert up.returncode == 0, up.stderr
    assert up.stdout.splitlines() == [" Container ai-tei-1  Starting", " Container ai-tei-1  Started"]
    assert "profile embed of ai: up (1/1)" in up.stderr and "for later --demo commands" in up.stderr
    assert (tmp_path / "state" / "spark-tui" / "demo-state.json").is_file()
    after = json.loads(spark_tui("--demo", "profiles", "--json", "--project", "ai", env_extra=env).stdout)
    assert {p["name"]: p["state"] for p in after["projects"][0]["profiles"]}["embed"] == "up"
    snapshot = json.loads(spark_tui("--demo", "snapshot", "--json", env_extra=env).stdout)
    tei = next(c for c in snapshot["containers"]["containers"] if c["name"] == "ai-tei-1")
    assert tei["state"] == "running"
    pids = {p["pid"] for p in snapshot["machine"]["gpu"]["gpus"][0]["processes"]}
    assert 43105 in pids  # TEI's process now runs on the simulated GPU
    down = spark_tui("--demo", "profile", "down", "gpu", env_extra=env)
    assert down.returncode == 0, down.stderr
    probes = json.loads(spark_tui("--demo", "probe", "--json", "vllm", env_extra=env).stdout)
    assert probes["results"][0]["state"] == "down"  # its container is stopped: nothing answers
    assert spark_tui("--demo", "profile", "up", "gpux", env_extra=env).returncode == 2
