"""The benchmark screen's form as text fields, to and from a BenchPlan (pure, testable).

The form starts from a draft plan (`plan_for_service` defaults for a service, or the [bench]
settings); what the user types replaces those values, and anything wrong is a PlanError
naming the field. The request fields (path, extra body, pages per document) say what is sent:
blank means the adapter's default.

Generation adapters have their own fields instead of batch sizes and payloads: input and output
token lengths (every input with every output), or the prefill-decode preset, and an SLO. The
adapter field's value names the adapter, and its kind when the name is taken by two (`ollama`
embeds; `generate:ollama` chats): `adapter_choice` / `parse_choice`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from spark_tui.core.bench.adapters import ADAPTERS, adapter_class
from spark_tui.core.bench.adapters_base import Adapter
from spark_tui.core.bench.plan import (
    PRESETS,
    BenchPlan,
    PlanError,
    parse_int_list,
    parse_slo,
    plan_from_settings,
)
from spark_tui.models.bench import BenchKind
from spark_tui.models.settings import BenchConfig

MAX_PAGES = 2000  # as [bench] doc_pages
# body keys an adapter fills itself (the items it sends): an extra body must not replace them
OWN_BODY_KEYS = {"openai": ("input",), "tei": ("inputs",), "ollama": ("input",), "omniparser": ("base64_image",)}
GEN_OWN_BODY_KEYS = {"openai-chat": ("messages", "stream"), "openai-completions": ("prompt", "stream"),
                     "ollama": ("messages", "stream"), "llamacpp": ("prompt", "stream")}
GEN_PREFIX = "generate:"
PREFILL_DECODE = "prefill-decode"


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
    # generation
    input_tokens: str = ""  # e.g. "512,2048": each with every output length
    output_tokens: str = ""  # e.g. "128"
    slo: str = ""  # e.g. "ttft=2s,itl=50ms"; blank: no goodput
    preset: str = ""  # "prefill-decode": its lengths instead of the two lists


def adapter_choice(name: str, kind: BenchKind) -> str:
    """The adapter field's value: the name, with the kind in front when the name alone means another adapter."""
    return GEN_PREFIX + name if kind == "generate" and name in ADAPTERS else name


def parse_choice(value: str) -> tuple[str, BenchKind | None]:
    """The adapter field's value as (name, kind); kind None: whichever the name alone means."""
    if value.startswith(GEN_PREFIX):
        return value.removeprefix(GEN_PREFIX), "generate"
    return value, None


def choice_class(value: str) -> type[Adapter]:
    name, kind = parse_choice(value)
    return adapter_class(name, kind)


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


def _unique(values: list[int]) -> tuple[int, ...]:
    return tuple(dict.fromkeys(values))


def _seconds(value: float) -> str:
    return f"{value * 1000:g}ms" if value < 1 else f"{value:g}s"


def slo_text(slo: tuple[tuple[str, float], ...]) -> str:
    return ",".join(f"{name}={_seconds(limit)}" for name, limit in slo)


def generation_values(plan: BenchPlan) -> dict[str, str]:
    if plan.kind != "generate":
        return {}
    if plan.lengths == PRESETS[PREFILL_DECODE]:
        return {"preset": PREFILL_DECODE, "slo": slo_text(plan.slo)}
    inputs, outputs = _unique([i for i, _ in plan.lengths]), _unique([o for _, o in plan.lengths])
    return {"input_tokens": _ints(inputs), "output_tokens": _ints(outputs), "slo": slo_text(plan.slo)}


def values_from_plan(plan: BenchPlan) -> FormValues:
    return FormValues(
        **generation_values(plan),
        url=plan.url,
        adapter=adapter_choice(plan.adapter, plan.kind),
        model=plan.options.model or "",
        batch_sizes=_ints(plan.batch_sizes),
        concurrencies=_ints(plan.concurrencies),
        seconds=f"{plan.duration_s:g}" if plan.duration_s else "",
        requests=str(plan.requests) if plan.requests else "",
        payloads=",".join(plan.payloads),
        path=plan.options.path or "",
        extra_body=body_text(plan.options.extra_body),
        pages=str(plan.payload.doc_pages) if uses_pages(adapter_class(plan.adapter, plan.kind)) else "",
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


def parse_extra_body(text: str, adapter: str, own_keys: tuple[str, ...] = (), kind: BenchKind | None = None) -> dict[str, Any]:
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
        raise PlanError(f"extra body: {own[0]!r} is what the benchmark sends (its {adapter_class(adapter, kind).unit}); leave it out")
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
    name, kind = parse_choice(values.adapter)
    try:
        cls = adapter_class(name, kind)
    except ValueError as exc:
        raise PlanError(f"adapter: {exc}") from None
    if name == draft.adapter and cls.kind == draft.kind:
        plan = replace(draft, url=url)
    else:  # another API: the service's other options (headers, input field…) no longer apply
        plan = replace(plan_from_settings(settings, cls.kind, name, url), service=draft.service)
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
    if cls.kind == "generate":
        changes.update(generation_changes(values))
        own_keys = GEN_OWN_BODY_KEYS.get(name, ())
    else:
        changes["payloads"] = tuple(p.strip().lower() for p in values.payloads.split(",") if p.strip())
        own_keys = OWN_BODY_KEYS.get(name, (plan.options.input_field,) if name == "nvembed" else ())
    options = replace(plan.options, model=values.model.strip() or None, path=parse_path(values.path),
                      extra_body=parse_extra_body(values.extra_body, name, own_keys, cls.kind))
    payload = plan.payload
    if uses_pages(cls):
        payload = replace(payload, doc_pages=parse_pages(values.pages, settings.doc_pages))
    plan = replace(plan, options=options, payload=payload, **changes)  # type: ignore[arg-type]
    plan.validate()
    return plan


def generation_changes(values: FormValues) -> dict[str, object]:
    """Lengths (every input with every output, or the preset's) and the SLO, as typed."""
    changes: dict[str, object] = {"payloads": ()}
    preset = values.preset.strip()
    if preset:
        if preset not in PRESETS:
            raise PlanError(f"lengths: unknown preset {preset!r}: expected {', '.join(PRESETS)}")
        changes["lengths"] = PRESETS[preset]
    else:
        if not values.input_tokens.strip():
            raise PlanError("input tokens: give one or more prompt lengths, e.g. 512,2048")
        if not values.output_tokens.strip():
            raise PlanError("output tokens: give one or more output lengths, e.g. 128")
        inputs = parse_int_list(values.input_tokens, "input tokens")
        outputs = parse_int_list(values.output_tokens, "output tokens")
        for what, given in (("input tokens", inputs), ("output tokens", outputs)):
            if len(set(given)) != len(given):
                raise PlanError(f"{what}: values repeat: {_ints(given)}")
        changes["lengths"] = tuple((i, o) for i in inputs for o in outputs)
    slo = values.slo.strip()
    try:
        changes["slo"] = parse_slo(slo) if slo else ()
    except PlanError as exc:
        raise PlanError("SLO: " + str(exc).removeprefix("--slo: ")) from None
    return changes


def cells_words(plan: BenchPlan) -> str:
    """What the cells are: "6 cells (2 lengths × 3 concurrency)", "4 cells (1 payload × 2 batch × 2 concurrency)"."""
    cells = len(plan.cells())
    what = f"{cells} cell{'s' if cells != 1 else ''}"
    if plan.kind == "generate":
        lengths = len(plan.lengths)
        return f"{what} ({lengths} length{'s' if lengths != 1 else ''} × {len(plan.concurrencies)} concurrency)"
    return f"{what} ({len(plan.payload_variants)} payload × {len(plan.batch_sizes)} batch × {len(plan.concurrencies)} concurrency)"
