"""Every container, grouped by Compose project, one row per container keyed by its id.

Built on RowTable: each refresh hands over every row's cells (plain text and (text, role) spans,
never markup: names, images and states come from outside) and only rows whose cells changed are
drawn again. Project headers are rows too. Columns follow the table's width:
health gets its own column from 100 cells, the image from 128; narrower, the state shows
the health. The name, ports and image columns follow what they hold too (#14: at 100 columns
"18434→8…" was cut while the table's right end stood empty): each gets what its longest text
needs before the name grows, and a column nobody has anything for shrinks to its label.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.cells import cell_len
from rich.style import Style

from spark_tui.core import format as fmt
from spark_tui.models.containers import (
    Container,
    ContainerGroup,
    PublishedPort,
    group_by_project,
)
from spark_tui.ui.containers.state import ContainersState
from spark_tui.ui.widgets.row_table import PADDING, Cell, Row, RowTable, TableColumn
from spark_tui.ui.widgets.theme_colors import theme_colors

HEALTH_FROM = 100  # table width (cells) from which health gets its own column
IMAGE_FROM = 128  # ... and the image too
HEADER_PREFIX = "project:"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    narrow: int  # width on an 80-column terminal
    wide: int  # width once the table is IMAGE_FROM wide
    right: bool = False


COLUMNS = (
    Column("name", "Container", 18, 30),
    Column("state", "State", 10, 10),
    Column("health", "Health", 9, 9),
    Column("uptime", "Up", 6, 7),
    Column("cpu", "CPU", 5, 6, right=True),
    Column("memory", "Memory", 8, 9, right=True),
    Column("gpu", "GPU mem", 8, 9, right=True),
    Column("ports", "Ports", 8, 18),
    Column("image", "Image", 0, 12),
)
MAX_NAME = 32
FLEX = ("ports", "name", "image")  # widths that follow their text, the first served first
FLOOR = {"name": 14, "ports": 8, "image": 12}  # what each keeps when the room is short ("├ " + 12 of a name)


def content_widths(state: ContainersState) -> dict[str, int]:
    """Per column, the widest text its cells would hold (0: nothing to show in any row)."""
    containers = list(state.containers.values())
    running = [c for c in containers if c.state == "running"]
    names = [cell_len(c.compose_project or "(no project)") for c in containers]
    names += [cell_len(short_name(c)) + 2 for c in containers]  # + the tree's "├ "
    gpu = any(c.gpu or (c.state == "running" and state.gpu_memory(c) is not None) for c in containers)
    return {
        "name": max(names, default=0),
        "state": 1 if containers else 0,
        "health": 1 if any(c.health for c in running) else 0,
        "uptime": 1 if running else 0,
        "cpu": 1 if running else 0,
        "memory": 1 if running else 0,
        "gpu": 1 if gpu else 0,
        "ports": max((cell_len(ports_text(c.ports)) for c in containers), default=0),
        "image": max((cell_len(c.image) for c in containers), default=0),
    }


def column_widths(width: int, needs: dict[str, int] | None = None, padding: int = PADDING) -> dict[str, int]:
    """Each column's width for a table `width` cells wide (0: not shown), given what the columns
    hold (`content_widths`; None: the fixed widths' fallback, nothing known yet). Narrow tables
    merge health into the state; wider ones give it a column, then the image. The other columns
    have fixed widths (a column with nothing to show keeps only its label's); ports, name and
    image share the rest: each its floor, then each what its text needs (ports first: a cut port
    hides where to connect), what is left to the name up to MAX_NAME, then to the last column."""
    wide = width >= IMAGE_FROM
    widths = {c.key: c.wide if wide else c.narrow for c in COLUMNS}
    if not wide:
        widths["image"] = 0
        if width < HEALTH_FROM:
            widths["health"] = 0
    labels = {c.key: cell_len(c.label) for c in COLUMNS}
    if needs is None:
        needs = dict(widths)
    for key, shown_width in widths.items():
        if shown_width and key not in FLEX and not needs.get(key):
            widths[key] = labels[key]  # empty: its width goes to the columns that have text
    flex = [key for key in FLEX if widths[key]]
    shown = [key for key, w in widths.items() if w]
    room = width - sum(w for key, w in widths.items() if key not in flex) - 2 * padding * len(shown) - 1  # - the scrollbar
    want = {key: max(labels[key], needs.get(key, 0)) for key in flex}
    want["name"] = min(MAX_NAME, want["name"])
    for key in flex:
        widths[key] = min(want[key], FLOOR[key])
    room -= sum(widths[key] for key in flex)
    for key in flex:
        grow = max(0, min(room, want[key] - widths[key]))
        widths[key] += grow
        room -= grow
    if room > 0:
        grow = min(room, max(0, MAX_NAME - widths["name"]))
        widths["name"] += grow
        last = "image" if widths["image"] else "ports"
        widths[last] += room - grow  # the table's right end: no gap after the last column
    return widths


def header_key(project: str | None) -> str:
    return HEADER_PREFIX + (project or "")


def clip(text: str, width: int | None) -> str:
    if width is None or len(text) <= width:
        return text
    return text[: max(0, width - 1)] + "…"


def compact_size(value: int | None) -> str:
    """At most 8 characters: "58.0 GiB", "405 MiB", "12 KiB"."""
    if value is None:
        return fmt.NA
    gib = value / 1024**3
    if gib >= 100:
        return f"{gib:.0f} GiB"
    if gib >= 1:
        return f"{gib:.1f} GiB"
    for unit, scale in (("MiB", 1024**2), ("KiB", 1024)):
        if value >= scale:
            return f"{value / scale:.0f} {unit}"
    return f"{value} B"


def short_uptime(seconds: float | None) -> str:
    """Minutes are enough once past the first one, so the cell changes rarely."""
    if seconds is None:
        return ""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, hours, days = seconds // 60 % 60, seconds // 3600 % 24, seconds // 86_400
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"


def short_name(container: Container) -> str:
    """Under its project's header, "ai-vllm-1" reads "vllm-1" (the detail line has the full name)."""
    project = container.compose_project
    if project and container.name.startswith(project + "-") and len(container.name) > len(project) + 1:
        return container.name[len(project) + 1 :]
    return container.name


def port_text(port: PublishedPort) -> str:
    """"8000" on loopback; "*:8000" when reachable from the network; "8080→80" when remapped."""
    text = str(port.host_port) if port.host_port == port.container_port else f"{port.host_port}→{port.container_port}"
    if port.host_ip not in LOOPBACK:
        text = f"*:{text}"
    return text + ("/udp" if port.protocol == "udp" else "")


def ports_text(ports: tuple[PublishedPort, ...]) -> str:
    return ",".join(dict.fromkeys(port_text(p) for p in ports))  # IPv4 and IPv6 twins show once


def ports_detail(ports: tuple[PublishedPort, ...]) -> str:
    return ", ".join(dict.fromkeys(f"{p.host_ip}:{p.host_port}→{p.container_port}/{p.protocol}" for p in ports))


def state_cell(container: Container, with_health: bool, busy: str | None = None) -> Cell:
    if busy:
        return ((f"{busy}…", "warning"),)
    state = container.state
    if state == "running":
        if with_health and container.health == "healthy":
            return (("healthy", "success"),)
        if with_health and container.health == "starting":
            return (("starting", "warning"),)
        if with_health and container.health == "unhealthy":
            return (("unhealthy", "error-bold"),)
        return (("running", "success"),)
    if state == "exited":
        code = container.exit_code
        return ((f"exit {code if code is not None else '?'}", "dim" if code in (0, None) else "error"),)
    if state in ("restarting", "paused"):
        return ((state, "warning"),)
    if state == "dead":
        return (("dead", "error-bold"),)
    return ((state, "dim"),)


def health_cell(container: Container) -> Cell:
    role = {"healthy": "success", "starting": "warning", "unhealthy": "error"}.get(container.health or "")
    if role is None or container.state != "running":
        return (("—", "dim"),)
    return ((container.health or "", role + "-bold" if role == "error" else role),)


class ContainerTable(RowTable):
    """Roles: success, warning, error, accent (the theme's colours, "-bold" adds bold), dim (Rich's
    dim), bold."""

    def role_style(self, role: str) -> Style:
        base, bold = role.removesuffix("-bold"), role.endswith("-bold")
        if base == "bold":
            return Style(bold=True)
        spec = "dim" if base == "dim" else getattr(theme_colors(self.app), base)
        return Style.parse(f"bold {spec}" if bold else spec)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._widths: dict[str, int] | None = None
        self._state: ContainersState | None = None
        self._first_selection = True

    # -- columns follow the width ---------------------------------------------------------------

    @property
    def columns_shown(self) -> list[Column]:
        return [c for c in COLUMNS if self._widths and self._widths[c.key]]

    def _fit_columns(self) -> bool:
        """Columns for the table's width and what the rows hold; True when they changed (the
        rows must be handed over again)."""
        needs = content_widths(self._state) if self._state is not None else None
        widths = column_widths(self.scrollable_content_region.width + 1, needs)  # + the scrollbar's column
        if widths == self._widths:
            return False
        self._widths = widths
        self.set_columns([TableColumn(c.key, c.label, widths[c.key], c.right) for c in self.columns_shown])
        return True

    def _refit(self) -> None:
        if self._fit_columns() and self._state is not None:
            selected = self.selected_key
            self.show(self._state)
            if selected:
                self.select(selected)

    def on_mount(self) -> None:
        self._refit()

    def on_resize(self) -> None:
        super().on_resize()
        self._refit()

    # -- selection ------------------------------------------------------------------------

    @property
    def selected_key(self) -> str | None:
        return self.cursor_key

    def selected(self) -> Container | None:
        key = self.cursor_key
        if key is None or self._state is None:
            return None
        return self._state.containers.get(key)

    # -- rows ---------------------------------------------------------------------------------

    def show(self, state: ContainersState) -> None:
        """Bring the rows in line with `state`; only rows whose cells changed are drawn again."""
        self._state = state
        if self._widths is None:
            return  # not mounted yet: on_mount draws
        self._fit_columns()  # a new container may need more room for its name or ports
        now = state.now()
        rows: list[tuple[str, Row]] = []
        for group in group_by_project(list(state.containers.values())):
            rows.append((header_key(group.project), self._header(group)))
            last = len(group.containers) - 1
            for n, container in enumerate(group.containers):
                rows.append((container.id, self._cells(container, state, now, n == last)))
        self.set_rows(rows)
        if self._first_selection and rows:
            self._first_selection = False
            first = next((key for key, _ in rows if not key.startswith(HEADER_PREFIX)), None)
            if first is not None:
                self.select(first)

    def _pick(self, values: dict[str, Cell]) -> Row:
        return tuple(values[c.key] for c in self.columns_shown)

    def _width(self, key: str) -> int:
        return self._widths[key] if self._widths else 0

    def _header(self, group: ContainerGroup) -> Row:
        title = group.project or "(no project)"
        running, total = group.running, len(group.containers)
        values: dict[str, Cell] = dict.fromkeys((c.key for c in COLUMNS), "")
        values["name"] = ((clip(title, self._width("name")), "bold"),) if group.project else ((title, "dim"),)
        values["state"] = ((f"{running}/{total} up", "success" if running == total else ("dim" if not running else "warning")),)
        return self._pick(values)

    def _cells(self, container: Container, state: ContainersState, now: datetime, last: bool) -> Row:
        stats = state.stats.get(container.id) if container.state == "running" else None
        running = container.state == "running"
        name_width = self._width("name")
        values: dict[str, Cell] = {
            "name": (("└ " if last else "├ ", "dim"), (clip(short_name(container), name_width - 2), None)),
            "state": state_cell(container, with_health=not self._width("health"), busy=state.busy.get(container.id)),
            "health": health_cell(container),
            "uptime": short_uptime(container.uptime(now)),
            "cpu": "",
            "memory": "",
            "gpu": "",
            "ports": clip(ports_text(container.ports), self._width("ports")),
            "image": ((clip(container.image, self._width("image")), "dim"),),
        }
        figures: dict[str, tuple[str, str | None]] = {}
        if running:
            cpu = stats.cpu_percent if stats else None
            figures["cpu"] = (f"{cpu:.0f}%", None) if cpu is not None else ("…", "dim")
            used = stats.memory_used if stats else None
            limit = stats.memory_limit if stats else None
            near_limit = bool(used and limit and used > 0.9 * limit)
            figures["memory"] = (compact_size(used), "warning" if near_limit else None) if used is not None else ("…", "dim")
        gpu_memory = state.gpu_memory(container)
        if gpu_memory is not None and running:
            figures["gpu"] = (compact_size(gpu_memory), "accent")
        elif container.gpu:
            figures["gpu"] = ("GPU", "accent" if running else "dim")
        for key, (text, role) in figures.items():
            values[key] = ((text.rjust(self._width(key)), role),)
        return self._pick(values)

