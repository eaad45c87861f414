"""The bottom line of key bindings, drawn as one widget.

Textual's Footer mounts a widget per key and restyles them all whenever the screen changes:
about 190 ms of CPU per screen switch on the test machine, which alone broke the 100 ms
key-to-screen budget. This bar shows the same bindings (same `show`, `enabled`, key display
and command-palette hint) as a single line, and a click on a key presses it.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.content import Content
from textual.strip import Strip
from textual.widget import Widget


@dataclass(frozen=True)
class KeyItem:
    key: str
    display: str
    description: str
    enabled: bool


class KeyBar(Widget):
    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description", "key-bar--disabled"}

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
    }
    KeyBar > .key-bar--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    KeyBar > .key-bar--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    KeyBar > .key-bar--disabled {
        color: $footer-foreground 40%;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self._items: tuple[KeyItem, ...] = ()
        self._palette: KeyItem | None = None
        self._spans: list[tuple[int, int, str]] = []  # (start x, end x, key) of what was drawn

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, lambda _screen: self._collect())
        self._collect()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _collect(self) -> None:
        active = self.screen.active_bindings
        seen_actions: set[str] = set()
        items = []
        for _node, binding, enabled, _tooltip in active.values():
            if not binding.show or binding.action in seen_actions:
                continue
            seen_actions.add(binding.action)
            items.append(KeyItem(binding.key, self.app.get_key_display(binding), binding.description, enabled))
        palette = None
        if self.app.ENABLE_COMMAND_PALETTE and self.app.COMMAND_PALETTE_BINDING in active:
            _node, binding, enabled, _tooltip = active[self.app.COMMAND_PALETTE_BINDING]
            palette = KeyItem(binding.key, self.app.get_key_display(binding), binding.description, enabled)
        if (tuple(items), palette) != (self._items, self._palette):
            self._items, self._palette = tuple(items), palette
            self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        key_style = self.get_visual_style("key-bar--key")
        description_style = self.get_visual_style("key-bar--description")
        disabled_style = self.get_visual_style("key-bar--disabled")
        tail = Content.assemble((f" {self._palette.display} ", key_style), (f"{self._palette.description} ", description_style)) if self._palette else Content("")
        room = width - tail.cell_length
        line = Content("")
        spans = []
        for item in self._items:
            if item.enabled:
                piece = Content.assemble((f" {item.display} ", key_style), (f"{item.description} ", description_style))
            else:
                piece = Content.assemble((f" {item.display} {item.description} ", disabled_style))
            if line.cell_length + piece.cell_length > room:
                break
            spans.append((line.cell_length, line.cell_length + piece.cell_length, item.key))
            line += piece
        if self._palette:
            start = width - tail.cell_length
            spans.append((start, width, self._palette.key))
            line += Content(" " * max(0, start - line.cell_length)) + tail
        self._spans = spans
        return Strip(line.render_segments(self.visual_style)).adjust_cell_length(width, base)

    def on_click(self, event: events.Click) -> None:
        for start, end, key in self._spans:
            if start <= event.x < end:
                event.stop()
                self.app.simulate_key(key)
                return
