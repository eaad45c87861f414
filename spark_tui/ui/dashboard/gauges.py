"""Small text gauges shared by the panels."""

from __future__ import annotations

from collections.abc import Sequence

BLOCKS = "▏▎▍▌▋▊▉█"
LEVELS = "▁▂▃▄▅▆▇█"


def bar(fraction: float | None, width: int) -> str:
    """A horizontal bar with eighth-cell resolution, padded with a light shade."""
    if fraction is None or width <= 0:
        return "·" * max(width, 0)
    eighths = round(min(max(fraction, 0.0), 1.0) * width * 8)
    full, rest = divmod(eighths, 8)
    text = "█" * full + (BLOCKS[rest - 1] if rest else "")
    return text + "░" * (width - len(text))


def levels(percents: Sequence[float]) -> str:
    """One character per value 0–100, idle still visible: a row of per-core loads."""
    top = len(LEVELS) - 1
    return "".join(LEVELS[min(top, max(0, round(p / 100 * top)))] for p in percents)
