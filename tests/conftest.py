import os
import shutil
import subprocess

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


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
