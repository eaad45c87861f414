"""Updating text without needless work: unchanged text does nothing, and a layout pass
(the costliest part of a refresh) happens only when the number of lines changes."""

from __future__ import annotations

from textual.widget import Widget
from textual.widgets import Static


def update_text(widget: Static, markup: str) -> None:
    previous = widget.content
    if isinstance(previous, str) and previous == markup:
        return
    width = widget.styles.width
    auto_width = width is not None and width.is_auto
    same_shape = isinstance(previous, str) and previous.count("\n") == markup.count("\n") and not auto_width
    widget.update(markup, layout=not same_shape)


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


def set_display(widget: Widget, shown: bool) -> None:
    if widget.display != shown:
        widget.display = shown
