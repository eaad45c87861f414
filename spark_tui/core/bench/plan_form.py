"""The benchmark screen's form as text fields, to and from a BenchPlan (pure, testable).

The form starts from a draft plan (`plan_for_service` defaults for a service, or the [bench]
settings); what the user types replaces those values, and anything wrong is a PlanError
naming the field. The request fields (path, extra body, pages per document) say what is sent:
blank means the adapter's default.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from spark_tui.core.bench.adapters import adapter_class
from spark_tui.core.bench.adapters_base import Adapter
from spark_tui.core.bench.plan import BenchPlan, PlanError, parse_int_list, plan_from_settings
from spark_tui.models.settings import BenchConfig

MAX_PAGES = 2000  # as [bench] doc_pages
# body keys an adapter fills itself (the items it sends): an extra body must not replace them
OWN_BODY_KEYS = {"openai": ("input",), "tei": ("inputs",), "ollama": ("input",), "omniparser": ("base64_image",)}


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
    path: str = ""  # the work endpoint below the URL; blank: the adapter's
    extra_body: str = ""  # a JSON object merged into each request
    pages: str = ""  # pages per document (adapters that send documents); blank: the settings'


def uses_pages(cls: type[Adapter]) -> bool:
    """The adapter sends documents and counts their pages: the form asks how many per document."""
    return cls.unit == "pages"


def batch_hint(cls: type[Adapter], pages: int | None = None) -> str:
    """What one unit of "batch size" is for this adapter, in words."""
    if cls.fixed_batch is not None:
        item = cls.unit.removesuffix("s") if cls.fixed_batch == 1 else cls.unit
        return f"fixed: {cls.fixed_batch} {item} per request (sweep concurrency)"
    if uses_pages(cls):
        return "documents per request" + (f", {pages} page{'s' if pages != 1 else ''} each" if pages else "")
    return f"{cls.unit} per request"


def _ints(values: tuple[int, ...]) -> str:
    return ",".join(str(v) for v in values)


def body_text(body: Any) -> str:
    return json.dumps(dict(body), ensure_ascii=False) if body else ""


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
        path=plan.options.path or "",
        extra_body=body_text(plan.options.extra_body),
        pages=str(plan.payload.doc_pages) if uses_pages(adapter_class(plan.adapter)) else "",
    )


def parse_path(text: str) -> str | None:
    path = text.strip()
    if not path:
        return None
    if "://" in path:
        raise PlanError(f"path: {path!r} is a URL; give only the path below the URL, e.g. /embeddings")
    if any(c.isspace() for c in path):
        raise PlanError(f"path: {path!r} contains a space")
    return path if path.startswith("/") else "/" + path


def parse_extra_body(text: str, adapter: str, own_keys: tuple[str, ...] = ()) -> dict[str, Any]:
    text = text.strip()
    if not text:
        return {}
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(f"extra body: not valid JSON ({exc.msg} at character {exc.pos + 1})") from None
    if not isinstance(body, dict):
        raise PlanError('extra body: expected a JSON object, e.g. {"input_type": "passage"}')
    own = [key for key in own_keys if key in body]
    if own:
        raise PlanError(f"extra body: {own[0]!r} is what the benchmark sends (its {adapter_class(adapter).unit}); leave it out")
    return body


def parse_pages(text: str, default: int) -> int:
    text = text.strip()
    if not text:
        return default
    try:
        pages = int(text)
    except ValueError:
        raise PlanError(f"pages per document: {text!r} is not a whole number") from None
    if not 1 <= pages <= MAX_PAGES:
        raise PlanError(f"pages per document: {pages} is out of range (1 to {MAX_PAGES})")
    return pages


def plan_from_values(values: FormValues, draft: BenchPlan, settings: BenchConfig | None = None) -> BenchPlan:
    """The plan the form describes; PlanError (one line, naming the field) when it cannot run."""
    settings = settings or BenchConfig()
    url = values.url.strip()
    if not url:
        raise PlanError("URL: give the server's base URL, e.g. http://127.0.0.1:8080")
    try:
        cls = adapter_class(values.adapter)
    except ValueError as exc:
        raise PlanError(f"adapter: {exc}") from None
    if values.adapter == draft.adapter:
        plan = replace(draft, url=url)
    else:  # another API: the service's other options (headers, input field…) no longer apply
        plan = replace(plan_from_settings(settings, cls.kind, values.adapter, url), service=draft.service)
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
    own_keys = OWN_BODY_KEYS.get(values.adapter, (plan.options.input_field,) if values.adapter == "nvembed" else ())
    options = replace(plan.options, model=values.model.strip() or None, path=parse_path(values.path),
                      extra_body=parse_extra_body(values.extra_body, values.adapter, own_keys))
    payload = plan.payload
    if uses_pages(cls):
        payload = replace(payload, doc_pages=parse_pages(values.pages, settings.doc_pages))
    plan = replace(plan, options=options, payload=payload, **changes)  # type: ignore[arg-type]
    plan.validate()
    return plan
