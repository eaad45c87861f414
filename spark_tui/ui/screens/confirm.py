"""A yes/no question in a modal: `y` or the confirm button says yes; `n`, escape or Cancel say no."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmScreen {
        align: center middle;
    }
    ConfirmScreen > #confirm {
        width: 76;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $warning;
        border-title-color: $text-warning;
        border-title-style: bold;
        background: $surface;
        padding: 0 1;
    }
    ConfirmScreen #confirm-body {
        height: auto;
        margin-bottom: 1;
    }
    ConfirmScreen #confirm-buttons {
        height: auto;
        align-horizontal: right;
    }
    ConfirmScreen Button {
        margin-left: 2;
    }
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, title: str, body: str, *, confirm: str = "Yes", danger: bool = False, default: bool = True) -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.confirm_label = confirm
        self.danger = danger
        self.default = default
        self.AUTO_FOCUS = "#confirm-yes" if default else "#confirm-no"

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm") as box:
            box.border_title = self.title_text
            box.border_subtitle = "y yes · n/esc no"
            yield Static(self.body, id="confirm-body")
            with Horizontal(id="confirm-buttons"):
                yield Button(self.confirm_label, id="confirm-yes", variant="error" if self.danger else "primary")
                yield Button("Cancel", id="confirm-no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
