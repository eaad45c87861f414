"""Saved benchmark runs (key `h`): newest first; enter opens one (its cells and plots), space
marks runs, `c` compares two side by side. Run directories are read in a thread."""

from __future__ import annotations

from functools import partial

import time
from pathlib import Path

from spark_tui.ui.markup import escape
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from spark_tui.core.bench.report import cell_notes
from spark_tui.core.bench.results import runs_dir
from spark_tui.core.bench.saved_runs import (
    CellComparison,
    SavedRun,
    compare_runs,
    list_runs,
    load_run,
    read_throughput,
)
from spark_tui.models.bench import SecondPoint
from spark_tui.ui.bench.screen import find_adapter, lengths_words, payload_words, slo_words
from spark_tui.ui.screens.mode_screen import ModeScreen
from spark_tui.core.polling import run_in_daemon_thread
from spark_tui.ui.session import LiveScreen, Session
from spark_tui.ui.bench.cell_table import CellTable
from spark_tui.ui.widgets.key_bar import KeyBar
from spark_tui.ui.widgets.status_bar import StatusBar
from spark_tui.ui.widgets.text import set_display, set_titles, update_text
from spark_tui.ui.widgets.theme_colors import theme_colors
from spark_tui.ui.bench.plots import (
    LatencyThroughputPlot,
    Series,
    ThroughputPlot,
    batch_series,
    cell_latency,
)

STATUS_ROLE = {"completed": "success", "cancelled": "warning", "aborted": "error", "failed": "error", "interrupted": "warning", "running": "accent"}
COLUMNS = (("mark", " "), ("started", "Started"), ("status", "Status"), ("service", "Service"), ("model", "Model"),
           ("adapter", "Adapter"), ("cells", "Cells"), ("best", "Best /s"))


def unit_of(run: SavedRun) -> str:
    cls = find_adapter(run.adapter, run.kind)
    return cls.unit if cls is not None else "items"


def is_generation(run: SavedRun) -> bool:
    return run.kind == "generate" or any(c.input_tokens is not None for c in run.cells)


def started_text(run: SavedRun) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(run.started_at)) if run.started_at else "n/a"


def service_text(run: SavedRun) -> str:
    return str(run.plan.get("service") or run.url or "n/a")


def best_text(run: SavedRun) -> str:
    best = run.best_items_per_s
    if best is None:
        return "n/a"
    return f"{best:,.0f} {unit_of(run)}" if best >= 100 else f"{best:.1f} {unit_of(run)}"


def describe(run: SavedRun, *, with_id: bool = True) -> str:
    """A few lines about a run: how it ended, what was measured, the sweep and the machine."""
    server = run.server
    role = STATUS_ROLE.get(run.status)
    status = f"[${role}]{escape(run.status)}[/]" if role else escape(run.status)
    done = sum(1 for s in run.summaries if s.requests)
    first = f"[b]{status}[/b]" + (f": {escape(run.reason)}" if run.reason else "") + f" · started {started_text(run)} · {done}/{len(run.cells)} cells"
    lines = ([f"[b]{escape(run.run_id)}[/b]"] if with_id else []) + [first]
    what = [f"[b]{escape(service_text(run))}[/b]", escape(run.adapter or "n/a")]
    if server is not None:
        what += [escape(x) for x in (server.server, f"model {server.model}" if server.model else None) if x]
    lines.append(" · ".join(what))
    plan = run.plan
    sizes = plan.get("payload") if isinstance(plan.get("payload"), dict) else {}
    items = payload_words(run.adapter, [str(p) for p in plan.get("payloads") or []], sizes.get("text_words"), sizes.get("doc_pages"), run.kind)
    concurrency = f"concurrency {','.join(map(str, plan.get('concurrencies') or []))}"
    if is_generation(run):
        lengths = [(c.input_tokens, c.output_tokens) for c in run.cells if c.input_tokens is not None]
        slo = plan.get("slo") if isinstance(plan.get("slo"), dict) else {}
        sweep = f"{lengths_words(list(dict.fromkeys(lengths)))} × {concurrency}"  # type: ignore[arg-type]
        items = slo_words({str(k): float(v) for k, v in slo.items() if isinstance(v, (int, float))})
    else:
        sweep = f"batch {','.join(map(str, plan.get('batch_sizes') or []))} × {concurrency}"
    length = f"{plan['duration_s']:g} s per cell" if plan.get("duration_s") else f"{plan.get('requests')} requests per cell"
    env = run.environment
    host = " ".join(str(x) for x in (env.get("hostname"), f"({env['machine']})" if env.get("machine") else None) if x)
    facts = [sweep, length] + ([items] if items else []) + ([host] if host else []) + ([f"spark-tui {env['spark_tui']}"] if env.get("spark_tui") else [])
    if env.get("machine_readings"):
        facts.append(str(env["machine_readings"]))
    lines.append(f"[dim]{escape(' · '.join(facts))}[/dim]")
    if run.problem:
        lines.append(f"[$warning]{escape(run.problem)}[/]")
    return "\n".join(lines)


class RunsListed(Message):
    def __init__(self, runs: list[SavedRun], directory: str, error: str | None = None) -> None:
        super().__init__()
        self.runs = runs
        self.directory = directory
        self.error = error


class RunLoaded(Message):
    def __init__(self, run: SavedRun, throughput: list[SecondPoint]) -> None:
        super().__init__()
        self.run = run
        self.throughput = throughput


class RunsCompared(Message):
    def __init__(self, a: SavedRun, b: SavedRun, rows: list[CellComparison]) -> None:
        super().__init__()
        self.a = a
        self.b = b
        self.rows = rows


class HistoryScreen(ModeScreen):
    BINDINGS = [
        Binding("enter", "open_run", "Open", id="history.open"),
        Binding("space", "mark", "Mark", id="history.mark"),
        Binding("c", "compare", "Compare two", id="history.compare"),
        Binding("r", "reload", "Reload", id="history.reload"),
    ]

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.runs: dict[str, SavedRun] = {}
        self.marked: list[str] = []
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Vertical(id="history-panel", classes="panel"):
            yield DataTable(id="history-table", cursor_type="row")
            yield Static(id="history-detail")
        yield KeyBar()

    @property
    def directory(self) -> str:
        return str(runs_dir(self.session.config.bench.results_dir))

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        set_titles(self.query_one("#history-panel"), "Benchmark runs", escape(self.directory))
        table.focus()

    def on_screen_resume(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        if not self.loaded:
            update_text(self.query_one("#history-detail", Static), "[dim]Reading saved runs…[/dim]")
        self.run_worker(partial(self._list_runs, self.directory), exclusive=True, exit_on_error=False, group="history-list")

    async def _list_runs(self, directory: str) -> None:
        try:
            runs = await run_in_daemon_thread(lambda: list_runs(directory))
        except Exception as exc:  # noqa: BLE001 - list_runs reports damage per run; anything else, in a line
            self.post_message(RunsListed([], directory, f"cannot read {directory}: {exc}"))
            return
        self.post_message(RunsListed(runs, directory))

    @on(RunsListed)
    def _listed(self, message: RunsListed) -> None:
        self.loaded = True
        self.runs = {run.run_id: run for run in message.runs}
        self.marked = [m for m in self.marked if m in self.runs]
        self._sync_rows(message.runs)
        set_titles(self.query_one("#history-panel"), f"Benchmark runs · {len(message.runs)}", escape(message.directory))
        self._show_detail(message.error)

    def _sync_rows(self, runs: list[SavedRun]) -> None:
        """Rows by run id, cells updated in place; a new run (it goes on top) re-lays the rows."""
        table = self.query_one(DataTable)
        wanted = [run.run_id for run in runs]
        if [k.value for k in table.rows] != wanted:
            keep = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value if table.row_count else None
            table.clear()
            for run in runs:
                table.add_row(*self._cells(run), key=run.run_id)
            if keep in wanted:
                table.move_cursor(row=wanted.index(keep))
            return
        for run in runs:
            for (column, _), value in zip(COLUMNS, self._cells(run)):
                if table.get_cell(run.run_id, column) != value:
                    table.update_cell(run.run_id, column, value)

    def _cells(self, run: SavedRun) -> tuple:
        colours = theme_colors(self.app)
        role = STATUS_ROLE.get(run.status)
        status = Text(run.status, style=getattr(colours, role) if role else "")
        done = sum(1 for s in run.summaries if s.requests)
        return (
            "✓" if run.run_id in self.marked else " ",
            started_text(run),
            status,
            service_text(run),
            (run.server.model if run.server else None) or "n/a",
            run.adapter or "n/a",
            Text(f"{done}/{len(run.cells)}", justify="right"),
            Text(best_text(run), justify="right"),
        )

    def selected(self) -> SavedRun | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.runs.get(key or "")

    @on(DataTable.RowHighlighted, "#history-table")
    def _highlighted(self) -> None:
        self._show_detail()

    @on(DataTable.RowSelected, "#history-table")
    def _selected(self) -> None:
        self.action_open_run()  # enter on the table

    def _show_detail(self, error: str | None = None) -> None:
        detail = self.query_one("#history-detail", Static)
        if error:
            update_text(detail, f"[$error]{escape(error)}[/]")
            return
        if not self.runs:
            update_text(detail, "[b]No saved runs yet.[/b] Press [b]b[/b] to benchmark a service (or run "
                                "[b]spark-tui bench embed --url … --adapter …[/b]); every run is saved here, also a cancelled one.")
            return
        run = self.selected()
        marked = f"[$accent]marked: {', '.join(escape(m) for m in self.marked)}[/] · " if self.marked else ""
        hint = "[dim]enter opens · space marks · c compares two marked runs[/dim]"
        update_text(detail, (describe(run) + "\n" if run else "") + marked + hint)

    # -- actions -------------------------------------------------------------------------------

    def action_mark(self) -> None:
        run = self.selected()
        if run is None:
            return
        if run.run_id in self.marked:
            self.marked.remove(run.run_id)
        else:
            self.marked.append(run.run_id)
            if len(self.marked) > 2:
                self.marked.pop(0)
        table = self.query_one(DataTable)
        for run_id in self.runs:
            if run_id in table.rows:
                value = "✓" if run_id in self.marked else " "
                if table.get_cell(run_id, "mark") != value:
                    table.update_cell(run_id, "mark", value)
        self._show_detail()

    def action_open_run(self) -> None:
        run = self.selected()
        if run is not None:
            self.app.push_screen(RunScreen(self.session, run))

    def action_compare(self) -> None:
        pair = list(self.marked)
        current = self.selected()
        if len(pair) == 1 and current is not None and current.run_id not in pair:
            pair.append(current.run_id)
        if len(pair) != 2:
            self.notify("Mark two runs with space, then press c.", severity="warning")
            return
        self.app.push_screen(CompareScreen(self.session, self.runs[pair[0]], self.runs[pair[1]]))


class RunScreen(LiveScreen):
    """One saved run: what ran, the cell table, throughput through the run, latency vs throughput."""

    BINDINGS = [Binding("escape", "back", "Back", id="run.back")]

    def __init__(self, session: Session, run: SavedRun) -> None:
        super().__init__(session)
        self.run = run

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Vertical(id="run-panel", classes="panel"):
            yield Static(describe(self.run, with_id=False), id="run-facts")
            with Horizontal(id="run-plots"):
                yield ThroughputPlot(id="run-throughput", live=False)
                yield LatencyThroughputPlot(id="run-latency", live=False)
            yield Static(id="run-notes")
            yield CellTable(id="run-cells")
        yield KeyBar()

    def on_mount(self) -> None:
        set_titles(self.query_one("#run-panel"), f"Run {self.run.run_id}", escape(str(self.run.directory)))
        self.query_one(CellTable).focus()
        self._show(self.run, [])
        self.run_worker(partial(self._load, self.run.directory), exclusive=True, exit_on_error=False, group="history-run")

    async def _load(self, directory: Path) -> None:
        run, throughput = await run_in_daemon_thread(lambda: (load_run(directory), read_throughput(directory)))
        self.post_message(RunLoaded(run, throughput))

    @on(RunLoaded)
    def _loaded(self, message: RunLoaded) -> None:
        self.run = message.run
        self._show(message.run, message.throughput)

    def _show(self, run: SavedRun, throughput: list[SecondPoint]) -> None:
        unit = unit_of(run)
        update_text(self.query_one("#run-facts", Static), describe(run, with_id=False))
        self.query_one(CellTable).show_summaries(unit, run.summaries)
        self.query_one(ThroughputPlot).show(unit, throughput)
        self.query_one(LatencyThroughputPlot).show(unit, run.summaries)
        notes = cell_notes(run.summaries)
        update_text(self.query_one("#run-notes", Static), "\n".join(f"[$warning]{escape(n)}[/]" for n in notes[-4:]))
        set_display(self.query_one("#run-notes"), bool(notes))

    def action_back(self) -> None:
        self.dismiss()


class CompareScreen(LiveScreen):
    """Two runs side by side: matching cells (payload, batch, concurrency) with B/A ratios."""

    BINDINGS = [Binding("escape", "back", "Back", id="compare.back")]

    def __init__(self, session: Session, a: SavedRun, b: SavedRun) -> None:
        super().__init__(session)
        self.a, self.b = a, b
        self.generation = False
        self.compare_columns: tuple[tuple[str, str], ...] = ()

    def compose(self) -> ComposeResult:
        yield StatusBar()
        with Vertical(id="compare-panel", classes="panel"):
            with Horizontal(id="compare-facts"):
                yield Static(id="compare-a", classes="compare-run")
                yield Static(id="compare-b", classes="compare-run")
            yield LatencyThroughputPlot(id="compare-latency", live=False)
            yield DataTable(id="compare-table", cursor_type="row")
        yield KeyBar()

    def on_mount(self) -> None:
        set_titles(self.query_one("#compare-panel"), "Compare runs", "B/A above 1: B is faster")
        table = self.query_one(DataTable)
        unit = unit_of(self.a)
        generation = is_generation(self.a) or is_generation(self.b)
        self.generation = generation
        # generation cells: in/out lengths instead of payload and batch, TTFT p99 instead of the request's
        first = (("payload", "In/out"),) if generation else (("payload", "Payload"), ("batch", "Batch"))
        p99 = "TTFT p99" if generation else "p99"
        self.compare_columns = (*first, ("conc", "Conc"), ("a", f"A {unit}/s"), ("b", f"B {unit}/s"), ("ratio", "B/A"),
                                ("a99", f"A {p99} ms"), ("b99", f"B {p99} ms"), ("sa", "A status"), ("sb", "B status"))
        for key, label in self.compare_columns:
            table.add_column(label, key=key)
        table.focus()
        self._show(self.a, self.b, compare_runs(self.a, self.b))
        self.run_worker(partial(self._load, self.a.directory, self.b.directory), exclusive=True, exit_on_error=False, group="history-compare")

    async def _load(self, a: Path, b: Path) -> None:
        first, second = await run_in_daemon_thread(lambda: (load_run(a), load_run(b)))
        self.post_message(RunsCompared(first, second, compare_runs(first, second)))

    @on(RunsCompared)
    def _compared(self, message: RunsCompared) -> None:
        self.a, self.b = message.a, message.b
        self._show(message.a, message.b, message.rows)

    def _show(self, a: SavedRun, b: SavedRun, rows: list[CellComparison]) -> None:
        update_text(self.query_one("#compare-a", Static), "[b $accent]A[/]  " + describe(a))
        update_text(self.query_one("#compare-b", Static), "[b $accent]B[/]  " + describe(b))
        unit = unit_of(a)
        series = [Series(f"A {s.label}", s.summaries, "primary-lighten-1") for s in batch_series(a.summaries)]
        series += [Series(f"B {s.label}", s.summaries, "accent") for s in batch_series(b.summaries)]
        self.query_one(LatencyThroughputPlot).show_series(unit, series)
        colours = theme_colors(self.app)
        table = self.query_one(DataTable)
        wanted = {f"{r.payload}|{r.batch}|{r.concurrency}|{r.input_tokens}|{r.output_tokens}": r for r in rows}
        for key in [k.value for k in table.rows if k.value not in wanted]:
            table.remove_row(key)
        for key, row in wanted.items():
            ratio = row.items_per_s_ratio
            role = None if ratio is None else ("success" if ratio >= 1.05 else "error" if ratio <= 0.95 else None)
            first = ((f"{row.input_tokens}/{row.output_tokens}" if row.input_tokens is not None else row.payload),) if self.generation \
                else (row.payload, Text(str(row.batch), justify="right"))
            cells = (
                *first, Text(str(row.concurrency), justify="right"),
                Text(_rate(row.a), justify="right"), Text(_rate(row.b), justify="right"),
                Text(f"{ratio:.2f}×" if ratio is not None else "n/a", justify="right", style=getattr(colours, role) if role else ""),
                Text(_p99(row.a), justify="right"), Text(_p99(row.b), justify="right"),
                row.a.status if row.a else "—", row.b.status if row.b else "—",
            )
            if key in table.rows:
                for (column, _), value in zip(self.compare_columns, cells):
                    if table.get_cell(key, column) != value:
                        table.update_cell(key, column, value)
            else:
                table.add_row(*cells, key=key)

    def action_back(self) -> None:
        self.dismiss()


def _rate(summary) -> str:  # type: ignore[no-untyped-def]
    if summary is None or summary.items_per_s is None:
        return "n/a"
    return f"{summary.items_per_s:,.0f}" if summary.items_per_s >= 100 else f"{summary.items_per_s:.1f}"


def _p99(summary) -> str:  # type: ignore[no-untyped-def]
    latency = cell_latency(summary) if summary is not None else None  # TTFT for generation cells
    if latency is None:
        return "n/a"
    return f"{latency.p99 * 1000:.1f}"
