"""Rates and percentiles over scrapes: reset-safe counters, Prometheus' histogram_quantile, the window."""

import math
from dataclasses import dataclass

import pytest

from spark_tui.core.inference.exposition import Family, Histogram, Series
from spark_tui.core.inference.window import (
    ScrapeSeries,
    combine_gauge,
    combine_increases,
    counter_increase,
    histogram_part_increases,
    histogram_quantile,
    histogram_window,
    series_increases,
)

INF = math.inf


def counter(*series: tuple[dict, float] | tuple[dict, float, float]) -> Family:
    out = []
    for entry in series:
        labels, value, *created = entry
        out.append(Series(tuple(sorted(labels.items())), value, created[0] if created else None))
    return Family("c", "counter", series=tuple(out))


def histogram(buckets: dict[float, float], *, labels: dict | None = None, total: float | None = None,
              created: float | None = None) -> Histogram:
    pairs = tuple(sorted(buckets.items()))
    return Histogram(tuple(sorted((labels or {}).items())), pairs, total, pairs[-1][1] if pairs else None, created)


def hfamily(*histograms: Histogram) -> Family:
    return Family("h", "histogram", histograms=histograms)


# -- histogram_quantile: the Prometheus algorithm -------------------------------------------------


def test_quantile_interpolates_inside_the_bucket():
    buckets = [(0.1, 10.0), (0.2, 30.0), (0.5, 40.0), (INF, 40.0)]
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.15)  # rank 20: half way through (0.1, 0.2]
    assert histogram_quantile(0.25, buckets) == pytest.approx(0.1)  # rank 10: the top of the first bucket
    assert histogram_quantile(0.125, buckets) == pytest.approx(0.05)  # the first bucket starts at 0
    assert histogram_quantile(0.95, buckets) == pytest.approx(0.2 + 0.3 * 8 / 10)
    assert histogram_quantile(1.0, buckets) == pytest.approx(0.5)


def test_quantile_in_the_inf_bucket_is_the_highest_finite_bound():
    buckets = [(0.1, 1.0), (0.2, 2.0), (INF, 10.0)]
    assert histogram_quantile(0.99, buckets) == 0.2


def test_no_observation_no_quantile():
    assert histogram_quantile(0.5, [(0.1, 0.0), (INF, 0.0)]) is None


@pytest.mark.parametrize("buckets", [[], [(INF, 3.0)], [(0.1, 1.0), (0.2, 2.0)]])
def test_unrankable_buckets_give_none(buckets):
    assert histogram_quantile(0.5, buckets) is None


def test_q_outside_zero_one_is_none():
    assert histogram_quantile(1.5, [(0.1, 1.0), (INF, 1.0)]) is None


def test_counts_stepping_back_are_made_monotonic_first():
    # Rendered while a request finished: a lower bucket read after the increment, a higher one before.
    buckets = [(0.1, 5.0), (0.2, 4.0), (0.4, 10.0), (INF, 10.0)]
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.1)


def test_non_positive_first_bound():
    assert histogram_quantile(0.1, [(0.0, 5.0), (1.0, 10.0), (INF, 10.0)]) == 0.0


# -- counters -----------------------------------------------------------------------------------


def test_counter_increase_plain():
    assert counter_increase([(10.0, None), (15.0, None), (40.0, None)]) == 30.0


def test_counter_reset_counts_the_new_value():
    # 100 -> restart -> 7: 7 counted since the restart (Prometheus rate() does the same)
    assert counter_increase([(100.0, None), (7.0, None)]) == 7.0
    assert counter_increase([(100.0, None), (120.0, None), (5.0, None), (9.0, None)]) == 20 + 5 + 4


def test_created_change_is_a_reset_even_when_the_value_overtook():
    assert counter_increase([(100.0, 1000.0), (150.0, 2000.0)]) == 150.0
    assert counter_increase([(100.0, 1000.0), (150.0, 1000.0)]) == 50.0


def test_series_absent_then_present_counts_all_it_holds():
    assert counter_increase([None, (12.0, None)]) == 12.0
    assert counter_increase([(5.0, None), None, (3.0, None)]) == 3.0


def test_series_increases_per_series_and_selection():
    old = counter(({"engine": "0"}, 10.0), ({"engine": "1"}, 100.0))
    new = counter(({"engine": "0"}, 25.0), ({"engine": "1"}, 4.0), ({"engine": "2"}, 6.0))  # 1 restarted, 2 new
    increases = series_increases([old, new])
    assert increases == {(("engine", "0"),): 15.0, (("engine", "1"),): 4.0, (("engine", "2"),): 6.0}
    assert series_increases([old, new], select={"engine": "0"}) == {(("engine", "0"),): 15.0}


def test_series_increases_needs_the_family_now_and_a_second_scrape():
    family = counter(({}, 1.0))
    assert series_increases([family, None]) is None
    assert series_increases([family]) is None
    assert series_increases([None, family]) == {(): 1.0}  # appeared since the baseline


def test_replicas_count_once():
    increases = {
        (("dp_rank", "0"), ("tp_rank", "0")): 10.0,
        (("dp_rank", "0"), ("tp_rank", "1")): 10.0,
        (("dp_rank", "1"), ("tp_rank", "0")): 7.0,
    }
    assert combine_increases(increases, ("tp_rank",)) == 17.0
    assert combine_increases(increases) == 27.0


def test_histogram_sum_as_a_counter():
    old = hfamily(histogram({1.0: 1.0, INF: 2.0}, total=30.0))
    new = hfamily(histogram({1.0: 1.0, INF: 5.0}, total=75.0))
    assert histogram_part_increases([old, new], "sum") == {(): 45.0}
    assert histogram_part_increases([old, new], "count") == {(): 3.0}


# -- gauges -------------------------------------------------------------------------------------


def test_gauge_sum_max_replicas_select_and_nan():
    family = Family("g", "gauge", series=(
        Series((("dp_rank", "0"), ("tp_rank", "0")), 3.0),
        Series((("dp_rank", "0"), ("tp_rank", "1")), 3.0),
        Series((("dp_rank", "1"), ("tp_rank", "0")), 2.0),
        Series((("dp_rank", "2"), ("tp_rank", "0")), math.nan),
    ))
    assert combine_gauge(family) == 8.0
    assert combine_gauge(family, replicas=("tp_rank",)) == 5.0
    assert combine_gauge(family, replicas=("tp_rank",), combine="max") == 3.0
    assert combine_gauge(family, select={"dp_rank": "1"}) == 2.0
    assert combine_gauge(family, select={"dp_rank": "9"}) is None
    assert combine_gauge(None) is None


# -- histograms over a window -------------------------------------------------------------------


def test_window_takes_bucket_deltas():
    old = hfamily(histogram({0.1: 5.0, 0.2: 8.0, INF: 10.0}, total=2.0))
    new = hfamily(histogram({0.1: 5.0, 0.2: 18.0, INF: 20.0}, total=4.0))
    window = histogram_window([old, new])
    assert window.buckets == ((0.1, 0.0), (0.2, 10.0), (INF, 10.0))
    assert window.count == 10.0 and window.sum == pytest.approx(2.0) and window.mean == pytest.approx(0.2)
    assert window.quantile(0.5) == pytest.approx(0.15)


def test_window_without_new_observations_has_no_percentiles():
    same = hfamily(histogram({0.1: 5.0, INF: 10.0}, total=2.0))
    window = histogram_window([same, same])
    assert window.count == 0.0
    assert window.quantile(0.5) is None and window.mean is None


def test_window_over_a_restart_counts_the_new_histogram():
    old = hfamily(histogram({0.1: 50.0, 0.2: 80.0, INF: 100.0}, total=20.0))
    new = hfamily(histogram({0.1: 1.0, 0.2: 3.0, INF: 3.0}, total=0.4))
    window = histogram_window([old, new])
    assert window.buckets == ((0.1, 1.0), (0.2, 3.0), (INF, 3.0)) and window.sum == pytest.approx(0.4)


def test_window_restart_seen_by_created_only():
    old = hfamily(histogram({0.1: 1.0, INF: 1.0}, total=0.05, created=100.0))
    new = hfamily(histogram({0.1: 2.0, INF: 3.0}, total=0.5, created=200.0))
    assert histogram_window([old, new]).count == 3.0


def test_window_over_several_scrapes_with_a_restart_in_the_middle():
    scrapes = [
        hfamily(histogram({1.0: 10.0, INF: 10.0})),
        hfamily(histogram({1.0: 14.0, INF: 15.0})),  # +4 / +5
        hfamily(histogram({1.0: 1.0, INF: 2.0})),  # restarted: +1 / +2
        hfamily(histogram({1.0: 2.0, INF: 4.0})),  # +1 / +2
    ]
    window = histogram_window(scrapes)
    assert window.buckets == ((1.0, 6.0), (INF, 9.0))


def test_window_adds_series_and_drops_bounds_some_series_lack():
    old = hfamily(histogram({0.1: 0.0, 0.5: 0.0, INF: 0.0}, labels={"engine": "0"}),
                  histogram({0.1: 0.0, INF: 0.0}, labels={"engine": "1"}))
    new = hfamily(histogram({0.1: 1.0, 0.5: 2.0, INF: 2.0}, labels={"engine": "0"}),
                  histogram({0.1: 3.0, INF: 4.0}, labels={"engine": "1"}))
    window = histogram_window([old, new])
    assert window.buckets == ((0.1, 4.0), (INF, 6.0))


def test_window_replicas_and_selection():
    old = hfamily(histogram({1.0: 0.0, INF: 0.0}, labels={"tp_rank": "0"}),
                  histogram({1.0: 0.0, INF: 0.0}, labels={"tp_rank": "1"}))
    new = hfamily(histogram({1.0: 2.0, INF: 2.0}, labels={"tp_rank": "0"}),
                  histogram({1.0: 2.0, INF: 2.0}, labels={"tp_rank": "1"}))
    assert histogram_window([old, new], replicas=("tp_rank",)).count == 2.0
    assert histogram_window([old, new]).count == 4.0
    assert histogram_window([old, new], select={"tp_rank": "1"}).count == 2.0


def test_window_needs_the_family_now():
    assert histogram_window([hfamily(histogram({1.0: 0.0, INF: 0.0})), None]) is None
    appeared = histogram_window([None, hfamily(histogram({1.0: 1.0, INF: 1.0}))])
    assert appeared.count == 1.0


# -- ScrapeSeries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class At:
    at: float


def test_window_of_the_last_interval_and_of_n_seconds():
    series = ScrapeSeries(keep_s=60)
    for second in range(0, 12, 2):
        series.add(At(float(second)))
    assert [s.at for s in series.window(None)] == [8.0, 10.0]
    assert [s.at for s in series.window(5.0)] == [4.0, 6.0, 8.0, 10.0]  # baseline at least 5 s back
    assert [s.at for s in series.window(100.0)] == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]


def test_keep_trims_but_keeps_a_baseline():
    series = ScrapeSeries(keep_s=5)
    for second in range(20):
        series.add(At(float(second)))
    assert [s.at for s in series.window(5.0)] == [14.0, 15.0, 16.0, 17.0, 18.0, 19.0]
    assert len(series) == 6


def test_time_going_backwards_starts_over():
    series = ScrapeSeries()
    series.add(At(10.0))
    series.add(At(11.0))
    series.add(At(3.0))
    assert [s.at for s in series.window(None)] == [3.0]
    assert series.newest == At(3.0)
