"""Bounded time series of the samples, for the graphs."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence

Point = tuple[float, float | None]  # (wall-clock seconds, value or None for n/a)


class Series:
    """The last `span` seconds of one metric."""

    MIN_INTERVAL = 0.1  # the shortest sampling interval the config allows

    def __init__(self, span: float) -> None:
        self.span = span
        self.points: deque[Point] = deque(maxlen=math.ceil(span / self.MIN_INTERVAL) + 1)

    def add(self, at: float, value: float | None) -> None:
        self.points.append((at, value))
        while self.points and self.points[0][0] < at - self.span:
            self.points.popleft()

    @property
    def latest(self) -> float | None:
        return self.points[-1][1] if self.points else None

    def values(self) -> list[float]:
        return [v for _, v in self.points if v is not None]

    def peak(self) -> float | None:
        values = self.values()
        return max(values) if values else None


class History:
    """All series by key ("gpu0.util", "mem.used", …), created on first use."""

    def __init__(self, span: float = 300.0, interval: float = 1.0) -> None:
        self.span = span
        self.interval = interval
        self._series: dict[str, Series] = {}

    def series(self, key: str) -> Series:
        found = self._series.get(key)
        if found is None:
            found = self._series[key] = Series(self.span)
        return found

    def add(self, at: float, values: Iterable[tuple[str, float | None]]) -> None:
        for key, value in values:
            self.series(key).add(at, value)


def columns(points: Sequence[Point], now: float, span: float, width: int, max_gap: float) -> list[float | None]:
    """Resample points onto `width` columns covering the last `span` seconds, newest at the right.

    Columns sit on a grid fixed in absolute time, so the picture scrolls one whole column at a
    time and stays still in between (steady to read, and cheap to redraw). A column takes the
    highest value that falls in it; an empty column repeats the value before it unless that
    value is older than `max_gap` seconds (a pause or a stall shows as a gap, not a flat line).
    """
    if width <= 0:
        return []
    out: list[float | None] = [None] * width
    seen: list[bool] = [False] * width
    per_column = span / width
    start = grid_end(now, span, width) - span
    for at, value in points:
        if at < start or at > start + span:
            continue
        col = min(width - 1, int((at - start) / per_column))
        if value is not None and (out[col] is None or value > out[col]):
            out[col] = value
        seen[col] = True
    last_value: float | None = None
    last_at = -math.inf
    for col in range(width):
        col_end = start + (col + 1) * per_column
        if seen[col]:
            last_value, last_at = out[col], col_end
        elif last_value is not None and col_end - last_at <= max_gap + per_column:
            out[col] = last_value
    return out


def grid_end(now: float, span: float, width: int) -> float:
    """The right edge of the column grid: `now` rounded up to a whole column."""
    per_column = span / width
    return math.ceil(now / per_column) * per_column
