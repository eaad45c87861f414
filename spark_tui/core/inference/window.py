"""Figures over a window of scrapes: counter rates and histogram percentiles, the way Prometheus computes them.

A counter only ever grows; when it drops, the server restarted and counts again from 0, so the
increase across that scrape pair is the new value (Prometheus `rate()` does the same). A changed
`_created` timestamp says the same thing even when the new value already overtook the old one.
Increases are summed pair by pair over every scrape in the window, so a restart in the middle
of a longer window is still counted right.

Histogram percentiles are Prometheus' `histogram_quantile` over the window's bucket increases:
linear interpolation inside the bucket the rank falls in, the highest finite bound when it falls
in `+Inf`. A window without a new observation has no percentile (None), not 0.

Nothing here knows an engine: callers pick the family and the label filter.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Generic, Protocol, TypeVar

from spark_tui.core.inference.exposition import Family, Histogram, Labels, Series

Select = Mapping[str, str]


class Timed(Protocol):
    at: float  # monotonic seconds of the scrape


T = TypeVar("T", bound=Timed)


class ScrapeSeries(Generic[T]):
    """The last scrapes of one server, oldest first, kept for `keep_s` seconds (and at most `max_scrapes`)."""

    def __init__(self, keep_s: float = 120.0, max_scrapes: int = 512) -> None:
        self.keep_s = keep_s
        self._scrapes: deque[T] = deque(maxlen=max_scrapes)

    def __len__(self) -> int:
        return len(self._scrapes)

    @property
    def newest(self) -> T | None:
        return self._scrapes[-1] if self._scrapes else None

    def add(self, scrape: T) -> None:
        if self._scrapes and scrape.at <= self._scrapes[-1].at:
            self._scrapes.clear()  # time went backwards: a new monotonic clock; old pairs would mislead
        self._scrapes.append(scrape)
        horizon = scrape.at - self.keep_s
        # Keep one scrape at or before the horizon: it is the baseline of a full-length window.
        while len(self._scrapes) > 2 and self._scrapes[1].at <= horizon:
            self._scrapes.popleft()

    def clear(self) -> None:
        self._scrapes.clear()

    def window(self, seconds: float | None) -> list[T]:
        """Scrapes from a baseline to the newest. None: the last interval (the newest two).

        The baseline is the newest scrape at least `seconds` older than the newest, else the oldest kept.
        """
        scrapes = list(self._scrapes)
        if len(scrapes) < 2:
            return scrapes
        if seconds is None:
            return scrapes[-2:]
        horizon = scrapes[-1].at - seconds
        start = 0
        for index, scrape in enumerate(scrapes[:-1]):
            if scrape.at <= horizon:
                start = index
        return scrapes[start:]


# -- gauges -------------------------------------------------------------------------------------


def matches(labels: Labels, select: Select | None) -> bool:
    if not select:
        return True
    found = dict(labels)
    return all(found.get(key) == value for key, value in select.items())


def _group(labels: Labels, replicas: tuple[str, ...]) -> Labels:
    return tuple(pair for pair in labels if pair[0] not in replicas) if replicas else labels


def combine_gauge(
    family: Family | None,
    *,
    select: Select | None = None,
    replicas: tuple[str, ...] = (),
    combine: str = "sum",
) -> float | None:
    """One number from a gauge's series: replicas of one state (same labels but `replicas`) count once (max).

    `combine` joins the remaining series: "sum" (requests across engines) or "max" (the fullest KV cache).
    NaN samples (a gauge never set) are skipped; no series left: None.
    """
    if family is None:
        return None
    groups: dict[Labels, float] = {}
    for series in family.series:
        if not matches(series.labels, select) or math.isnan(series.value):
            continue
        key = _group(series.labels, replicas)
        groups[key] = max(groups[key], series.value) if key in groups else series.value
    if not groups:
        return None
    return sum(groups.values()) if combine == "sum" else max(groups.values())


# -- counters -----------------------------------------------------------------------------------


def counter_increase(points: Sequence[tuple[float, float | None] | None]) -> float:
    """Increase of one counter over (value, created) points, oldest first; the first is the baseline.

    Reset-safe: a drop (or a new `_created`) means the server restarted, and the new value is
    what it counted since. None marks a scrape without the series: when it appears again,
    all it holds was counted since the scrape before.
    """
    total = 0.0
    previous = points[0] if points else None
    for point in points[1:]:
        if point is None:
            previous = None
            continue
        value, created = point
        if previous is None:
            total += value
        elif value < previous[0] or (created is not None and previous[1] is not None and created != previous[1]):
            total += value
        else:
            total += value - previous[0]
        previous = point
    return total


def series_increases(
    families: Sequence[Family | None],
    *,
    select: Select | None = None,
) -> dict[Labels, float] | None:
    """Per series, its increase from the first family (the baseline) to the last.

    None when the last scrape lacks the family (nothing to say now) or there is no earlier
    scrape. A family missing from the baseline scrape of the same server appeared since
    (prometheus_client shows a labelled family only once a series exists), so all it holds
    is counted.
    """
    if len(families) < 2 or families[-1] is None:
        return None
    points: dict[Labels, list[tuple[float, float | None] | None]] = {}
    for index, family in enumerate(families):
        if family is None:
            continue
        for series in family.series:
            if not matches(series.labels, select) or math.isnan(series.value):
                continue
            points.setdefault(series.labels, [None] * len(families))[index] = (series.value, series.created)
    return {labels: counter_increase(series_points) for labels, series_points in points.items()}


def combine_increases(increases: Mapping[Labels, float], replicas: tuple[str, ...] = ()) -> float:
    groups: dict[Labels, float] = {}
    for labels, increase in increases.items():
        key = _group(labels, replicas)
        groups[key] = max(groups.get(key, 0.0), increase)
    return sum(groups.values())


def histogram_part_increases(
    families: Sequence[Family | None], part: str, select: Select | None = None
) -> dict[Labels, float] | None:
    """Per series, the increase of a histogram's `_sum` or `_count`, which are counters too.

    TGI and TEI count tokens only as histogram sums (tgi_request_generated_tokens_sum).
    """
    as_counters: list[Family | None] = []
    for family in families:
        if family is None:
            as_counters.append(None)
            continue
        series = []
        for histogram in family.histograms:
            number = histogram.sum if part == "sum" else histogram.count
            if number is not None:
                series.append(Series(histogram.labels, number, histogram.created))
        as_counters.append(Family(family.name, "counter", series=tuple(series)))
    return series_increases(as_counters, select=select)


# -- histograms ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistogramWindow:
    """Bucket increases over a window, summed across series: cumulative, `+Inf` last."""

    buckets: tuple[tuple[float, float], ...]
    sum: float | None
    count: float

    def quantile(self, q: float) -> float | None:
        return histogram_quantile(q, self.buckets)

    @property
    def mean(self) -> float | None:
        if self.sum is None or self.count <= 0:
            return None
        return self.sum / self.count


def _histogram_delta(old: Histogram | None, new: Histogram) -> tuple[dict[float, float], float | None, float | None]:
    """New minus old per bucket; the new values alone when the series restarted (any count went down)."""
    new_buckets = dict(new.buckets)
    if old is not None:
        old_buckets = dict(old.buckets)
        restarted = (
            (new.created is not None and old.created is not None and new.created != old.created)
            or any(new_buckets.get(bound, math.inf) < count for bound, count in old_buckets.items())
            or (new.count is not None and old.count is not None and new.count < old.count)
        )
        if not restarted:
            delta = {bound: count - old_buckets.get(bound, 0.0) for bound, count in new_buckets.items()}
            sum_delta = None if new.sum is None or old.sum is None else new.sum - old.sum
            count_delta = None if new.count is None or old.count is None else new.count - old.count
            return delta, sum_delta, count_delta
    return new_buckets, new.sum, new.count


def histogram_window(
    families: Sequence[Family | None],
    *,
    select: Select | None = None,
    replicas: tuple[str, ...] = (),
) -> HistogramWindow | None:
    """The window's observations of one histogram family, all (selected) series added up.

    None when the last scrape lacks the family (see series_increases for a missing baseline).
    Series that differ only in `replicas` count once (the first seen). Buckets are added by
    bound; a bound missing from some series (mixed bucket layouts) is dropped, since its
    cumulative count would be wrong.
    """
    if len(families) < 2 or families[-1] is None:
        return None
    per_series: dict[Labels, list[Histogram | None]] = {}
    for index, family in enumerate(families):
        if family is None:
            continue
        for histogram in family.histograms:
            if matches(histogram.labels, select):
                per_series.setdefault(histogram.labels, [None] * len(families))[index] = histogram
    totals: dict[float, float] = {}
    bounds: set[float] | None = None
    total_sum: float | None = 0.0
    total_count = 0.0
    seen_groups: set[Labels] = set()
    for labels, history in per_series.items():
        group = _group(labels, replicas)
        if group in seen_groups:
            continue
        seen_groups.add(group)
        series_buckets: dict[float, float] = {}
        previous: Histogram | None = None
        for index, histogram in enumerate(history):
            if histogram is None:
                previous = None
                continue
            if index == 0:
                previous = histogram
                continue
            if histogram is previous or histogram == previous:
                # Nothing observed between these two scrapes. An idle server's block comes back from
                # the parse cache as the same object: skipping it made the 60 s latency window of
                # 4 idle servers cost 0.03 % of a core instead of ~1 % (bench/inference_idle_bench.py).
                continue
            delta, sum_delta, count_delta = _histogram_delta(previous, histogram)
            for bound, count in delta.items():
                series_buckets[bound] = series_buckets.get(bound, 0.0) + count
            if total_sum is not None:
                total_sum = None if sum_delta is None else total_sum + sum_delta
            total_count += count_delta if count_delta is not None else delta.get(math.inf, 0.0)
            previous = histogram
        if not series_buckets:
            continue  # only in the baseline: it saw nothing in the window
        bounds = set(series_buckets) if bounds is None else bounds & set(series_buckets)
        for bound, count in series_buckets.items():
            totals[bound] = totals.get(bound, 0.0) + count
    if bounds is None:
        return HistogramWindow((), None if total_sum is None else 0.0, 0.0)
    buckets = tuple(sorted((bound, totals[bound]) for bound in bounds))
    if buckets and math.isinf(buckets[-1][0]):
        total_count = buckets[-1][1]  # the +Inf bucket is the count, and the one the quantiles rank against
    return HistogramWindow(buckets, total_sum, total_count)


def histogram_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float | None:
    """Prometheus' `histogram_quantile(q, …)` over cumulative (upper bound, count) buckets.

    None when there is nothing to rank (no `+Inf` bucket, fewer than two buckets, no observation).
    """
    if not 0.0 <= q <= 1.0 or len(buckets) < 2 or not math.isinf(buckets[-1][0]):
        return None
    # A server renders buckets one by one while requests finish: counts may step back by a few.
    # Prometheus forces them monotonic the same way before ranking.
    # accumulate + bisect: C loops, not Python ones (run 3 times per histogram per figure set).
    counts = list(accumulate((count for _, count in buckets), max, initial=0.0))[1:]
    total = counts[-1]
    if total <= 0:
        return None
    rank = q * total
    index = bisect_left(counts, rank)  # counts are monotonic: the first bucket holding the rank
    if index == len(buckets) - 1:
        return buckets[-2][0]  # in +Inf: the highest finite bound is all that is known
    upper = buckets[index][0]
    if index == 0 and upper <= 0:
        return upper
    lower = 0.0 if index == 0 else buckets[index - 1][0]
    below = 0.0 if index == 0 else counts[index - 1]
    in_bucket = counts[index] - below
    if in_bucket <= 0:
        return upper
    return lower + (upper - lower) * (rank - below) / in_bucket


def elapsed(scrapes: Iterable[Timed]) -> float | None:
    items = list(scrapes)
    if len(items) < 2:
        return None
    span = items[-1].at - items[0].at
    return span if span > 0 else None
