"""Numbers in words for people: every formatter turns None into "n/a"."""

from __future__ import annotations

NA = "n/a"


def number(value: float | None, unit: str = "", digits: int = 0) -> str:
    if value is None:
        return NA
    text = f"{value:.{digits}f}"
    return f"{text} {unit}" if unit else text


def percent(value: float | None) -> str:
    return NA if value is None else f"{value:.0f}%"


def gib(value: int | float | None, digits: int = 1) -> str:
    return NA if value is None else f"{value / 1024**3:.{digits}f} GiB"


def size(value: int | float | None) -> str:
    """Bytes with a binary unit that keeps 2–4 significant digits."""
    if value is None:
        return NA
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if abs(value) >= scale:
            return f"{value / scale:.1f} {unit}"
    return f"{value:.0f} B"


def rate(value: float | None) -> str:
    """Bytes per second in decimal units (as disks and networks are sold), 2–3 digits."""
    if value is None:
        return NA
    for unit, scale in (("GB/s", 1e9), ("MB/s", 1e6), ("kB/s", 1e3)):
        if abs(value) >= scale:
            scaled = value / scale
            return f"{scaled:.0f} {unit}" if abs(scaled) >= 100 else f"{scaled:.1f} {unit}"
    return f"{value:.0f} B/s"


def duration(seconds: float | None) -> str:
    """3d 4h, 2h 05m, 4m 07s, 12s."""
    if seconds is None:
        return NA
    seconds = int(seconds)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def span(seconds: float) -> str:
    """A graph's time span: "5 min", "90 s", "2 h"."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:.0f} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"
