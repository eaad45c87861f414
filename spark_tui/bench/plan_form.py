"""The benchmark screen's form as text fields, to and from a BenchPlan (pure, testable).

The form starts from a draft plan (`plan_for_service` defaults for a service, or the [bench]
settings); what the user types replaces those values, and anything wrong is a PlanError
naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from spark_tui.bench.adapters import adapter_class
from spark_tui.bench.plan import BenchPlan, PlanError, parse_int_list, plan_from_settings
from spark_tui.config import BenchConfig


@dataclass(frozen=True)
class FormValues:
    url: str
    adapter: str
    model: str = ""
    batch_sizes: str = ""
    concurrencies: str = ""
    seconds: str = ""  # per cell
    requests: str = ""  # per cell; when given, replaces the duration
    payloads: str = ""


def _ints(values: tuple[int, ...]) -> str:
    return ",".join(str(v) for v in values)


def values_from_plan(plan: BenchPlan) -> FormValues:
    return FormValues(
        url=plan.url,
        adapter=plan.adapter,
        model=plan.options.model or "",
        batch_sizes=_ints(plan.batch_sizes),
        concurrencies=_ints(plan.concurrencies),
        seconds=f"{plan.duration_s:g}" if plan.duration_s else "",
        requests=str(plan.requests) if plan.requests else "",
        payloads=",".join(plan.payloads),
    )


def plan_from_values(values: FormValues, draft: BenchPlan, settings: BenchConfig | None = None) -> BenchPlan:
    """The plan the form describes; PlanError (one line, naming the field) when it cannot run."""
    url = values.url.strip()
    if not url:
        raise PlanError("URL: give the server's base URL, e.g. http://127.0.0.1:8080")
    try:
        cls = adapter_class(values.adapter)
    except ValueError as exc:
        raise PlanError(f"adapter: {exc}") from None
    if values.adapter == draft.adapter:
        plan = replace(draft, url=url)
    else:  # another API: the service's own options (path, extra body) no longer apply
        plan = replace(plan_from_settings(settings or BenchConfig(), cls.kind, values.adapter, url), service=draft.service)
    changes: dict[str, object] = {}
    if cls.fixed_batch is not None:
        changes["batch_sizes"] = (cls.fixed_batch,)
    elif values.batch_sizes.strip():
        changes["batch_sizes"] = parse_int_list(values.batch_sizes, "batch sizes")
    if values.concurrencies.strip():
        changes["concurrencies"] = parse_int_list(values.concurrencies, "concurrency")
    requests = values.requests.strip()
    seconds = values.seconds.strip().removesuffix("s").strip()
    if requests:
        try:
            changes["requests"] = int(requests)
        except ValueError:
            raise PlanError(f"requests per cell: {requests!r} is not a whole number") from None
    else:
        changes["requests"] = None
        if not seconds:
            raise PlanError("seconds per cell: give a duration (or a number of requests per cell)")
    if seconds:
        try:
            changes["duration_s"] = float(seconds)
        except ValueError:
            raise PlanError(f"seconds per cell: {values.seconds.strip()!r} is not a number") from None
    payloads = tuple(p.strip().lower() for p in values.payloads.split(",") if p.strip())
    changes["payloads"] = payloads
    model = values.model.strip() or None
    plan = replace(plan, options=replace(plan.options, model=model), **changes)  # type: ignore[arg-type]
    plan.validate()
    return plan
