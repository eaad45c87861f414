"""Probe results and errors in words, without a network."""

from __future__ import annotations

import errno
import socket
import ssl

import httpx
import msgspec
import pytest

from spark_tui.models.probes import (
    ProbeResult,
    ProbeSnapshot,
    ProbeSpec,
    ProbeState,
    StateChange,
    redact_url,
)
from spark_tui.core.services.checks import Extras, Outcome
from spark_tui.core.services.engine import CheckOutput, build_result, describe_error, seconds


def chained(outer: BaseException, *inner: BaseException) -> BaseException:
    current = outer
    for exc in inner:
        current.__cause__ = exc
        current = exc
    return outer


def cert_error(message: str) -> ssl.SSLCertVerificationError:
    exc = ssl.SSLCertVerificationError(1, f"[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: {message}")
    exc.verify_message = message
    exc.reason = "CERTIFICATE_VERIFY_FAILED"
    return exc


def ssl_error(reason: str) -> ssl.SSLError:
    exc = ssl.SSLError(1, f"[SSL: {reason}] {reason.lower()}")
    exc.reason = reason
    return exc


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (chained(httpx.ConnectError("All connection attempts failed"), OSError("All connection attempts failed"), ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed")), "connection refused"),
        (OSError("Multiple exceptions: [Errno 111] Connect call failed ('::1', 5432, 0, 0), [Errno 111] Connect call failed ('127.0.0.1', 5432)"), "connection refused"),
        (chained(httpx.ConnectError("x"), OSError(errno.EHOSTUNREACH, "No route to host")), "host unreachable"),
        (chained(httpx.ConnectError("x"), socket.gaierror(-2, "Name or service not known")), "cannot resolve host gpu-box"),
        (chained(httpx.ConnectError("x"), cert_error("self-signed certificate")), "TLS: certificate verify failed (self-signed certificate)"),
        (chained(httpx.ConnectError("x"), cert_error("certificate has expired")), "TLS: certificate verify failed (certificate has expired)"),
        (chained(httpx.ConnectError("x"), ssl_error("WRONG_VERSION_NUMBER")), "TLS: wrong version number (is it plain HTTP?)"),
        (httpx.TooManyRedirects("Exceeded maximum allowed redirects."), "too many redirects"),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), "connection closed without a response"),
        (httpx.RemoteProtocolError("illegal status line: bytearray(b'\\x00\\x01')"), "not HTTP: the answer does not start with an HTTP status line"),
        (httpx.RemoteProtocolError("illegal header line: bytearray(b'\\x00\\x01')"), "not HTTP: illegal header line"),
        (httpx.UnsupportedProtocol("Request URL has an unsupported protocol 'ftp://'."), "unsupported URL scheme (use http:// or https://)"),
    ],
)
def test_errors_in_words(exc: BaseException, words: str) -> None:
    assert describe_error(exc, host="gpu-box") == words


def test_seconds() -> None:
    assert [seconds(v) for v in (2, 0.25, 0.5, 30, 0.05, 0.0001, 0.0015)] == ["2.0 s", "0.25 s", "0.5 s", "30 s", "50 ms", "0.1 ms", "1.5 ms"]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://app:s3cret@db:5432/rag", "postgresql://app:***@db:5432/rag"),
        ("http://user:pw@[::1]:8080/x?y=1", "http://user:***@[::1]:8080/x?y=1"),
        ("http://127.0.0.1:11434", "http://127.0.0.1:11434"),
        ("http://token@host/", "http://token@host/"),
        ("not a url", "not a url"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_state_change_words() -> None:
    down = StateChange("vllm", ProbeState.UP, ProbeState.DOWN, 1.0, "connection refused")
    up = StateChange("vllm", ProbeState.DOWN, ProbeState.UP, 2.0, None)
    assert down.describe() == "vllm is down: connection refused (was up)"
    assert up.describe() == "vllm is up (was down)"


SPEC = ProbeSpec(name="tei", kind="tei", url="http://user:pw@127.0.0.1:8080", slow_ms=100.0)


def test_slow_answer_is_degraded() -> None:
    result = build_result(SPEC, CheckOutput(Outcome(latency_ms=250.4), None), None, 10.0)
    assert (result.state, result.error, result.latency_ms) == (ProbeState.DEGRADED, "slow: 250 ms (over 100 ms)", 250.4)
    assert result.target == "http://user:***@127.0.0.1:8080"


def test_extras_are_shown_while_answering_only() -> None:
    extras = Extras(model="BAAI/bge-m3", version="1.8.2", details={"max_client_batch_size": 32})
    up = build_result(SPEC, CheckOutput(Outcome(latency_ms=5.0, details={"device": "cuda"}), None), extras, 10.0)
    assert (up.state, up.model, up.version) == (ProbeState.UP, "BAAI/bge-m3", "1.8.2")
    assert up.details == {"max_client_batch_size": 32, "device": "cuda"}
    down = build_result(SPEC, CheckOutput(Outcome(state=ProbeState.DOWN, error="connection refused"), None), extras, 11.0)
    assert (down.model, down.version, down.details, down.latency_ms) == (None, None, {}, None)


def test_results_encode_to_json() -> None:
    result = ProbeResult("a", "http", "http://x", ProbeState.DEGRADED, 1.5, 12.0, "ready=false", 200, details={"device": "cuda"})
    doc = msgspec.json.decode(msgspec.json.encode(ProbeSnapshot((result,), ("note",))))
    assert doc["results"][0]["state"] == "degraded"
    assert doc["results"][0]["details"] == {"device": "cuda"}
    assert doc["notes"] == ["note"]
