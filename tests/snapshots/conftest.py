import time

import pytest


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    """Clock text in snapshots must not depend on the machine's time zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.delenv("TZ", raising=False)
    time.tzset()
