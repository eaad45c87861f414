"""`spark-tui bench` flags merged over the [bench] config section."""

from __future__ import annotations

import pytest

from spark_tui.bench.plan import GIB, PlanError
from spark_tui.cli import build_parser
from spark_tui.commands.bench import build_plan
from spark_tui.config import parse_config


def plan_from(argv: list[str], toml: str = ""):  # type: ignore[no-untyped-def]
    args = build_parser().parse_args(["bench", *argv])
    return build_plan(args, parse_config(toml))


def test_config_defaults_then_flags() -> None:
    toml = "[bench]\nbatch_sizes = [2, 4]\nduration = 9\nmemory_floor_gib = 16\ntext_words = 50\n"
    plan = plan_from(["embed", "--url", "http://h:8080", "--adapter", "tei"], toml)
    assert (plan.batch_sizes, plan.concurrencies, plan.duration_s, plan.memory_floor_bytes, plan.payload.text_words) == ((2, 4), (1, 4), 9, 16 * GIB, 50)
    plan = plan_from(["embed", "--url", "http://h:8080", "--adapter", "openai", "--batch", "1,64", "--concurrency", "8", "--requests", "100",
                      "--path", "/embeddings", "--header", "Authorization: Bearer xyz", "--extra-body", '{"input_type": "query"}',
                      "--model", "bge", "--words", "10", "--timeout", "5", "--warmup", "0", "--memory-floor", "2"], toml)
    assert (plan.batch_sizes, plan.concurrencies, plan.requests, plan.timeout_s, plan.warmup_requests) == ((1, 64), (8,), 100, 5, 0)
    assert plan.options.headers == (("Authorization", "Bearer xyz"),) and plan.options.extra_body == {"input_type": "query"}
    assert (plan.options.path, plan.options.model, plan.payload.text_words, plan.memory_floor_bytes) == ("/embeddings", "bge", 10, 2 * GIB)


def test_parse_defaults() -> None:
    omni = plan_from(["parse", "--url", "http://h:9989", "--adapter", "omniparser", "--payload", "1080p,4K"])
    assert (omni.batch_sizes, omni.concurrencies, omni.payloads) == ((1,), (1, 2), ("1080p", "4k"))
    docling = plan_from(["parse", "--url", "http://h:5001", "--adapter", "docling", "--pages", "40", "--docling-async", "never"])
    assert (docling.payload.doc_pages, docling.options.docling_async) == (40, "never")


def test_wrong_adapter_for_the_kind_is_refused_by_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["bench", "embed", "--url", "http://h", "--adapter", "docling"])
    assert "invalid choice: 'docling'" in capsys.readouterr().err


@pytest.mark.parametrize("extra", [["--extra-body", "{"], ["--header", "nocolon"], ["--batch", ","]])
def test_bad_flags(extra: list[str]) -> None:
    with pytest.raises(PlanError):
        plan_from(["embed", "--url", "http://h", "--adapter", "openai", *extra])
