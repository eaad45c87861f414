"""`spark-tui bench` flags merged over the [bench] config section."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from spark_tui.core.bench.plan import GIB, PlanError
from spark_tui.cli import build_parser
from spark_tui.commands.bench import batch_help, build_plan, print_result
from spark_tui.config import parse_config
from spark_tui.models.bench import CellSpec, CellSummary, LatencyStats, MachineStats, RunResult


def plan_from(argv: list[str], toml: str = ""):  # type: ignore[no-untyped-def]
    args = build_parser().parse_args(["bench", *argv])
    return build_plan(args, parse_config(toml))


def test_config_defaults_then_flags() -> None:
    toml = "[bench]\nbatch_sizes = [2, 4]\nduration = 9\nmemory_floor_gib = 16\ntext_words = 50\n"
    plan = plan_from(["embed", "--url", "http://h:8080", "--adapter", "tei"], toml)
    assert (plan.batch_sizes, plan.concurrencies, plan.duration_s, plan.memory_floor_bytes, plan.payload.text_words) == ((2, 4), (1, 4), 9, 16 * GIB, 50)
    plan = plan_from(["embed", "--url", "http://h:8080", "--adapter", "openai", "--batch", "1,64", "--concurrency", "8", "--requests", "100",
                      "--path", "/embeddings", "--header", "Authorization: Bearer xyz", "--extra-body", '{"input_type": "query"}',
                      "--model", "bge", "--words", "10", "--timeout", "5", "--warmup", "0", "--memory-floor", "2", "--warmup-timeout", "30"], toml)
    assert (plan.batch_sizes, plan.concurrencies, plan.requests, plan.timeout_s, plan.warmup_requests) == ((1, 64), (8,), 100, 5, 0)
    assert plan.warmup_timeout_s == 30
    assert plan.options.headers == (("Authorization", "Bearer xyz"),) and plan.options.extra_body == {"input_type": "query"}
    assert (plan.options.path, plan.options.model, plan.payload.text_words, plan.memory_floor_bytes) == ("/embeddings", "bge", 10, 2 * GIB)


def test_parse_defaults() -> None:
    omni = plan_from(["parse", "--url", "http://h:9989", "--adapter", "omniparser", "--payload", "1080p,4K"])
    assert (omni.batch_sizes, omni.concurrencies, omni.payloads) == ((1,), (1, 2), ("1080p", "4k"))
    docling = plan_from(["parse", "--url", "http://h:5001", "--adapter", "docling", "--pages", "40", "--docling-async", "never"])
    assert (docling.payload.doc_pages, docling.options.docling_async) == (40, "never")


def test_the_batch_help_says_what_a_batch_counts_per_adapter() -> None:
    assert batch_help(["openai", "tei"]) == "batch sizes, e.g. 1,8,32 (texts per request)"
    assert batch_help(["omniparser", "docling"]) == \
        "batch sizes, e.g. 1,2,4 (per request: docling: documents of --pages pages; omniparser: 1 frame, fixed)"


def test_wrong_adapter_for_the_kind_is_refused_by_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["bench", "embed", "--url", "http://h", "--adapter", "docling"])
    assert "invalid choice: 'docling'" in capsys.readouterr().err


@pytest.mark.parametrize("extra", [["--extra-body", "{"], ["--header", "nocolon"], ["--batch", ","]])
def test_bad_flags(extra: list[str]) -> None:
    with pytest.raises(PlanError):
        plan_from(["embed", "--url", "http://h", "--adapter", "openai", *extra])


def tei_result() -> RunResult:
    cells = []
    for i, (batch, conc) in enumerate([(8, 1), (8, 16), (32, 1), (32, 16)]):
        rate = 1234.5 * (i + 1)
        cells.append(CellSummary(
            CellSpec(i, "text", batch, conc, 20.0, None), "ok", requests=4000, ok=4000, elapsed_s=20.0, requests_per_s=rate / batch,
            items_per_s=rate, tokens_per_s=rate * 200, latency=LatencyStats(4000, 0.0123, 0.0111, 0.0189, 0.0201, 0.0345, 0.0999, 0.005),
            extra_means={"queue_s": 0.0012, "inference_s": 0.0081, "tokenization_s": 0.0004},
            machine=MachineStats(20, gpu_util_mean=88, gpu_power_mean=95, mem_available_min=90 * GIB)))
    return RunResult("20260921-101500-embed-tei-3f2a", "/runs/x", "completed", None, None, tuple(cells), 1.0, 2.0)


def render(width: int) -> list[str]:
    out = io.StringIO()
    print_result(Console(file=out, width=width, color_system=None), tei_result(), "texts")
    return out.getvalue().splitlines()


def test_the_table_fits_80_columns_with_mean_and_p90_latency() -> None:
    lines = render(80)
    assert max(len(line) for line in lines) <= 80
    header = next(line for line in lines if "texts/s" in line).split()
    assert header[:4] == ["#", "batch", "conc", "status"]
    assert {"mean", "p50", "p90", "p99", "errors"} <= set(header) and "GPU" not in header
    assert any("more columns on a wider terminal; summary.csv has them all" in line for line in lines)
    wide = render(220)
    header = next(line for line in wide if "texts/s" in line)
    for name in ("mean ms", "p90 ms", "p95 ms", "queue ms", "infer ms", "tokenize ms", "GPU W", "min avail GiB"):
        assert name in header
    row = next(line for line in wide if line.split()[:1] == ["4"])
    assert "1.2" in row.split() and "8.1" in row.split()  # queue and inference ms


@pytest.mark.parametrize(("flag", "value", "words"), [
    ("--duration", "-5", "-5 is not a duration"),
    ("--duration", "abc", "'abc' is not a number of seconds"),
    ("--requests", "0", "0 is not a count"),
])
def test_bad_numbers_are_named_in_words(capsys, flag, value, words):
    """#14: `--duration -5` said each cell needs a duration; it says what is wrong with -5."""
    from spark_tui.cli import main

    with pytest.raises(SystemExit) as exited:  # argparse's own exit, status 2, its message on stderr
        main(["bench", "embed", "--url", "http://127.0.0.1:9", "--adapter", "tei", flag, value])
    assert exited.value.code == 2
    assert words in capsys.readouterr().err
