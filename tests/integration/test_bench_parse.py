"""Parse adapters (OmniParser, docling-serve) against loopback servers of their API shapes."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import pytest
from servers.bench_servers import ApiServer

from spark_tui.core.bench.adapters_base import AdapterOptions, PayloadSettings
from spark_tui.core.bench.plan import BenchPlan
from spark_tui.core.bench.runner import run_benchmark
from spark_tui.models.bench import RunResult


def run(server: ApiServer, adapter: str, tmp_path: Path, **changes: object) -> RunResult:
    plan = BenchPlan("parse", adapter, server.url, batch_sizes=(1,), concurrencies=(1, 2), requests=3, duration_s=None, warmup_requests=1, timeout_s=10)
    return run_benchmark(replace(plan, **changes), results_dir=str(tmp_path / "runs"))  # type: ignore[arg-type]


def test_omniparser_frames_at_each_resolution_report_elements_and_server_latency(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with ApiServer("omniparser") as server:
        result = run(server, "omniparser", tmp_path, payloads=("1080p", "4k"), concurrencies=(1,))
    assert result.status == "completed", result.reason
    assert result.server is not None and result.server.server == "OmniParser"
    hd, uhd = result.cells
    assert (hd.spec.payload, uhd.spec.payload) == ("1080p", "4k")
    assert hd.extra_means["elements"] == 10 and uhd.extra_means["elements"] == 21  # the server counts height // 100
    assert hd.server_time is not None and hd.server_time.p50 == pytest.approx(0.02)
    assert hd.items_per_s == pytest.approx(hd.requests_per_s)
    assert list((tmp_path / "cache" / "spark-tui" / "payloads").glob("screen-*-4k-*.png"))


@pytest.mark.parametrize("doc_format", ["pdf", "html", "docx"])
def test_docling_sync_conversion_counts_pages(tmp_path: Path, doc_format: str) -> None:
    with ApiServer("docling") as server:
        result = run(server, "docling", tmp_path, payloads=(doc_format,), concurrencies=(1,), payload=PayloadSettings(doc_pages=3))
    assert result.status == "completed", result.reason
    assert result.server is not None and result.server.server == "docling-serve 1.5.0"
    cell = result.cells[0]
    assert cell.items_per_s == pytest.approx(cell.requests_per_s * 3)
    assert cell.extra_counts["status"] == {"success": 3}
    assert cell.server_time is not None and cell.server_time.p50 == pytest.approx(0.05)
    assert all(body["files"][0].endswith("." + doc_format) for body in server.bodies)
    assert all(set(body["fields"]) >= {b"to_formats", b"image_export_mode"} for body in server.bodies)


def test_docling_several_documents_per_request_come_back_as_a_zip(tmp_path: Path) -> None:
    with ApiServer("docling") as server:
        result = run(server, "docling", tmp_path, batch_sizes=(1, 3), concurrencies=(1,), payload=PayloadSettings(doc_pages=2))
    assert [c.status for c in result.cells] == ["ok", "ok"]
    assert result.cells[1].extra_counts["status"] == {"zip": 3}
    assert result.cells[1].items_per_s == pytest.approx(result.cells[1].requests_per_s * 6)


def test_long_documents_go_through_the_async_api(tmp_path: Path) -> None:
    with ApiServer("docling") as server:
        options = AdapterOptions(docling_async_pages=5, poll_wait_s=0.1)
        result = run(server, "docling", tmp_path, concurrencies=(1,), options=options, payload=PayloadSettings(doc_pages=6))
    assert result.status == "completed", result.reason
    assert result.cells[0].extra_means["polls"] == 2
    posts = [path for method, path in server.requests if method == "POST"]
    assert posts and all(path == "/v1/convert/file/async" for path in posts)
    assert any(path.startswith("/v1/status/poll/") and "wait=" in path for _, path in server.requests)
    assert any(path.startswith("/v1/result/") for _, path in server.requests)


def test_omniparser_rejects_batches_before_running(tmp_path: Path) -> None:
    from spark_tui.core.bench.plan import PlanError

    with pytest.raises(PlanError, match="omniparser takes 1 item per request"):
        BenchPlan("parse", "omniparser", "http://127.0.0.1:1", batch_sizes=(1, 4)).validate()


def test_the_adapters_own_figures_reach_summary_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with ApiServer("omniparser") as server:
        result = run(server, "omniparser", tmp_path, payloads=("1080p",), concurrencies=(1,))
    with open(Path(result.run_dir or "", "summary.csv"), newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert row["elements_mean"] == "10" and row["latency_mean_ms"] and row["latency_p90_ms"]
