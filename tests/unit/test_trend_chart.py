"""The block-character chart: levels in eighths, and which part of it a new sample repaints."""

import random

from textual.app import App, ComposeResult
from textual.geometry import Region

from spark_tui.ui.widgets.trend_chart import Picture, TrendChart, changed_region, levels


def picture(totals, lowers=None, first_column=0, height=4) -> Picture:  # type: ignore[no-untyped-def]
    return Picture(len(totals), height, tuple(totals), tuple(lowers) if lowers else None, first_column)


def test_levels_fill_eighths_and_a_small_value_still_shows() -> None:
    points = [(t + 0.5, v) for t, v in zip(range(10), [0, 0.1, 50, 100, 200, 0, 0, 0, 0, 0])]
    out = levels(points, now=10.0, span=10.0, width=10, height=2, lo=0.0, hi=100.0, max_gap=2.5)
    assert out == (0, 1, 8, 16, 16, 0, 0, 0, 0, 0)  # 0.1% shows as 1/8; 200% is clipped at the top


def test_only_the_cells_that_changed_are_repainted() -> None:
    old = picture([1, 2, 3, 4, 5])
    assert changed_region(old, picture([1, 2, 3, 4, 7])) == Region(4, 3, 1, 1)  # within the bottom row
    assert changed_region(old, picture([1, 2, 3, 4, 20])) == Region(4, 1, 1, 3)  # up to the third row
    assert changed_region(old, picture([1, 9, 3, 4, 7])) == Region(1, 2, 4, 2)
    assert changed_region(old, picture([1, 2, 3, 4, None])) == Region(4, 3, 1, 1)
    with_lower = picture([1, 2, 3, 4, 5], lowers=[0, 0, 0, 0, 2])
    assert changed_region(with_lower, picture([1, 2, 3, 4, 5], lowers=[0, 0, 1, 0, 2])) == Region(2, 3, 1, 1)
    assert changed_region(old, with_lower) == Region(0, 3, 5, 1)  # a lower series appeared: the row it fills


async def test_every_cell_that_changed_is_repainted() -> None:
    """changed_region against the drawn cells of random pictures: fills across rows, n/a before
    and after the history starts, a lower series inside or above the main one, scrolled pictures."""
    app = ChartApp()
    async with app.run_test(size=(6, 3)):
        chart = app.query_one(TrendChart)
        fills = [None, 0, 1, 7, 8, 9, 16, 17, 23, 24]
        rng = random.Random(2)

        def random_picture() -> Picture:
            return Picture(5, 3, tuple(rng.choice(fills) for _ in range(5)), tuple(rng.choice(fills) for _ in range(5)), rng.randrange(6))

        def cells(picture: Picture) -> list[list[str]]:
            return [[repr(list(strip.crop(x, x + 1))) for x in range(picture.width)] for strip in chart._draw(picture)]

        for _ in range(3000):
            old = random_picture()
            new = random_picture() if rng.random() < 0.5 else Picture(5, 3, old.totals[1:] + (rng.choice(fills),), old.lowers, max(0, old.first_column - 1))  # type: ignore[operator]
            region = changed_region(old, new)
            differ = [(x, y) for y, (a, b) in enumerate(zip(cells(old), cells(new))) for x in range(5) if a[x] != b[x]]
            assert all(region.contains(x, y) for x, y in differ), (old, new, region)


def test_a_new_size_repaints_everything_and_a_history_start_only_what_it_moved() -> None:
    old = picture([1, 2, 3, 4, 5])
    assert changed_region(None, old) == Region(0, 0, 5, 4)
    assert changed_region(old, picture([1, 2, 3, 4, 5, 6])) == Region(0, 0, 6, 4)
    assert changed_region(old, picture([1, 2, 3, 4, 5], first_column=2)) == Region(0, 0, 0, 0)  # draws the same
    history = picture([None, None, 3, 4, 5], first_column=2)
    assert changed_region(history, picture([None, None, 3, 4, 5], first_column=1)) == Region(1, 3, 1, 1)  # blank to gap
    assert changed_region(old, picture([1, 2, 3, 4, 5], height=5)) == Region(0, 0, 5, 5)


class ChartApp(App[None]):
    def compose(self) -> ComposeResult:
        yield TrendChart()


async def test_a_sample_within_a_column_repaints_that_column_only_and_draws_right() -> None:
    app = ChartApp()
    async with app.run_test(size=(20, 4)) as pilot:
        chart = app.query_one(TrendChart)
        points = [(t + 0.5, 50.0) for t in range(20)]
        chart.plot(points, now=20.0, span=20.0)
        await pilot.pause()
        before = [chart.render_line(y).text for y in range(4)]
        assert before[-1] == "█" * 20 and before[0] == " " * 20
        repainted: list[Region] = []
        original = chart.refresh
        chart.refresh = lambda *regions, **kw: repainted.extend(regions) or original(*regions, **kw)  # type: ignore[method-assign]
        chart.plot(points[:-1] + [(19.5, 100.0)], now=20.0, span=20.0)
        assert repainted == [Region(19, 0, 1, 2)]  # 50% to 100%: the top two rows
        await pilot.pause()
        after = [chart.render_line(y).text for y in range(4)]
        assert after[0] == " " * 19 + "█" and after[-1] == before[-1]


async def test_a_partly_redrawn_chart_matches_a_chart_drawn_from_scratch() -> None:
    """Rows keep their old strip up to the first changed column: text and colours must come out
    exactly as a full draw, with a stacked lower series and across gaps."""
    app = ChartApp()
    async with app.run_test(size=(24, 5)) as pilot:
        chart = app.query_one(TrendChart)
        values = [10.0 * (t % 11) for t in range(24)]
        lower = [(t + 0.5, v / 2) for t, v in enumerate(values)]
        points = [(t + 0.5, v) for t, v in enumerate(values) if t not in (5, 6, 7, 8)]  # a gap
        chart.plot(points, now=24.0, span=24.0, lower=lower)
        await pilot.pause()
        [chart.render_line(y) for y in range(5)]
        drawn: list[tuple[int, range | None]] = []
        draw = chart._draw
        chart._draw = lambda picture, first=0, rows=None: drawn.append((first, rows)) or draw(picture, first, rows)  # type: ignore[method-assign]
        for newest in (100.0, 3.0, 61.0):
            chart.plot(points[:-1] + [(23.5, newest)], now=24.0, span=24.0, lower=lower[:-1] + [(23.5, newest * 0.9)])
            partly = [chart.render_line(y) for y in range(5)]
            whole = draw(chart._picture)
            assert [s.text for s in partly] == [s.text for s in whole]
            assert [[(seg.text, seg.style) for seg in s.simplify()] for s in partly] == [[(seg.text, seg.style) for seg in s.simplify()] for s in whole]
        assert drawn == [(23, range(0, 5)), (23, range(0, 5)), (23, range(2, 5))]  # the newest column's changed rows


async def test_samples_plotted_while_the_chart_was_not_drawn_all_show_when_it_is() -> None:
    app = ChartApp()
    async with app.run_test(size=(24, 5)) as pilot:
        chart = app.query_one(TrendChart)
        points = [(t + 0.5, 10.0 * (t % 11)) for t in range(24)]
        chart.plot(points, now=24.0, span=24.0)
        await pilot.pause()
        [chart.render_line(y) for y in range(5)]
        chart.plot(points[:-2] + [(22.5, 100.0), (23.5, 0.0)], now=24.0, span=24.0)  # not drawn (a hidden screen)
        chart.plot(points[:-1] + [(23.5, 90.0)], now=24.0, span=24.0)
        partly = [chart.render_line(y).text for y in range(5)]
        assert partly == [s.text for s in chart._draw(chart._picture)]
