"""`docker inspect` of one container, secrets masked and every string made safe to show, as
highlighted JSON."""

from __future__ import annotations

from typing import Any

from rich.json import JSON
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from spark_tui.core.docker.clean import clean_tree
from spark_tui.core.untrusted import clean
from spark_tui.ui.markup import escape
from spark_tui.models.containers import Container
from spark_tui.core.polling import run_in_daemon_thread
from spark_tui.ui.screens.detail import DetailScreen
from spark_tui.ui.session import Session
from spark_tui.core.docker.backend import ContainerBackend
from spark_tui.core.docker.errors import ContainerActionError, DockerUnavailable
from spark_tui.ui.widgets.key_bar import KeyBar
from spark_tui.ui.widgets.status_bar import StatusBar


class InspectScreen(DetailScreen):
    BINDINGS = [Binding("escape,q", "close", "Close", id="inspect.close")]

    DEFAULT_CSS = """
    InspectScreen > #inspect-view {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(self, session: Session, container: Container, backend: ContainerBackend) -> None:
        super().__init__(session)
        self.container = container
        self.backend = backend
        self.data: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with VerticalScroll(id="inspect-view", classes="panel") as view:
            view.border_title = f"Inspect · {escape(self.container.name)}"
            view.border_subtitle = "secrets masked"
            yield Static(f"Reading docker inspect {escape(self.container.short_id)}…", id="inspect-body")
        yield KeyBar()

    def on_mount(self) -> None:
        self.run_worker(self._read(), name=f"inspect-{self.container.short_id}", exit_on_error=False)

    async def _read(self) -> None:
        body = self.query_one("#inspect-body", Static)
        try:
            self.data = await run_in_daemon_thread(lambda: self.backend.inspect(self.container.id))
        except (ContainerActionError, DockerUnavailable) as exc:
            body.update(Content.styled(clean(str(exc)), "$error"))
            return
        except Exception as exc:
            body.update(Content.styled(clean(f"cannot inspect {self.container.name}: {exc}"), "$error"))
            return
        # Every string of the inspect data was chosen by whoever made the container (env, labels,
        # command): cleaned here, for the screen; the data itself stays as the engine sent it.
        # Rich's JSON is built from data, never parsed as markup.
        document = JSON.from_data(clean_tree(self.data), indent=2, default=str)
        # Rich's JSON never wraps: at 80 columns a label or command longer than the screen lost its
        # end. Folded, every character stays on screen (a long word breaks where the line ends).
        document.text.no_wrap = False
        document.text.overflow = "fold"
        body.update(document)

    def action_close(self) -> None:
        self.dismiss()
