"""Updating text without needless work: unchanged text does nothing, a layout pass (the costliest
part of a refresh) happens only when the number of rows can change, and markup is parsed line by
line with each line remembered: on a live panel most lines read the same as a second ago."""

from __future__ import annotations

import re
from functools import lru_cache

from textual.content import Content
from textual.markup import MarkupError
from textual.widget import Widget
from textual.widgets import Static

TAG = re.compile(r"(?<!\\)\[(/?)[^\[\]]*\]")
NEWLINE = Content("\n")


def update_text(widget: Static, markup: str) -> None:
    previous = getattr(widget, "_shown_markup", None)
    if previous == markup:
        return
    widget._shown_markup = markup  # type: ignore[attr-defined]
    lines = markup_lines(markup)
    # Same shape: as many lines, each on one row before and now. A line wider than the widget
    # wraps (or stops wrapping) to another number of rows, which only a layout pass finds.
    fits = widget.styles.text_wrap == "nowrap" or max((line.cell_length for line in lines), default=0) <= widget.size.width
    fitted, widget._shown_fits = getattr(widget, "_shown_fits", False), fits  # type: ignore[attr-defined]
    width = widget.styles.width
    auto_width = width is not None and width.is_auto
    same_shape = (previous is not None and previous.count("\n") == markup.count("\n") and not auto_width
                  and fits and fitted)
    widget.update(NEWLINE.join(lines), layout=not same_shape)


def parse_markup(markup: str) -> Content:
    return NEWLINE.join(markup_lines(markup))


def markup_lines(markup: str) -> list[Content]:
    """`markup` as one Content per line (each line parsed once and remembered)."""
    if not markup:
        return []
    lines = [_line(line) for line in markup.split("\n")]
    if None in lines:  # a tag that spans lines: parse it whole; bad markup shows as it is
        try:
            whole = Content.from_markup(markup)
        except MarkupError:
            whole = Content(markup)
        return whole.split("\n", allow_blank=True)
    return lines  # type: ignore[return-value]


@lru_cache(maxsize=2048)
def _line(line: str) -> Content | None:
    """One line's markup, or None if a tag opened on it stays open (it closes on a later line)."""
    tags = TAG.findall(line)
    if sum(1 for slash in tags if not slash) > sum(1 for slash in tags if slash):
        return None
    try:
        return Content.from_markup(line)
    except MarkupError:
        return None


def set_titles(widget: Widget, title: str, subtitle: str | None = None) -> None:
    """Set border title/subtitle only when they change: each assignment repaints the whole
    container, children included."""
    wanted = (title, subtitle)
    if getattr(widget, "_shown_titles", None) == wanted:
        return
    widget._shown_titles = wanted  # type: ignore[attr-defined]
    widget.border_title = title
    if subtitle is not None:
        widget.border_subtitle = subtitle


def set_tooltip(widget: Widget, tooltip: str | None) -> None:
    """Set a tooltip only when it changes: each assignment updates the screen's tooltip."""
    if widget.tooltip != tooltip:
        widget.tooltip = tooltip


def set_display(widget: Widget, shown: bool) -> None:
    if widget.display != shown:
        widget.display = shown
