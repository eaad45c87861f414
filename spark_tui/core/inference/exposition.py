"""Prometheus text exposition, read with the Prometheus project's own parser, for only the families we use.

`parse_families(text, prefixes)` hands `prometheus_client.parser.text_string_to_metric_families`
just the lines of the wanted families (their samples and their `# HELP`/`# TYPE` lines) and
returns them as plain frozen records: per series a value, per histogram its cumulative buckets.

Why filter first: the parser is pure Python, ~20 µs a line, and a big page is mostly
families we never read (per-handler HTTP histograms, Python GC, per-LoRA info). Measured with
bench/inference_parse_bench.py (CPU medians of 15-21 runs, this project's 2-core machine, three
sessions): a 5.1 MB page (38,000 lines) costs 0.8-1.6 s parsed whole and 13-16 ms filtered, of
which the filter is 10-13 ms: ~60x less. A realistic 40 KB vLLM page: 6.3-8.6 ms whole, 2.3-3.6 ms
filtered (most of its lines are families we read).

Errors: anything the parser refuses becomes one `ExpositionError` line naming the offending text,
never a traceback. A body whose wanted families are all absent is checked separately
(`check_exposition`), so an HTML error page is "not a metrics page", not "no figures".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

Labels = tuple[tuple[str, str], ...]  # sorted (name, value) pairs: a series' identity

MAX_TEXT_CHARS = 64 * 1024 * 1024  # a bigger "metrics page" is a mistake (a log, a dump): refuse before the parser sees it
_SNIPPET_CHARS = 60
_CHECK_LINES = 40  # lines parsed to tell a metrics page from something else


class ExpositionError(ValueError):
    """The text is not Prometheus exposition (or not all of it is); the message is one line."""


@dataclass(frozen=True, slots=True)
class Series:
    """One counter, gauge or untyped series."""

    labels: Labels
    value: float
    created: float | None = None  # a counter's `_created` timestamp: a new one means the counter restarted


@dataclass(frozen=True, slots=True)
class Histogram:
    """One histogram series: cumulative bucket counts by upper bound, ascending, `+Inf` last."""

    labels: Labels  # without `le`
    buckets: tuple[tuple[float, float], ...]
    sum: float | None = None
    count: float | None = None
    created: float | None = None


@dataclass(frozen=True, slots=True)
class Family:
    name: str  # as the parser names it: a counter's family name has no `_total`
    type: str  # counter, gauge, histogram, summary, unknown (untyped), …
    series: tuple[Series, ...] = ()
    histograms: tuple[Histogram, ...] = ()


Families = Mapping[str, Family]


def prefilter(text: str, prefixes: tuple[str, ...]) -> str:
    """The lines of families whose names start with one of `prefixes`, with their HELP/TYPE lines."""
    keep = []
    append = keep.append
    for line in text.splitlines():
        # Sample lines start with the metric name; comment lines name it after "# HELP " / "# TYPE ".
        if line.startswith(prefixes) or (line.startswith("# ") and line.startswith(prefixes, 7)
                                         and line.startswith(("# HELP ", "# TYPE "))):
            append(line)
    keep.append("")
    return "\n".join(keep)


def parse_families(text: str, wanted_prefixes: Iterable[str] | None = None) -> dict[str, Family]:
    """The families of `text` (only those starting with `wanted_prefixes`, when given), by name.

    Raises ExpositionError when the (filtered) text is not valid exposition.
    """
    if len(text) > MAX_TEXT_CHARS:
        raise ExpositionError(f"metrics page of {len(text) / 1e6:.0f} MB is too large to read")
    if wanted_prefixes is not None:
        text = prefilter(text, tuple(wanted_prefixes))
    try:
        parsed = list(text_string_to_metric_families(text))
    except (ValueError, IndexError, KeyError, TypeError) as exc:  # the parser's ways of saying "bad line"
        raise ExpositionError(_first_bad_line(text) or f"not Prometheus exposition ({exc})") from None
    families = {metric.name: _family(metric) for metric in parsed}
    return _attach_created(families)


def check_exposition(text: str) -> None:
    """Raise ExpositionError unless `text` starts like a Prometheus metrics page.

    Used when none of the wanted families were found: a login page, JSON or an empty answer
    must read "not a metrics page", while a real page of other metrics passes.
    """
    stripped = text.lstrip()
    if not stripped:
        raise ExpositionError("empty answer: not a metrics page")
    first = stripped[0]
    if first in "{[":
        raise ExpositionError("JSON, not a Prometheus metrics page")
    if first == "<":
        raise ExpositionError("HTML, not a Prometheus metrics page")
    head = "\n".join(stripped.splitlines()[:_CHECK_LINES]) + "\n"
    try:
        families = list(text_string_to_metric_families(head))
    except (ValueError, IndexError, KeyError, TypeError):
        raise ExpositionError("not a metrics page: " + (_first_bad_line(head) or "unreadable")) from None
    if not any(family.samples for family in families) and not head.startswith("#"):
        raise ExpositionError("not a metrics page: no samples")


def _first_bad_line(text: str) -> str | None:
    """'bad line: <text>' for the first line the parser refuses on its own (error path only)."""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        try:
            list(text_string_to_metric_families(line + "\n"))
        except (ValueError, IndexError, KeyError, TypeError):
            snippet = line if len(line) <= _SNIPPET_CHARS else line[:_SNIPPET_CHARS] + "…"
            return f"not Prometheus exposition: bad line {snippet!r}"  # repr: control bytes stay escaped
    return None


def _attach_created(families: dict[str, Family]) -> dict[str, Family]:
    """Move each `<name>_created` family into `<name>`'s series.

    The text format (unlike OpenMetrics) writes a counter's or histogram's creation time as a
    gauge family of its own; it belongs with the series it dates, for restart detection.
    """
    for name in [name for name in families if name.endswith("_created")]:
        owner = families.get(name[:-8])
        if owner is None or owner.type not in ("counter", "histogram", "unknown"):
            continue
        stamps = {series.labels: series.value for series in families.pop(name).series}
        families[owner.name] = Family(
            owner.name,
            owner.type,
            tuple(Series(s.labels, s.value, stamps.get(s.labels, s.created)) for s in owner.series),
            tuple(Histogram(h.labels, h.buckets, h.sum, h.count, stamps.get(h.labels, h.created))
                  for h in owner.histograms),
        )
    return families


def _labels(labels: Mapping[str, str], drop: str | None = None) -> Labels:
    return tuple(sorted((k, v) for k, v in labels.items() if k != drop))


def _family(metric) -> Family:  # metric: prometheus_client.metrics_core.Metric
    name, kind = metric.name, metric.type
    if kind in ("histogram", "gaugehistogram"):
        return Family(name, kind, histograms=_histograms(name, metric.samples))
    created: dict[Labels, float] = {}
    values: list[tuple[Labels, float]] = []
    total, created_name = name + "_total", name + "_created"
    for sample in metric.samples:
        labels = _labels(sample.labels)
        if sample.name == created_name:
            created[labels] = sample.value
        elif sample.name in (name, total):
            values.append((labels, float(sample.value)))
        # anything else (a summary's quantiles, _sum, _count) is not read by any figure
    return Family(name, kind, series=tuple(Series(labels, value, created.get(labels)) for labels, value in values))


def _histograms(name: str, samples) -> tuple[Histogram, ...]:
    bucket, sum_, count, created = name + "_bucket", name + "_sum", name + "_count", name + "_created"
    by_labels: dict[Labels, dict] = {}
    for sample in samples:
        if sample.name == bucket:
            le = sample.labels.get("le")
            if le is None:
                continue
            try:
                bound = float(le)
            except ValueError:
                continue
            entry = by_labels.setdefault(_labels(sample.labels, "le"), {})
            entry.setdefault("buckets", []).append((bound, float(sample.value)))
            continue
        labels = _labels(sample.labels)
        if sample.name == sum_:
            by_labels.setdefault(labels, {})["sum"] = float(sample.value)
        elif sample.name == count:
            by_labels.setdefault(labels, {})["count"] = float(sample.value)
        elif sample.name == created:
            by_labels.setdefault(labels, {})["created"] = float(sample.value)
    out = []
    for labels, entry in by_labels.items():
        buckets = tuple(sorted(entry.get("buckets", ())))
        count_value = entry.get("count")
        if count_value is None and buckets and math.isinf(buckets[-1][0]):
            count_value = buckets[-1][1]
        out.append(Histogram(labels, buckets, entry.get("sum"), count_value, entry.get("created")))
    return tuple(out)
