import os
import shutil
import subprocess

import pytest

# Any truthy CI counts (GitHub sets CI=true, others CI=1 or CI=yes): docker tests must run there.
IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no", "off")


def docker_engine_available() -> tuple[bool, str]:
    if shutil.which("docker") is None:
        return False, "the docker CLI is not installed"
    proc = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True, timeout=20)
    if proc.returncode != 0:
        return False, proc.stderr.strip() or "docker info failed"
    return True, proc.stdout.strip()


@pytest.fixture(scope="session")
def docker_engine() -> str:
    """The engine version; fails in CI (docker tests must run there), skips elsewhere."""
    ok, detail = docker_engine_available()
    if not ok:
        message = f"no Docker engine ({detail}); run scripts/setup-docker.sh as root"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return detail


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Under CI a skipped test fails the run: a green run must mean every test ran (a missing
    Docker engine, root or free port would otherwise pass as 'skipped')."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI ({os.environ.get('CI')!r}), which must run every test: {reason}"


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    """One line with the total coverage (pytest-cov's table is long): subprocesses included."""
    import io

    controller = getattr(config.pluginmanager.getplugin("_cov"), "cov_controller", None)
    measured = getattr(controller, "cov", None)
    if measured is None or getattr(config, "workerinput", None) is not None:
        return  # no --cov, or an xdist worker (the controller reports)
    try:
        total = measured.report(file=io.StringIO())
    except Exception as exc:  # noqa: BLE001 - coverage's own error (no data): said, never fatal
        terminalreporter.write_line(f"coverage: not reported ({exc})")
        return
    terminalreporter.write_line(f"coverage: {total:.1f}% of spark_tui, subprocesses included (`coverage html` for the detail)")
