"""What servers say, said as they say it: token counts that are not tokens (#14.14), docling's own
reason for a failed conversion (#14.15), and no "wrong adapter" guess when the route exists."""

from __future__ import annotations

from pathlib import Path

import pytest
from servers.bench_servers import ApiServer

from spark_tui.core.bench.plan import BenchPlan
from spark_tui.core.bench.report import summary_cells
from spark_tui.core.bench.runner import run_benchmark
from spark_tui.models.bench import Notice


def embed_plan(url: str, adapter: str) -> BenchPlan:
    return BenchPlan("embed", adapter, url, batch_sizes=(2,), concurrencies=(1,), requests=6, duration_s=None, warmup_requests=1, memory_floor_bytes=0)


@pytest.mark.parametrize("shape", ["openai", "tei"])
def test_character_counts_are_calibrated_with_the_servers_tokenizer(shape: str, tmp_path: Path) -> None:
    events: list[object] = []
    with ApiServer(shape, fault="char_tokens", tokenize=True) as server:
        result = run_benchmark(embed_plan(server.url, shape), events.append, results_dir=str(tmp_path))
    cell = result.cells[0]
    assert cell.status == "ok" and cell.tokens_estimated
    assert cell.tokens_source and "/tokenize" in cell.tokens_source
    words = 2 * 201  # two texts of 200 words and their tag
    assert cell.tokens_per_s is not None and cell.requests_per_s is not None
    per_request = cell.tokens_per_s / cell.requests_per_s
    assert 0.9 * words <= per_request <= 1.1 * words  # about a token per word, as the tokenizer says; not ~6 characters per word
    warnings = [e.message for e in events if isinstance(e, Notice) and e.level == "warning"]
    assert any("its count is not tokens" in w and "/tokenize" in w for w in warnings)


def test_without_a_tokenizer_the_figure_is_the_servers_own_number_marked(tmp_path: Path) -> None:
    events: list[object] = []
    with ApiServer("openai", fault="char_tokens") as server:
        result = run_benchmark(embed_plan(server.url, "openai"), events.append, results_dir=str(tmp_path))
    cell = result.cells[0]
    assert cell.status == "ok" and not cell.tokens_estimated
    assert cell.tokens_source and cell.tokens_source.startswith("the server's own count, not tokens")
    assert summary_cells(cell, result.cells)[7].startswith("?")
    assert any(isinstance(e, Notice) and "its count is not tokens" in e.message for e in events)


def test_real_token_counts_pass_unremarked(tmp_path: Path) -> None:
    events: list[object] = []
    with ApiServer("openai", tokenize=True) as server:
        result = run_benchmark(embed_plan(server.url, "openai"), events.append, results_dir=str(tmp_path))
        assert ("POST", "/tokenize") not in server.requests  # no need to ask
    cell = result.cells[0]
    assert cell.status == "ok" and not cell.tokens_estimated and cell.tokens_source is None
    assert not any(isinstance(e, Notice) and "not tokens" in e.message for e in events)


@pytest.mark.parametrize("mode", ["never", "always"])
def test_a_failed_docling_conversion_reports_the_servers_reason_not_a_wrong_adapter(mode: str, tmp_path: Path) -> None:
    plan = BenchPlan("parse", "docling", "", batch_sizes=(1,), concurrencies=(1,), requests=2, duration_s=None, warmup_requests=0, memory_floor_bytes=0)
    with ApiServer("docling", fault="convert_fail") as server:
        from dataclasses import replace

        from spark_tui.core.bench.adapters_base import AdapterOptions

        plan = replace(plan, url=server.url, options=AdapterOptions(docling_async=mode, poll_wait_s=0.01))  # type: ignore[arg-type]
        result = run_benchmark(plan, results_dir=str(tmp_path))
    cell = result.cells[0]
    assert cell.status == "failed" and cell.errors == {"bad_response": 2}
    message = cell.first_error or ""
    assert "wrong adapter" not in message and "docling could not convert the document" in message
    if mode == "always":
        assert "PdfiumError: Failed to load document" in message  # the task status's own words
    else:
        assert "Task result not found" in message


def test_a_missing_route_still_suggests_the_adapter(tmp_path: Path) -> None:
    with ApiServer("tei") as server:  # speaks /embed, not /v1/embeddings
        result = run_benchmark(embed_plan(server.url, "openai"), results_dir=str(tmp_path))
    assert result.status == "failed" and result.reason and "wrong adapter or path" in result.reason
