"""Bad services against real loopback sockets: each check ends by its deadline, in words."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from probe_servers import (
    Close,
    Dribble,
    DribbleHead,
    Garbage,
    Hang,
    LoopbackHttp,
    RedirectLoop,
    Reply,
    free_port,
    hung_listener,
    self_signed_cert,
    server_tls_context,
    tcp_server,
)

from spark_tui.models.probes import ProbeSpec, ProbeState
from spark_tui.core.services.engine import check_once

TIMEOUT = 0.5
SLACK = 0.6  # scheduling on a busy 2-core CI machine


def spec(url: str, kind: str = "http", **kwargs: object) -> ProbeSpec:
    return ProbeSpec(name="svc", kind=kind, url=url, timeout=kwargs.pop("timeout", TIMEOUT), **kwargs)  # type: ignore[arg-type]


async def timed(probe: ProbeSpec):
    started = time.monotonic()
    [result] = await check_once([probe])
    return result, time.monotonic() - started


@pytest.fixture(scope="module")
def cert_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


async def test_connection_refused() -> None:
    result, elapsed = await timed(spec(f"http://127.0.0.1:{free_port()}/"))
    assert result.state is ProbeState.DOWN
    assert result.error == "connection refused"
    assert result.latency_ms is None
    assert elapsed < TIMEOUT


async def test_tcp_connection_refused() -> None:
    result, _ = await timed(spec(f"tcp://127.0.0.1:{free_port()}", kind="tcp"))
    assert (result.state, result.error) == (ProbeState.DOWN, "connection refused")


async def test_accepts_but_never_answers() -> None:
    with hung_listener() as port:
        result, elapsed = await timed(spec(f"http://127.0.0.1:{port}/"))
    assert result.state is ProbeState.DOWN
    assert result.error == "timed out after 0.5 s waiting for an answer"
    assert TIMEOUT <= elapsed < TIMEOUT + SLACK


async def test_reads_the_request_and_hangs() -> None:
    async with LoopbackHttp({"/health": Hang()}) as server:
        result, elapsed = await timed(spec(server.url + "/health"))
    assert result.error == "timed out after 0.5 s waiting for an answer"
    assert elapsed < TIMEOUT + SLACK


async def test_slow_dribble_is_cut_by_the_whole_check_deadline() -> None:
    # one byte every 0.1 s never trips a per-read timeout; the check's deadline must
    async with LoopbackHttp({"/": Dribble(every=0.1, length=1000)}) as server:
        result, elapsed = await timed(spec(server.url + "/", kind="http-json"))
    assert result.state is ProbeState.DOWN
    assert result.error is not None and result.error.startswith("timed out after 0.5 s reading the answer (")
    assert "bytes arrived" in result.error
    assert elapsed < TIMEOUT + SLACK


async def test_dribbled_headers_are_said_to_be_unfinished() -> None:
    async with LoopbackHttp({"/": DribbleHead(every=0.05)}) as server:
        result, elapsed = await timed(spec(server.url + "/"))
    assert (result.state, result.error) == (ProbeState.DOWN, "the answer's headers did not finish within 0.5 s")
    assert elapsed < TIMEOUT + SLACK


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (Garbage().payload, "not HTTP: the answer does not start with an HTTP status line (it starts with binary data)"),
        (b"\x16\x03\x03\x00\x7a\x02\x00\x00\x76", "not HTTP: the answer does not start with an HTTP status line (looks like TLS: is the URL https?)"),
        (b"SSH-2.0-OpenSSH_9.6\r\n", 'not HTTP: the answer does not start with an HTTP status line (it starts with "SSH-2.0-OpenSSH_9.6")'),
        (b"HTTP/1.1 OK\r\n\r\n", 'not HTTP: bad status line "HTTP/1.1 OK"'),
    ],
)
async def test_garbage_instead_of_http_in_words(payload: bytes, words: str) -> None:
    async with LoopbackHttp({"/": Garbage(payload)}) as server:
        result, _ = await timed(spec(server.url + "/"))
    assert (result.state, result.error) == (ProbeState.DOWN, words)


async def test_a_tiny_timeout_is_not_rounded_to_nothing() -> None:
    with hung_listener() as port:
        [result] = await check_once([ProbeSpec(name="t", kind="http", url=f"http://127.0.0.1:{port}/", timeout=0.0001)])
    assert result.error is not None and result.error.startswith("timed out after 0.1 ms ")


async def test_closes_without_a_word() -> None:
    async with LoopbackHttp({"/": Close()}) as server:
        result, _ = await timed(spec(server.url + "/"))
    assert result.error == "connection closed without a response"


async def test_answer_that_is_not_json() -> None:
    async with LoopbackHttp({"/status": Reply(200, "<html>Welcome to nginx</html>")}) as server:
        result, _ = await timed(spec(server.url + "/status", kind="http-json"))
    assert result.state is ProbeState.DOWN
    assert result.error == "not JSON: '<html>Welcome to nginx</html>'"
    assert result.status_code == 200


async def test_redirect_loop() -> None:
    async with LoopbackHttp({"/": RedirectLoop("/again"), "/again": RedirectLoop("/")}) as server:
        result, _ = await timed(spec(server.url + "/"))
    assert (result.state, result.error) == (ProbeState.DOWN, "too many redirects")
    assert len(server.requests) == 6  # the first request and five redirects, then it gives up


async def test_redirect_followed_to_the_answer() -> None:
    async with LoopbackHttp({"/": RedirectLoop("/login"), "/login": Reply(200, "sign in")}) as server:
        result, _ = await timed(spec(server.url + "/"))
    assert result.state is ProbeState.UP


async def test_self_signed_certificate_fails_verification(cert_files: tuple[Path, Path]) -> None:
    async with LoopbackHttp({"/health": Reply(200, {"status": "ok"})}, tls=server_tls_context(*cert_files)) as server:
        result, _ = await timed(spec(server.url + "/health"))
    assert result.state is ProbeState.DOWN
    assert result.error is not None and result.error.startswith("TLS: certificate verify failed")
    assert "self-signed" in result.error or "self signed" in result.error


async def test_self_signed_certificate_accepted_when_verification_is_off(cert_files: tuple[Path, Path]) -> None:
    async with LoopbackHttp({"/health": Reply(200, {"status": "ok"})}, tls=server_tls_context(*cert_files)) as server:
        result, _ = await timed(spec(server.url + "/health", verify_tls=False))
    assert result.state is ProbeState.UP, result.error


async def test_https_to_a_plain_http_server() -> None:
    # a plain HTTP server answers the TLS hello with a 400, as uvicorn and nginx do
    async with tcp_server(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n") as port:
        result, _ = await timed(spec(f"https://127.0.0.1:{port}/"))
    assert result.state is ProbeState.DOWN
    assert result.error == "TLS: wrong version number (is it plain HTTP?)"


async def test_tls_handshake_that_never_completes() -> None:
    with hung_listener() as port:
        result, elapsed = await timed(spec(f"https://127.0.0.1:{port}/"))
    assert result.error == "timed out after 0.5 s in the TLS handshake"
    assert elapsed < TIMEOUT + SLACK


async def test_http_error_status_carries_the_services_message() -> None:
    async with LoopbackHttp({"/": Reply(503, {"error": "Model is overloaded", "error_type": "overloaded"})}) as server:
        result, _ = await timed(spec(server.url + "/"))
    assert result.state is ProbeState.DOWN
    assert result.error == "HTTP 503: Model is overloaded"
    assert result.status_code == 503
    assert result.latency_ms is not None  # it did answer


async def test_unexpected_status_names_the_expected_one() -> None:
    async with LoopbackHttp({"/": Reply(200)}) as server:
        result, _ = await timed(spec(server.url + "/", expect_status=(204,)))
    assert result.error == "HTTP 200 (expected 204)"


async def test_answer_too_large_for_json() -> None:
    huge = b"[" + b"1," * (3 * 1024 * 1024) + b"1]"
    async with LoopbackHttp({"/": Reply(200, huge)}) as server:
        result, _ = await timed(spec(server.url + "/", kind="http-json", timeout=5.0))
    assert result.error == "answer too large (over 4 MiB)"


async def test_postgres_behind_a_proxy_that_closes() -> None:
    async with tcp_server(None) as port:
        result, _ = await timed(spec(f"tcp://127.0.0.1:{port}", kind="postgres"))
    assert result.state is ProbeState.DOWN
    assert result.error is not None and result.error.startswith("connection closed without an answer")


async def test_bad_services_do_not_delay_a_healthy_one() -> None:
    async with (
        LoopbackHttp({"/": Reply(200, {"status": "ok"}), "/hang": Hang(), "/drip": Dribble(0.1, 10_000)}) as server,
    ):
        with hung_listener() as port:
            probes = [
                ProbeSpec(name="hung", kind="http", url=f"http://127.0.0.1:{port}/", timeout=1.5),
                ProbeSpec(name="hang", kind="http", url=server.url + "/hang", timeout=1.5),
                ProbeSpec(name="drip", kind="http-json", url=server.url + "/drip", timeout=1.5),
                ProbeSpec(name="fine", kind="http-json", url=server.url + "/", timeout=1.5),
            ]
            finished: dict[str, float] = {}
            started = time.monotonic()

            async def one(probe: ProbeSpec) -> None:
                [result] = await check_once([probe])
                finished[probe.name] = time.monotonic() - started
                assert (result.state is ProbeState.UP) == (probe.name == "fine"), result

            await asyncio.gather(*(one(p) for p in probes))
    assert finished["fine"] < 0.5
    assert all(1.5 <= finished[name] < 1.5 + SLACK for name in ("hung", "hang", "drip"))
