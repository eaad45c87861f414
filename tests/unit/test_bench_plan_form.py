"""The benchmark form's fields to and from a plan."""

from __future__ import annotations

from dataclasses import replace

import pytest

from spark_tui.bench.plan import PlanError, plan_for_service
from spark_tui.bench.plan_form import FormValues, plan_from_values, values_from_plan
from spark_tui.config import BenchConfig


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


def test_another_adapter_drops_the_service_options() -> None:
    draft = plan_for_service("infinity", "http://127.0.0.1:7997", service="infinity")
    plan = plan_from_values(replace(values_from_plan(draft), adapter="tei"), draft, BenchConfig())
    assert plan.adapter == "tei" and plan.options.path is None and plan.service == "infinity"


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
    ],
)
def test_bad_values_name_the_field(change: dict[str, str], message: str) -> None:
    draft = plan_for_service("tei", "http://127.0.0.1:8080")
    values = replace(values_from_plan(draft), **change)
    with pytest.raises(PlanError, match=message.replace("(", r"\(").replace(")", r"\)")):
        plan_from_values(values, draft)


def test_form_values_from_a_plan() -> None:
    plan = plan_for_service("tei", "http://127.0.0.1:8080", BenchConfig(batch_sizes=(2, 4), duration=9.5))
    assert values_from_plan(plan) == FormValues("http://127.0.0.1:8080", "tei", "", "2,4", "1,4", "9.5", "", "")
