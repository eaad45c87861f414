"""The benchmark form's fields to and from a plan."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from spark_tui.core.bench.adapters import ADAPTERS, adapter_class
from spark_tui.core.bench.plan import PlanError, plan_for_service
from spark_tui.core.bench.plan_form import FormValues, batch_hint, plan_from_values, values_from_plan
from spark_tui.models.settings import BenchConfig


def test_untouched_fields_give_back_the_draft() -> None:
    draft = plan_for_service("infinity", "http://127.0.0.1:7997", service="infinity")
    assert plan_from_values(values_from_plan(draft), draft) == draft


def test_typed_values_replace_the_defaults_and_keep_the_service_options() -> None:
    draft = plan_for_service("nim", "http://127.0.0.1:8000", service="nim")
    values = replace(values_from_plan(draft), batch_sizes="1, 16", concurrencies="2", seconds="5s", model="nv-embedqa", url=" http://h:9000 ")
    plan = plan_from_values(values, draft)
    assert (plan.url, plan.batch_sizes, plan.concurrencies, plan.duration_s, plan.options.model) == ("http://h:9000", (1, 16), (2,), 5.0, "nv-embedqa")
    assert plan.options.extra_body == {"input_type": "passage"} and plan.service == "nim"
    counted = plan_from_values(replace(values, requests="200"), draft)
    assert counted.requests == 200 and counted.estimated_seconds() is None


def test_another_adapter_takes_the_request_fields_as_typed_and_drops_the_other_options() -> None:
    draft = plan_for_service("ollama", "http://127.0.0.1:11434", service="ollama")
    draft = replace(draft, options=replace(draft.options, keep_alive="5m", headers=(("Authorization", "Bearer x"),)))
    # the form blanks path and body when the adapter changes: the new API's defaults
    plan = plan_from_values(replace(values_from_plan(draft), adapter="tei", path="", extra_body=""), draft, BenchConfig())
    assert plan.adapter == "tei" and plan.options.path is None and plan.options.extra_body == {} and plan.service == "ollama"
    assert plan.options.keep_alive == "30m" and plan.options.headers == ()
    typed = plan_from_values(replace(values_from_plan(draft), adapter="openai", path="embeddings"), draft, BenchConfig())
    assert typed.options.path == "/embeddings"


def test_the_presets_request_options_show_in_the_fields_and_come_back() -> None:
    infinity = plan_for_service("infinity", "http://127.0.0.1:7997")
    nim = plan_for_service("nim", "http://127.0.0.1:8000")
    assert values_from_plan(infinity).path == "/embeddings" and values_from_plan(infinity).extra_body == ""
    assert values_from_plan(nim).extra_body == '{"input_type": "passage"}' and values_from_plan(nim).path == ""
    custom = plan_from_values(replace(values_from_plan(nim), path="/v2/embed", extra_body=' {"input_type": "query", "truncate": "END"} '), nim)
    assert custom.options.path == "/v2/embed" and custom.options.extra_body == {"input_type": "query", "truncate": "END"}
    assert plan_from_values(replace(values_from_plan(nim), extra_body=""), nim).options.extra_body == {}


def test_pages_per_document_for_documents_only() -> None:
    docling = plan_for_service("docling", "http://127.0.0.1:5001", BenchConfig(doc_pages=6))
    assert values_from_plan(docling).pages == "6"
    long = plan_from_values(replace(values_from_plan(docling), pages="40"), docling)
    assert long.payload.doc_pages == 40
    assert plan_from_values(replace(values_from_plan(docling), pages=""), docling, BenchConfig(doc_pages=6)).payload.doc_pages == 6
    tei = plan_for_service("tei", "http://127.0.0.1:8080")
    assert values_from_plan(tei).pages == ""
    assert plan_from_values(replace(values_from_plan(tei), pages="junk"), tei) == tei  # not asked for: not read


@pytest.mark.parametrize(
    ("adapter", "hint"),
    [
        ("openai", "texts per request"),
        ("tei", "texts per request"),
        ("ollama", "texts per request"),
        ("nvembed", "texts per request"),
        ("omniparser", "fixed: 1 frame per request (sweep concurrency)"),
        ("docling", "documents per request, 4 pages each"),
    ],
)
def test_the_batch_hint_says_what_one_batch_item_is(adapter: str, hint: str) -> None:
    assert batch_hint(adapter_class(adapter), 4) == hint


def test_every_adapter_has_a_batch_hint() -> None:
    assert {name for name in ADAPTERS} == {"openai", "tei", "ollama", "nvembed", "omniparser", "docling"}  # a new one: add it above
    assert batch_hint(adapter_class("docling"), 1) == "documents per request, 1 page each"
    assert batch_hint(adapter_class("docling")) == "documents per request"


def test_a_fixed_batch_adapter_ignores_the_batch_field() -> None:
    draft = plan_for_service("omniparser", "http://127.0.0.1:9989")
    plan = plan_from_values(replace(values_from_plan(draft), batch_sizes="8", payloads="1080p, 4K"), draft)
    assert plan.batch_sizes == (1,) and plan.payloads == ("1080p", "4k")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"url": ""}, "URL: give the server's base URL"),
        ({"url": "ftp://h"}, "only http:// and https://"),
        ({"batch_sizes": "1,x"}, "batch sizes: 'x' is not a whole number"),
        ({"concurrencies": "0"}, "concurrency 0 is out of range"),
        ({"seconds": "", "requests": ""}, "seconds per cell: give a duration"),
        ({"seconds": "soon"}, "seconds per cell: 'soon' is not a number"),
        ({"requests": "many"}, "requests per cell: 'many' is not a whole number"),
        ({"payloads": "pdf"}, "cannot send 'pdf'"),
        ({"adapter": "nope"}, "adapter: "),
        ({"path": "http://h:7997/embeddings"}, "path: 'http://h:7997/embeddings' is a URL; give only the path below the URL"),
        ({"path": "/v1/ embeddings"}, "path: '/v1/ embeddings' contains a space"),
        ({"extra_body": "{input_type: passage}"}, "extra body: not valid JSON (Expecting property name enclosed in double quotes at character 2)"),
        ({"extra_body": '["passage"]'}, "extra body: expected a JSON object"),
        ({"extra_body": '{"inputs": ["x"]}'}, "extra body: 'inputs' is what the benchmark sends (its texts); leave it out"),
    ],
)
def test_bad_values_name_the_field(change: dict[str, str], message: str) -> None:
    draft = plan_for_service("tei", "http://127.0.0.1:8080")
    values = replace(values_from_plan(draft), **change)
    with pytest.raises(PlanError, match=message.replace("(", r"\(").replace(")", r"\)")):
        plan_from_values(values, draft)


@pytest.mark.parametrize(("pages", "message"), [("many", "pages per document: 'many' is not a whole number"),
                                                ("0", r"pages per document: 0 is out of range \(1 to 2000\)")])
def test_bad_pages_are_named(pages: str, message: str) -> None:
    draft = plan_for_service("docling", "http://127.0.0.1:5001")
    with pytest.raises(PlanError, match=message):
        plan_from_values(replace(values_from_plan(draft), pages=pages), draft)


def test_form_values_from_a_plan() -> None:
    plan = plan_for_service("tei", "http://127.0.0.1:8080", BenchConfig(batch_sizes=(2, 4), duration=9.5))
    assert values_from_plan(plan) == FormValues("http://127.0.0.1:8080", "tei", "", "2,4", "1,4", "9.5", "", "", "", "", "")


# --- generation -------------------------------------------------------------------------------

def test_a_generation_draft_shows_its_lengths_and_slo_and_comes_back() -> None:
    from spark_tui.core.bench.plan import generation_plan_for_service

    draft = replace(generation_plan_for_service("vllm", "http://127.0.0.1:8000", service="vllm"), slo=(("ttft", 2.0), ("itl", 0.05)))
    values = values_from_plan(draft)
    assert (values.adapter, values.input_tokens, values.output_tokens, values.slo, values.preset) == ("openai-chat", "512", "128", "ttft=2s,itl=50ms", "")
    assert plan_from_values(values, draft) == draft


def test_every_input_length_goes_with_every_output_length() -> None:
    from spark_tui.core.bench.plan import generation_plan_for_service
    from spark_tui.core.bench.plan_form import cells_words

    draft = generation_plan_for_service("sglang", "http://127.0.0.1:30000")
    plan = plan_from_values(replace(values_from_plan(draft), input_tokens="512, 2048", output_tokens="128", concurrencies="1,4,16", slo="ttft=1.5s"), draft)
    assert plan.lengths == ((512, 128), (2048, 128)) and plan.slo == (("ttft", 1.5),) and plan.batch_sizes == (1,)
    assert [(c.input_tokens, c.output_tokens, c.concurrency) for c in plan.cells()][:4] == [(512, 128, 1), (512, 128, 4), (512, 128, 16), (2048, 128, 1)]
    assert cells_words(plan) == "6 cells (2 lengths × 3 concurrency)"
    assert plan_from_values(values_from_plan(plan), plan) == plan


def test_the_prefill_decode_preset_replaces_the_lists() -> None:
    from spark_tui.core.bench.plan import PRESETS, generation_plan_for_service

    draft = generation_plan_for_service("llamacpp", "http://127.0.0.1:8080")
    plan = plan_from_values(replace(values_from_plan(draft), preset="prefill-decode", input_tokens="junk"), draft)
    assert plan.lengths == PRESETS["prefill-decode"]
    assert values_from_plan(plan).preset == "prefill-decode"


@pytest.mark.parametrize(("field", "text", "message"), [
    ("input_tokens", "", "input tokens: give one or more"),
    ("output_tokens", "12x", "output tokens: '12x' is not a whole number"),
    ("input_tokens", "512,512", "input tokens: values repeat"),
    ("slo", "ttft=fast", "SLO: 'ttft=fast'"),
    ("slo", "speed=2s", "SLO: 'speed=2s': expected NAME=TIME"),
    ("extra_body", '{"messages": []}', "'messages' is what the benchmark sends (its tokens)"),
])
def test_a_wrong_generation_field_is_named(field: str, text: str, message: str) -> None:
    from spark_tui.core.bench.plan import generation_plan_for_service

    draft = generation_plan_for_service("vllm", "http://127.0.0.1:8000")
    with pytest.raises(PlanError, match=re.escape(message)):
        plan_from_values(replace(values_from_plan(draft), **{field: text}), draft)


def test_ollama_names_two_adapters_and_the_form_keeps_them_apart() -> None:
    from spark_tui.core.bench.plan import generation_plan_for_service
    from spark_tui.core.bench.plan_form import adapter_choice, parse_choice

    assert adapter_choice("ollama", "generate") == "generate:ollama" and adapter_choice("openai-chat", "generate") == "openai-chat"
    assert parse_choice("generate:ollama") == ("ollama", "generate") and parse_choice("ollama") == ("ollama", None)
    embed = plan_for_service("ollama", "http://127.0.0.1:11434", service="ollama")
    chat = plan_from_values(replace(values_from_plan(embed), adapter="generate:ollama", input_tokens="256", output_tokens="64"), embed)
    assert (chat.kind, chat.adapter, chat.lengths, chat.service) == ("generate", "ollama", ((256, 64),), "ollama")
    back = generation_plan_for_service("ollama", "http://127.0.0.1:11434")
    assert values_from_plan(back).adapter == "generate:ollama" and plan_from_values(values_from_plan(back), back) == back
