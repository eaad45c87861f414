"""A log's colour, as the sanitiser parsed it (core.untrusted.SgrSpan), in Rich and Textual styles.

No escape byte from a log ever reaches the terminal: the data layer turned the SGR sequences
it understood into spans of an SgrStyle, and here each style becomes a Rich Style that Textual
renders with its own sequences. Palette indexes 0-15 stay the terminal's own colours (what
the program that wrote the log asked for); 16-255 and RGB are exact.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from rich.color import Color
from rich.style import Style
from rich.text import Span, Text
from textual.content import Content
from textual.content import Span as ContentSpan
from textual.style import Style as ContentStyle

from spark_tui.core.untrusted import SgrSpan, SgrStyle


def _colour(value: int | tuple[int, int, int] | None) -> Color | None:
    if value is None:
        return None
    return Color.from_ansi(value) if isinstance(value, int) else Color.from_rgb(*value)


@lru_cache(maxsize=1024)  # a log uses a handful of styles: each one built once
def rich_style(style: SgrStyle) -> Style:
    return Style(
        color=_colour(style.fg),
        bgcolor=_colour(style.bg),
        bold=style.bold or None,
        dim=style.dim or None,
        italic=style.italic or None,
        underline=style.underline or None,
        reverse=style.reverse or None,
        strike=style.strike or None,
    )


@lru_cache(maxsize=1024)
def content_style(style: SgrStyle) -> ContentStyle:
    return ContentStyle.from_rich_style(rich_style(style))


def stylize(text: Text, spans: Iterable[SgrSpan], offset: int = 0) -> None:
    """Colour `text` with a log line's spans, shifted by `offset` (a prefix such as a time stamp)."""
    for start, end, style in spans:
        text.stylize(rich_style(style), start + offset, end + offset)


def sgr_text(plain: str, spans: Iterable[SgrSpan] = ()) -> Text:
    """A clean line and its spans as Rich Text (never markup)."""
    return Text(plain, spans=[Span(start, end, rich_style(style)) for start, end, style in spans])


def sgr_content(plain: str, spans: Iterable[SgrSpan] = ()) -> Content:
    """A clean line and its spans as Textual Content (never markup)."""
    return Content(plain, [ContentSpan(start, end, content_style(style)) for start, end, style in spans])
