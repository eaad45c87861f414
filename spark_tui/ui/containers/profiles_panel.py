"""Compose projects and their profiles, with a toggle, and compose's output while it works.

Self-contained: place it on any screen with the session's ContainersState; the screen hands it
what changed (`show_changes`) and it redraws what profiles or the compose command touched. It asks
to toggle or cancel by posting ProfileToggleRequested / ProfileCancelRequested, which bubble up
to the app's containers controller (the one place that runs compose).
"""

from __future__ import annotations

import shlex
from collections import deque

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.events import Resize
from textual.widgets import DataTable, RichLog, Static
from textual.widgets.data_table import RowDoesNotExist

from spark_tui.ui.messages import ProfileCancelRequested, ProfileToggleRequested
from spark_tui.ui.changes import Changed
from spark_tui.ui.markup import escape
from spark_tui.ui.containers.state import JOB_LINES, ComposeJob, ContainersState
from spark_tui.core.masking import mask_argv
from spark_tui.models.compose import ComposeProfile, ComposeProject, ServiceState
from spark_tui.ui.widgets.text import set_display, set_titles, update_text
from spark_tui.ui.widgets.theme_colors import ThemeColors, theme_colors

PROFILE_ROLES = {"up": "success", "partial": "warning", "down": "dim"}
SERVICE_ROLES = {"running": "success", "done": "success", "starting": "warning", "unhealthy": "error", "stopped": "dim", "missing": "dim"}
SERVICE_MARKS = {"running": "●", "done": "✓", "starting": "◐", "unhealthy": "✗", "stopped": "○", "missing": "○"}
WIDE_FROM = 100  # panel width from which compose's output sits beside the list


def profile_key(project: str, profile: str) -> str:
    return f"{project}/{profile}"


def services_markup(states: tuple[ServiceState, ...], colors: ThemeColors, stale: bool = False) -> str:
    """Each service with its state's mark; all dim when the states are only the last known."""
    return "  ".join(
        colors.paint(SERVICE_MARKS.get(s.state, "?"), "dim" if stale else SERVICE_ROLES.get(s.state))
        + " "
        + (colors.paint(escape(s.service), "dim") if stale else escape(s.service))
        for s in states
    )


class WrappedLog(RichLog):
    """Plain lines wrapped to the width, and wrapped again when the width changes (RichLog
    wraps a line once, when it is written)."""

    def __init__(self, max_lines: int, **kwargs) -> None:
        super().__init__(max_lines=max_lines, wrap=True, min_width=1, markup=False, highlight=False, **kwargs)
        self.plain: deque[str] = deque(maxlen=max_lines)  # what was written, unwrapped
        self._width: int | None = None

    def write_line(self, line: str) -> None:
        self.plain.append(line)
        self.write(line)

    def clear(self) -> WrappedLog:
        self.plain.clear()
        super().clear()
        return self

    def on_resize(self, event: Resize) -> None:
        width = event.size.width
        if self._width is not None and width != self._width and self.plain:
            super().clear()
            for line in self.plain:
                self.write(line)
        self._width = width


class ProfilesPanel(Vertical):
    DEFAULT_CSS = """
    ProfilesPanel {
        height: auto;
    }
    ProfilesPanel > #profiles-body {
        height: auto;
        max-height: 100%;  /* the panel's own limit reaches the table, which then scrolls to its cursor */
    }
    ProfilesPanel.-wide > #profiles-body {
        layout: horizontal;
    }
    ProfilesPanel #profiles-list {
        height: auto;
        max-height: 100%;
    }
    ProfilesPanel.-wide #profiles-list {
        width: 1fr;
    }
    ProfilesPanel #profiles-table {
        height: auto;
        max-height: 100%;  /* bounded by the panel (whose limit the screen sets): it scrolls to its cursor */
        overflow-x: hidden;
        scrollbar-size-vertical: 1;
    }
    ProfilesPanel #profiles-note {
        height: auto;
        color: $foreground-muted;
    }
    ProfilesPanel #compose-job {
        height: auto;
    }
    ProfilesPanel.-wide #compose-job {
        width: 1fr;
        padding-left: 1;
        border-left: vkey $primary 40%;
    }
    ProfilesPanel #compose-headline {
        height: auto;
    }
    ProfilesPanel #compose-output {
        height: 5;
        scrollbar-size-vertical: 1;
    }
    ProfilesPanel.-with-job #profiles-table {
        max-height: 7;
    }
    ProfilesPanel.-wide.-with-job #profiles-table {
        max-height: 100%;
    }
    ProfilesPanel.-wide #compose-output {
        height: 1fr;
        min-height: 4;
    }
    """

    BINDINGS = [
        Binding("space", "toggle", "Start/stop profile", id="profiles.toggle"),
        Binding("k", "cancel", "Cancel compose", id="profiles.cancel"),
        Binding("escape", "close_output", "Close output", id="profiles.close-output"),
    ]

    def __init__(self, state: ContainersState, **kwargs) -> None:
        kwargs.setdefault("classes", "panel")
        super().__init__(**kwargs)
        self.border_title = "Compose profiles"
        self._state = state
        self._rows: list[str] = []
        self._drawn: dict[str, tuple[str, ...]] = {}
        self._job_shown: tuple[ComposeJob, int] | None = None  # the job in the log, and its lines written
        self._closed_job: ComposeJob | None = None  # a finished job whose output the user closed

    def compose(self) -> ComposeResult:
        with Vertical(id="profiles-body"):
            with Vertical(id="profiles-list"):
                yield Static("Reading Compose projects…", id="profiles-note")
                table: DataTable = DataTable(cursor_type="row", id="profiles-table")
                table.add_column("Profile", key="profile", width=16)
                table.add_column("State", key="state", width=14)
                table.add_column("Services", key="services")
                yield table
            with Vertical(id="compose-job"):
                yield Static(id="compose-headline")
                yield WrappedLog(JOB_LINES + 50, id="compose-output")  # + the command line and notes

    def on_mount(self) -> None:
        self.query_one("#compose-job").display = False
        self.query_one("#profiles-table").display = False
        self.show(self._state)

    def on_resize(self) -> None:
        self.set_class(self.size.width >= WIDE_FROM, "-wide")

    # -- what the user picked -----------------------------------------------------------------

    def selected_key(self) -> str | None:
        table = self.query_one("#profiles-table", DataTable)
        if not table.row_count:
            return None
        try:
            return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except RowDoesNotExist:
            return None

    def selected_profile(self) -> tuple[str, str] | None:
        key = self.selected_key()
        if not key or not key.startswith("profile:"):
            return None
        project, _, profile = key.removeprefix("profile:").partition("/")
        return project, profile

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle":
            engine_down = self._state.engine_problem is not None
            if engine_down:
                return None
            # a profile toggles; on an always-on row space says why nothing toggles there
            return True if self.selected_profile() is not None or (self.selected_key() or "").startswith("always:") else None
        job = self._state.job
        if action == "cancel":
            return job is not None and job.running
        if action == "close_output":
            return job is not None and not job.running and job is not self._closed_job
        return True

    def action_close_output(self) -> None:
        if self._state.job is not None and not self._state.job.running:
            self._closed_job = self._state.job
            self.show(self._state)

    def action_toggle(self) -> None:
        picked = self.selected_profile()
        if picked is not None:
            self.post_message(ProfileToggleRequested(*picked))
        elif (self.selected_key() or "").startswith("always:"):
            self.notify(
                "Always-on services belong to no profile: compose starts them with the project. "
                "Start or stop one of them in the containers table (u, x).",
                title="Nothing to toggle here",
                timeout=6,
            )

    def action_cancel(self) -> None:
        self.post_message(ProfileCancelRequested())

    @on(DataTable.RowSelected, "#profiles-table")
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if self.check_action("toggle", ()):  # enter is space, greyed alike
            self.action_toggle()

    @on(DataTable.RowHighlighted, "#profiles-table")
    def _row_moved(self, event: DataTable.RowHighlighted) -> None:
        self._binding_check()

    # -- drawing ------------------------------------------------------------------------------

    def show(self, state: ContainersState) -> None:
        self._state = state
        if not self.is_mounted or not self.children:
            return
        colors = theme_colors(self.app)
        self._show_projects(state, colors)
        self._show_job(state.job, colors)
        self._binding_check()

    def _binding_check(self) -> None:
        """Footer keys follow what toggle/cancel/close apply to; refreshed only when that changes
        (each refresh rebuilds the footer)."""
        job = self._state.job
        engine_down = self._state.engine_problem is not None
        key = (self.selected_profile() is not None, job is not None and job.running, job is self._closed_job, job is None, engine_down)
        if key != getattr(self, "_bindings_for", None):
            self._bindings_for = key
            self.refresh_bindings()

    def _note(self, state: ContainersState) -> str | None:
        overview = state.overview
        if state.engine_problem:
            if overview is None or not overview.projects:
                return "Docker is unreachable: no Compose projects are known yet, and profiles cannot be toggled until it answers."
            return "Docker is unreachable: the states below are the last known, and profiles cannot be toggled until it answers."
        if overview is None:
            return "Reading Compose projects…"
        if not overview.projects:
            return "No Compose projects. Start one, or name its files in the config:\n[b]\\[docker.compose][/b] files = [\"~/ai/compose.yaml\"]"
        if not any(p.profiles for p in overview.projects) and not any(p.problem for p in overview.projects):
            return "No project has profiles. Put GPU services in one: [b]profiles: \\[gpu][/b]"
        return None

    def _show_projects(self, state: ContainersState, colors: ThemeColors) -> None:
        note = self._note(state)
        note_widget = self.query_one("#profiles-note", Static)
        if note:
            update_text(note_widget, note)
        set_display(note_widget, note is not None)
        table = self.query_one("#profiles-table", DataTable)
        rows = self._rows_for(state, colors)
        set_display(table, bool(rows))
        subtitle = f"{sum(1 for k in rows if k.startswith('profile:'))} profiles" if rows else ""
        if rows and state.engine_problem:
            subtitle += " · last known"
        set_titles(self, "Compose profiles", subtitle)
        keys = list(rows)
        if keys != self._rows:
            selected = self.selected_profile()
            table.clear()
            for key, cells in rows.items():
                table.add_row(*cells, key=key)
            self._rows, self._drawn = keys, dict(rows)
            self._restore_cursor(table, selected)
            return
        for key, cells in rows.items():
            if self._drawn.get(key) != cells:
                for column, old, new in zip(("profile", "state", "services"), self._drawn[key], cells):
                    if old != new:
                        table.update_cell(key, column, new, update_width=column == "services")
                self._drawn[key] = cells

    def _restore_cursor(self, table: DataTable, selected: tuple[str, str] | None) -> None:
        keys = self._rows
        target = f"profile:{profile_key(*selected)}" if selected else None
        if target not in keys:
            target = next((k for k in keys if k.startswith("profile:")), None)
        if target is not None:
            table.move_cursor(row=keys.index(target), animate=False)

    def _rows_for(self, state: ContainersState, colors: ThemeColors) -> dict[str, tuple[str, ...]]:
        rows: dict[str, tuple[str, ...]] = {}
        if state.overview is None:
            return rows
        job = state.job if state.job and state.job.running else None
        stale = state.engine_problem is not None  # Docker is down: states are the last known
        for project in state.overview.projects:
            rows[f"project:{project.name}"] = self._project_row(project, colors)
            if project.problem:
                rows[f"problem:{project.name}"] = ("", colors.paint("unreadable", "error"), colors.paint(escape(project.problem), "error"))
            for n, profile in enumerate(project.profiles):
                if job is not None and (job.project, job.profile) == (project.name, profile.name):
                    doing = "stopping…" if job.action == "down" else "starting…"
                elif state.preparing == (project.name, profile.name):
                    doing = "checking…"
                else:
                    doing = None
                last = n == len(project.profiles) - 1 and not project.always_on and not project.seen
                rows[f"profile:{profile_key(project.name, profile.name)}"] = self._profile_row(profile, colors, doing, last, stale)
            if project.always_on:
                last = not project.seen
                rows[f"always:{project.name}"] = (colors.paint("└ always on" if last else "├ always on", "dim"), "", services_markup(project.always_on, colors, stale))
            if project.seen:  # the model could not be read: which profile each belongs to is unknown
                rows[f"seen:{project.name}"] = (colors.paint("└ profile ?", "dim"), colors.paint("unknown", "dim"), services_markup(project.seen, colors, stale))
        return rows

    @staticmethod
    def _project_row(project: ComposeProject, colors: ThemeColors) -> tuple[str, ...]:
        files = ", ".join(f.rsplit("/", 1)[-1] for f in project.config_files) or "files unknown"
        where = project.working_dir or (project.config_files[0].rsplit("/", 1)[0] if project.config_files else "")
        return (f"[b]{escape(project.name)}[/b]", "", colors.paint(escape(f"{where}/{files}" if where else files), "dim"))

    @staticmethod
    def _profile_row(profile: ComposeProfile, colors: ThemeColors, doing: str | None, last: bool, stale: bool) -> tuple[str, ...]:
        name = colors.paint("└ " if last else "├ ", "dim") + escape(profile.name) + (" " + colors.paint("GPU", "accent") if profile.gpu else "")
        if doing is not None:
            state = colors.paint(doing, "warning")
        else:
            state = colors.paint(profile.summary, "dim" if stale else PROFILE_ROLES.get(profile.state))
        return (name, state, services_markup(profile.service_states, colors, stale))

    def _show_job(self, job: ComposeJob | None, colors: ThemeColors) -> None:
        box = self.query_one("#compose-job", Vertical)
        shown = job is not None and job is not self._closed_job
        set_display(box, shown)
        self.set_class(shown, "-with-job")
        if job is None or not shown:
            return
        self._show_headline(job, colors)
        log = self.query_one("#compose-output", WrappedLog)
        written = self._job_shown[1] if self._job_shown and self._job_shown[0] is job else None
        if written is None:
            log.clear()
            log.write_line("$ " + shlex.join(mask_argv(job.argv)))
            for note in (job.memory and f"memory: {job.memory}", *job.notes):
                if note:
                    log.write_line(note)
            written = 0
        fresh = job.total_lines - written
        if fresh > 0:
            for line in list(job.lines)[-min(fresh, len(job.lines)):]:
                log.write_line(line)
        self._job_shown = (job, job.total_lines)

    def show_changes(self, changed: Changed) -> None:
        """The list and the compose output when they changed; while a command runs, its ticking headline."""
        if changed & (Changed.CONTAINERS | Changed.PROFILES | Changed.JOB):
            self.show(self._state)
        elif changed & Changed.TICK:
            self.show_headline(self._state)

    def show_headline(self, state: ContainersState) -> None:
        """Only the compose command's headline (its elapsed time ticks while it runs)."""
        job = state.job
        if self.is_mounted and self.children and job is not None and job is not self._closed_job:
            self._show_headline(job, theme_colors(self.app))

    def _show_headline(self, job: ComposeJob, colors: ThemeColors) -> None:
        role = "warning" if job.running else ("success" if job.result and job.result.ok else "error")
        headline = colors.paint(escape(job.headline()), role, bold=not job.running)
        headline += colors.paint("   k cancels" if job.running else "   esc closes", "dim")
        update_text(self.query_one("#compose-headline", Static), headline)
