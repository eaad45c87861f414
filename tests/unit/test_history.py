from spark_tui.core.machine.history import History, columns, grid_end


def test_series_keeps_only_the_span():
    history = History(span=10)
    for t in range(30):
        history.add(float(t), [("x", float(t))])
    series = history.series("x")
    assert [at for at, _ in series.points] == [float(t) for t in range(19, 30)]
    assert series.latest == 29.0 and series.peak() == 29.0


def test_columns_take_the_max_and_sit_on_a_fixed_grid():
    points = [(float(t), float(t % 7)) for t in range(100)]
    a = columns(points, now=99.0, span=60, width=10, max_gap=2.5)
    b = columns(points, now=99.4, span=60, width=10, max_gap=2.5)
    assert a == b  # within one column's time the picture does not move
    assert max(v for v in a if v is not None) == 6.0
    assert grid_end(99.0, 60, 10) == 102.0


def test_gaps_show_as_none_but_short_holes_are_filled():
    points = [(0.0, 5.0), (1.0, 5.0), (2.0, None), (3.0, 5.0)] + [(50.0, 7.0)]
    out = columns(points, now=60.0, span=60, width=60, max_gap=2.5)
    assert out[0] == 5.0 and out[2] is None and out[3] == 5.0  # n/a stays n/a
    assert out[5] == 5.0  # 2 s after the last point: still the same value
    assert out[20] is None  # long after: a gap, not a flat line
    assert out[50] == 7.0


def test_width_zero_is_empty():
    assert columns([(0.0, 1.0)], now=1.0, span=10, width=0, max_gap=1) == []
