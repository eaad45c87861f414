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
from functools import lru_cache

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
    lines = wanted_lines(text.encode("utf-8", "replace"), tuple(prefixes))
    return b"\n".join([*lines, b""]).decode("utf-8", "replace")


@lru_cache(maxsize=64)
def _byte_prefixes(prefixes: tuple[str, ...]) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
    """(the prefixes as bytes, their distinct 4-byte anchors: what `bytes.find` looks for)."""
    encoded = tuple(prefix.encode() for prefix in prefixes)
    return encoded, tuple(sorted({prefix[:4] for prefix in encoded}))


def wanted_lines(body: bytes, prefixes: tuple[str, ...]) -> list[bytes]:
    """The lines of `body` (bytes, never decoded whole) that belong to families starting with `prefixes`.

    Sample lines start with the metric name; comment lines name it after "# HELP " / "# TYPE ".
    Only the stretch from the first to the last occurrence of a prefix's first 4 bytes can hold
    such a line: `bytes.find` (C memchr/memmem) skips the rest, which on a big page is nearly all
    of it (the 5 MB page's filter: 13 ms on str, about 0.2 ms here; bench/inference_parse_bench.py).
    """
    return _lines_of(wanted_span(body, prefixes), prefixes)


def wanted_span(body: bytes, prefixes: tuple[str, ...]) -> bytes:
    """The stretch of `body` that can hold lines of families starting with `prefixes`: from the
    line of the first occurrence of a prefix's first 4 bytes to the line of the last; b"" when none."""
    _, anchors = _byte_prefixes(prefixes)
    firsts = [found for anchor in anchors if (found := body.find(anchor)) >= 0]
    if not firsts:
        return b""
    first, last = min(firsts), max(body.rfind(anchor) for anchor in anchors)
    start = body.rfind(b"\n", 0, first) + 1
    end = body.find(b"\n", last)
    return body[start:] if end < 0 else body[start:end]


def _lines_of(span: bytes, prefixes: tuple[str, ...]) -> list[bytes]:
    encoded, _ = _byte_prefixes(prefixes)
    return [line for line in span.splitlines()
            if line.startswith(encoded)
            or (line.startswith(b"# ") and line.startswith(encoded, 7) and line[2:7] in (b"HELP ", b"TYPE "))]


def family_blocks(lines: list[bytes]) -> list[bytes]:
    """The filtered lines cut into blocks: a family's HELP/TYPE lines and the sample lines after them.

    A block ends only where a comment names another family. The parser starts a family afresh at
    exactly such a line (prometheus_client.parser.text_fd_to_metric_families keeps no other state
    across it), so a block parsed alone gives what it gives inside the whole text.
    """
    blocks: list[bytes] = []
    current: list[bytes] = []
    name = None
    for line in lines:
        if line.startswith((b"# HELP ", b"# TYPE ")):  # other comments change nothing in the parser
            this = line[7:].split(b" ", 1)[0]
            if this != name:
                if current:
                    blocks.append(b"\n".join(current))
                    current = []
                name = this
        current.append(line)
    if current:
        blocks.append(b"\n".join(current))
    return blocks


class BlockCache:
    """One server's parsed blocks of its last page, by their bytes: an unchanged block is not parsed again.

    An idle server's page hardly changes between scrapes (the families we read sit still; only
    process and GC figures move, and those are filtered out), so nearly every block is
    byte-identical to the one before and its parsed families are reused. A changed block (a
    moved counter, a reset, garbage) is parsed as ever. Entries are content-addressed, so reuse
    is right whichever server a cache is given; each scrape keeps only its own blocks.
    Thread-safe enough for its use: a parse swaps in whole new dicts, never edits shared ones.
    """

    def __init__(self) -> None:
        self._parsed: dict[bytes, tuple[Family, ...]] = {}
        self._last_blocks: list[bytes] = []
        self._last_result: dict[str, Family] = {}
        # The last page's prefixes, wanted span and families, swapped in as one: a page whose span
        # is byte-identical parses to the same families, found with one memcmp instead of cutting
        # 40 KB into lines (135 µs).
        self._last_page: tuple[tuple[str, ...], bytes, dict[str, Family]] | None = None
        self.parsed_blocks = 0  # counts, for tests and the bench: blocks the parser read
        self.reused_blocks = 0  # blocks taken from the previous scrape
        self.unchanged_pages = 0  # pages answered by the span check alone

    def clear(self) -> None:
        self._parsed, self._last_blocks, self._last_result, self._last_page = {}, [], {}, None

    def unchanged(self, body: bytes, prefixes: tuple[str, ...]) -> dict[str, Family] | None:
        """The families of the last page when `body` keeps its wanted span byte for byte (an idle
        server: only process and GC figures moved); None when it must be parsed. Cheap enough for
        the event loop: two `find`s, a slice and a memcmp (~10 µs for a 40 KB vLLM page)."""
        if self._last_page is None or len(body) > MAX_TEXT_CHARS:
            return None
        return self._same_span(prefixes, wanted_span(body, prefixes))

    def _same_span(self, prefixes: tuple[str, ...] | None, span: bytes) -> dict[str, Family] | None:
        last = self._last_page
        if last is None or not last[2] or last[0] != prefixes or last[1] != span:
            return None
        self.unchanged_pages += 1
        return dict(last[2])


def parse_page(body: bytes, wanted_prefixes: Iterable[str] | None = None,
               cache: BlockCache | None = None) -> dict[str, Family]:
    """`parse_families` for the raw bytes of a page, reusing `cache`'s parses of unchanged blocks.

    Measured (bench/inference_parse_bench.py --runs 15, CPU medians, this noisy 2-core machine,
    three sessions): a 40 KB vLLM page filtered and parsed in full every scrape: 3.2-6.8 ms.
    The same page idle (process/GC figures moving, ours not) through the cache: 0.17-0.35 ms,
    no block parsed. Busy (3 requests finishing per scrape: half the kept lines move): 2.6-3.1 ms
    vs 3.3-6.1 ms cold; only the moved blocks are parsed.
    """
    if len(body) > MAX_TEXT_CHARS:
        raise ExpositionError(f"metrics page of {len(body) / 1e6:.0f} MB is too large to read")
    prefixes = None if wanted_prefixes is None else tuple(wanted_prefixes)
    span = body if prefixes is None else wanted_span(body, prefixes)
    if cache is not None and (same := cache._same_span(prefixes, span)) is not None:  # the span did not move
        return same
    lines = span.splitlines() if prefixes is None else _lines_of(span, prefixes)
    blocks = family_blocks(lines)
    if cache is not None and blocks == cache._last_blocks:  # memcmp of the kept bytes: nothing moved
        cache.reused_blocks += len(blocks)
        cache._last_page = (prefixes, span, cache._last_result) if prefixes is not None else None
        return dict(cache._last_result)
    known = cache._parsed if cache is not None else {}
    parsed: dict[bytes, tuple[Family, ...]] = {}
    families: dict[str, Family] = {}
    reused = 0
    for block in blocks:
        found = known.get(block)
        if found is None:
            found = _parse_text(block.decode("utf-8", "replace") + "\n")
        else:
            reused += 1
        parsed[block] = found
        for family in found:
            families[family.name] = family  # as before: a name seen twice, the last wins
    result = _attach_created(families)
    if cache is not None:
        cache._parsed, cache._last_blocks, cache._last_result = parsed, blocks, dict(result)
        cache._last_page = (prefixes, span, dict(result)) if prefixes is not None else None  # only once it parsed
        cache.reused_blocks += reused
        cache.parsed_blocks += len(blocks) - reused
    return result


def _parse_text(text: str) -> tuple[Family, ...]:
    try:
        parsed = list(text_string_to_metric_families(text))
    except (ValueError, IndexError, KeyError, TypeError) as exc:  # the parser's ways of saying "bad line"
        raise ExpositionError(_first_bad_line(text) or f"not Prometheus exposition ({exc})") from None
    return tuple(_family(metric) for metric in parsed)


def parse_families(text: str, wanted_prefixes: Iterable[str] | None = None) -> dict[str, Family]:
    """The families of `text` (only those starting with `wanted_prefixes`, when given), by name.

    Raises ExpositionError when the (filtered) text is not valid exposition.
    """
    if len(text) > MAX_TEXT_CHARS:
        raise ExpositionError(f"metrics page of {len(text) / 1e6:.0f} MB is too large to read")
    return parse_page(text.encode("utf-8", "replace"), wanted_prefixes)


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
