"""Embedding adapters against loopback servers of each API shape, including their failures."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from servers.bench_servers import DIM, ApiServer

from spark_tui.core.bench.adapters_base import AdapterOptions
from spark_tui.core.bench.plan import BenchPlan
from spark_tui.core.bench.runner import run_benchmark
from spark_tui.core.bench.saved_runs import load_run
from spark_tui.models.bench import RunResult, WarmupTick


def run(server: ApiServer, adapter: str, tmp_path: Path, **changes: object) -> RunResult:
    plan = BenchPlan("embed", adapter, server.url, batch_sizes=(1, 4), concurrencies=(1, 2), duration_s=None, requests=6, warmup_requests=1, timeout_s=5)
    return run_benchmark(replace(plan, **changes), results_dir=str(tmp_path))  # type: ignore[arg-type]


def test_openai_shape_runs_every_cell_with_server_token_counts(tmp_path: Path) -> None:
    with ApiServer("openai", delay_s=0.02) as server:  # slow enough that the two workers overlap
        result = run(server, "openai", tmp_path)
    assert result.status == "completed", result.reason
    assert result.server is not None and result.server.model == "test-embedder" and result.server.dimension == DIM
    assert result.server.server == "version 0.11.0"
    assert [(c.spec.batch, c.spec.concurrency, c.status, c.ok) for c in result.cells] == [(1, 1, "ok", 6), (1, 2, "ok", 6), (4, 1, "ok", 6), (4, 2, "ok", 6)]
    cell = result.cells[2]
    assert cell.items_per_s == pytest.approx(cell.requests_per_s * 4)
    assert cell.tokens_per_s and not cell.tokens_estimated
    assert all(body["model"] == "test-embedder" and body["encoding_format"] == "float" for body in server.bodies)
    assert server.max_in_flight == 2


def test_infinity_path_and_nim_input_type_reach_the_server(tmp_path: Path) -> None:
    with ApiServer("openai", path="/embeddings") as server:
        options = AdapterOptions(path="/embeddings", extra_body={"input_type": "passage"})
        result = run(server, "openai", tmp_path, options=options, batch_sizes=(2,), concurrencies=(1,))
    assert result.status == "completed", result.reason
    assert {path for method, path in server.requests if method == "POST"} == {"/embeddings"}
    assert all(body["input_type"] == "passage" for body in server.bodies)


def test_tei_caps_batches_at_max_client_batch_size_and_reads_timing_headers(tmp_path: Path) -> None:
    with ApiServer("tei", max_batch=4) as server:
        result = run(server, "tei", tmp_path, batch_sizes=(1, 4, 8))
    assert result.server is not None and result.server.max_batch == 4 and result.server.server == "TEI 1.8.0"
    statuses = [(c.spec.batch, c.status) for c in result.cells]
    assert statuses == [(1, "ok"), (1, "ok"), (4, "ok"), (4, "ok"), (8, "skipped"), (8, "skipped")]
    assert "over the server's limit of 4" in (result.cells[-1].reason or "")
    ok = result.cells[2]
    assert ok.server_time is not None and ok.server_time.p50 == pytest.approx(0.009)
    assert ok.extra_means["queue_s"] == pytest.approx(0.001)
    assert not ok.tokens_estimated and ok.tokens_per_s
    assert result.status == "completed"
    assert all(max(len(b["inputs"]) for b in server.bodies) <= 4 for _ in [0])


@pytest.mark.parametrize("status", [413, 422])
def test_batch_over_the_limit_fails_that_cell_and_skips_larger_batches(tmp_path: Path, status: int) -> None:
    # /info hides the limit (the server says 64) but /embed enforces 4: the 413/422 path
    with ApiServer("tei", max_batch=4, tei_status_over_limit=status) as server:
        server_info_limit = 64
        original = server.get

        def get(h):  # type: ignore[no-untyped-def]
            if h.path == "/info":
                return server.send(h, 200, {"model_id": "m", "max_client_batch_size": server_info_limit})
            return original(h)

        server.get = get  # type: ignore[method-assign]
        result = run(server, "tei", tmp_path, batch_sizes=(2, 8, 16), concurrencies=(1,))
    by_batch = {c.spec.batch: c for c in result.cells}
    assert by_batch[2].status == "ok"
    assert by_batch[8].status == "failed" and by_batch[8].errors == {str(status): 6}
    assert "batch size 8 > maximum allowed batch size 4" in (by_batch[8].reason or "")
    assert by_batch[16].status == "skipped" and f"refused batch 8 as too large (HTTP {status})" in (by_batch[16].reason or "")
    assert result.status == "completed" and result.failed  # a failed cell makes the CLI exit non-zero
    assert Path(result.run_dir or "", "summary.csv").read_text().count("\n") == 4


def test_ollama_warm_up_loads_the_model_outside_the_timings(tmp_path: Path) -> None:
    with ApiServer("ollama", load_delay_s=0.3) as server:
        result = run(server, "ollama", tmp_path, batch_sizes=(3,), concurrencies=(1,))
    assert result.status == "completed", result.reason
    assert result.server is not None and result.server.model == "nomic-embed-text:latest" and result.server.server == "Ollama 0.12.0"
    assert result.server.warmup_s[0] >= 0.3
    cell = result.cells[0]
    assert cell.latency is not None and cell.latency.max < 0.3
    assert "load_s" not in cell.extra_means
    assert all(body["keep_alive"] == "30m" for body in server.bodies)
    assert cell.tokens_per_s and not cell.tokens_estimated


def test_ollama_without_an_embedding_model_says_which_to_name(tmp_path: Path) -> None:
    with ApiServer("ollama") as server:
        result = run(server, "ollama", tmp_path, options=AdapterOptions(model="mxbai-embed-large"))
    assert result.status == "failed"
    assert "model 'mxbai-embed-large' is not installed in Ollama" in (result.reason or "")
    assert "ollama pull mxbai-embed-large" in (result.reason or "")


@pytest.mark.parametrize("field", ["texts", "inputs"])
def test_nvembed_style_server_with_estimated_tokens(tmp_path: Path, field: str) -> None:
    with ApiServer("nvembed") as server:
        result = run(server, "nvembed", tmp_path, options=AdapterOptions(input_field=field), batch_sizes=(8,), concurrencies=(2,))
    assert result.status == "completed", result.reason
    assert result.server is not None and result.server.model == "nvidia/NV-Embed-v2"
    assert result.cells[0].tokens_estimated and result.cells[0].tokens_per_s
    assert all(field in body for body in server.bodies)


@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        ("malformed", "bad_response", "malformed JSON"),
        ("wrong_count", "bad_response", "wrong vector count: sent 4 inputs, got 3 embeddings"),
        ("status:500", "5xx", "HTTP 500"),
        ("status:400", "400", "injected failure 400"),
        ("close", "connection", "closed the connection"),
    ],
)
def test_each_fault_is_a_clear_per_cell_error(tmp_path: Path, fault: str, error: str, message: str) -> None:
    with ApiServer("openai", fault=fault) as server:
        result = run(server, "openai", tmp_path, batch_sizes=(4,), concurrencies=(1,), requests=12, warmup_requests=0)
    cell = result.cells[0]
    assert cell.status == "failed"
    assert set(cell.errors) == {error}
    assert message in (cell.reason or "")
    assert result.status in ("failed", "aborted")
    assert Path(result.run_dir or "", "requests.jsonl").read_text().count("\n") >= 10


def test_wrong_answers_fail_the_cell_and_never_count(tmp_path: Path) -> None:
    # every other answer has another dimension: half the requests are wrong, the cell failed,
    # its rate counts the good answers only, and no "best" rate comes of it
    with ApiServer("openai", fault="dim_mismatch") as server:
        result = run(server, "openai", tmp_path, batch_sizes=(2,), concurrencies=(1,), requests=8, warmup_requests=1)
    cell = result.cells[0]
    assert cell.errors == {"bad_response": 4} and cell.ok == 4
    assert "dimension mismatch" in (cell.first_error or "")
    assert cell.status == "failed" and "50.0% of requests failed, over the 5% limit (4× bad answers)" in (cell.reason or "")
    assert cell.items_per_s == pytest.approx(4 * 2 / cell.elapsed_s)
    assert result.status == "failed" and result.failed  # the CLI exits 1
    assert load_run(result.run_dir or "").best_items_per_s is None


def test_a_hanging_server_times_out_and_the_run_stops_after_dead_cells(tmp_path: Path) -> None:
    with ApiServer("openai", fault="hang") as server:
        result = run(server, "openai", tmp_path, batch_sizes=(1, 2, 4), concurrencies=(1, 2), duration_s=0.5, requests=None, timeout_s=0.3, warmup_requests=0)
    # per batch size: concurrency 1 times out twice (0.3 s each, the second sent before the 0.5 s end),
    # concurrency 2 is not tried (100% errors); two dead cells in a row end the run
    assert [(c.spec.batch, c.spec.concurrency, c.status, c.errors) for c in result.cells] == [
        (1, 1, "failed", {"timeout": 2}), (1, 2, "skipped", {}), (2, 1, "failed", {"timeout": 2})]
    assert result.status == "aborted"
    assert "stopped answering" in (result.reason or "") and "no answer within 0.3 s" in (result.reason or "")


def test_overload_429_stops_raising_concurrency(tmp_path: Path) -> None:
    # 2, not 1: the server counts a request as in flight until its handler returns, a moment after
    # the client has its answer and sent the next one, so a closed loop of 1 can briefly show 2
    with ApiServer("openai", fault="overload:2", delay_s=0.02) as server:
        result = run(server, "openai", tmp_path, batch_sizes=(1,), concurrencies=(1, 4, 8), requests=20)
    first, second, third = result.cells
    assert first.status == "ok"
    assert second.status == "failed" and second.errors.get("429") and "over the 5% limit" in (second.reason or "")
    assert third.status == "skipped" and "concurrency not raised further: at 4" in (third.reason or "")


def test_unreachable_url_fails_pre_flight_and_leaves_no_run_behind(tmp_path: Path) -> None:
    """#14: a start that never reached the server measured nothing: it is not kept in the saved
    runs (they filled up with failed starts); the reason is in the result."""
    result = run_benchmark(BenchPlan("embed", "openai", "http://127.0.0.1:9", duration_s=1), results_dir=str(tmp_path))
    assert result.status == "failed"
    assert "connection refused" in (result.reason or "")
    assert result.run_dir is None
    assert not [p for p in tmp_path.rglob("*") if p.is_file()], "no files left"


def test_wrong_adapter_for_the_server_is_named(tmp_path: Path) -> None:
    with ApiServer("openai") as server:
        result = run(server, "tei", tmp_path)
    assert result.status == "failed"
    assert "HTTP 404" in (result.reason or "") and "wrong adapter or path" in (result.reason or "")


def test_cancel_keeps_what_was_measured(tmp_path: Path) -> None:
    cancel = threading.Event()
    seen: list[object] = []

    def on_event(event: object) -> None:
        seen.append(event)
        if type(event).__name__ == "RequestsFinished" and any(not r.warmup for r in event.records):  # type: ignore[attr-defined]
            cancel.set()

    with ApiServer("openai", delay_s=0.01) as server:
        plan = BenchPlan("embed", "openai", server.url, batch_sizes=(1,), concurrencies=(1, 2), duration_s=30, warmup_requests=0)
        result = run_benchmark(plan, on_event, cancel, results_dir=str(tmp_path))
    assert result.status == "cancelled"
    assert result.cells[0].status == "cancelled" and result.cells[0].ok > 0
    assert len(result.cells) == 1
    run_json = Path(result.run_dir or "", "run.json").read_text()
    assert '"status": "cancelled"' in run_json
    assert type(seen[-1]).__name__ == "RunFinished"


def test_a_server_silent_in_the_warm_up_ends_the_run_at_the_warm_up_timeout(tmp_path: Path) -> None:
    # the server answers GET (pre-flight passes) but never a POST: one warm-up try, bounded, said so
    events: list[object] = []
    with ApiServer("openai", fault="hang") as server:
        started = time.monotonic()
        result = run_benchmark(replace(BenchPlan("embed", "openai", server.url, duration_s=20), warmup_requests=2, warmup_timeout_s=1.5),
                               events.append, results_dir=str(tmp_path))
        took = time.monotonic() - started
        posts = [path for method, path in server.requests if method == "POST"]
    assert took < 4 and len(posts) == 1
    assert result.status == "failed" and result.cells == ()
    assert "warm-up: no answer within 1.5 s" in (result.reason or "") and "--warmup-timeout" in (result.reason or "")
    waits = [e for e in events if isinstance(e, WarmupTick)]
    assert waits and waits[0].text() == "warming up: waiting for the first answer (model loading?) 1 s, giving up at 1.5 s"
    assert '"status": "failed"' in Path(result.run_dir or "", "run.json").read_text()


def test_the_wrong_adapter_is_named_not_taken_for_a_batch_too_large(tmp_path: Path) -> None:
    # NV-Embed-style requests ({"texts": …}) to TEI: 422 "missing inputs", whatever the batch size
    with ApiServer("tei") as server:
        stopped = run(server, "nvembed", tmp_path)
        swept = run(server, "nvembed", tmp_path, warmup_requests=0, concurrencies=(1,))
    assert stopped.status == "failed" and stopped.cells == ()
    assert "warm-up failed: HTTP 422" in (stopped.reason or "") and "missing inputs — is the adapter right for this server?" in (stopped.reason or "")
    small, large = swept.cells
    assert (small.status, small.errors, large.status, large.errors) == ("failed", {"422": 6}, "failed", {"422": 6})
    assert "is the adapter right for this server?" in (large.reason or "") and "too large" not in (large.reason or "")
