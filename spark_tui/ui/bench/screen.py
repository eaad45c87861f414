"""Benchmark (key `b`): a form with the sweep to run, then the run live — throughput per second,
rolling p50/p99, progress, errors as they happen, the GPU beside it — and at the end a table
per cell and latency against throughput per batch size. `x` (or ctrl+c) cancels and keeps
what was measured. A generation run streams output tokens per second and its rolling TTFT and
ITL (p50/p99 over the last 5 s) instead of per-request latency."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from spark_tui.ui.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Static

from spark_tui.core import format as fmt
from spark_tui.core.bench.adapters import adapter_class
from spark_tui.core.bench.live import LiveRun
from spark_tui.core.bench.plan import BenchPlan, PlanError
from spark_tui.core.bench.plan_form import uses_pages
from spark_tui.core.bench.stats import best_cell
from spark_tui.core.machine.state import MachineState
from spark_tui.ui.screens.mode_screen import ModeScreen
from spark_tui.ui.bench.form import BenchForm
from spark_tui.ui.bench.cell_table import CellTable
from spark_tui.ui.widgets.key_bar import KeyBar
from spark_tui.ui.widgets.status_bar import StatusBar
from spark_tui.ui.widgets.text import set_display, set_titles, update_text
from spark_tui.ui.bench.plots import LatencyThroughputPlot, ThroughputPlot, cell_latency
from spark_tui.ui.changes import Changed
from spark_tui.ui.widgets.trend_chart import MetricChart

if TYPE_CHECKING:
    from spark_tui.ui.bench.controller import BenchController

NOTICE_LINES = 3
LEVEL_ROLE = {"info": "$foreground-muted", "warning": "$warning", "error": "$error"}
DEMO_NOTE = (
    "[b]Demo[/b]: the demo services do not answer; a benchmark always measures the real server at the URL you give "
    "(a checkout has one to try: [b]python bench/loopback_server.py[/b]). Runs save this machine's memory, no GPU figures."
)


def bar(fraction: float, width: int) -> str:
    fraction = min(1.0, max(0.0, fraction))
    full = int(fraction * width)
    rest = "╺" + "━" * (width - full - 1) if full < width else ""
    return f"[$accent]{'━' * full}[/][$foreground-muted 40%]{rest}[/]"


def ms(seconds: float | None) -> str:
    if seconds is None:
        return fmt.NA
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def payload_words(adapter: str | None, payloads: list[str] | tuple[str, ...], text_words: int | None, doc_pages: int | None,
                  kind: str | None = None) -> str:
    """What each item of the run was: "200-word texts", "1080p, 4k frames", "4-page pdf documents"."""
    cls = find_adapter(adapter, kind)
    which = ", ".join(payloads)
    if cls is None or cls.kind == "generate":
        return which
    if uses_pages(cls):
        return f"{doc_pages}-page {which} documents" if doc_pages else f"{which} documents"
    if cls.kind == "embed":
        return f"{text_words}-word {cls.unit}" if text_words else cls.unit
    return f"{which} {cls.unit}"


def find_adapter(adapter: str | None, kind: str | None = None):  # type: ignore[no-untyped-def]
    """The adapter class a plan or a saved run names (with its kind: `ollama` embeds and generates), or None."""
    try:
        return adapter_class(adapter or "", kind if kind in ("embed", "parse", "generate") else None)  # type: ignore[arg-type]
    except ValueError:
        return None


def lengths_words(lengths: list[tuple[int, int]] | tuple[tuple[int, int], ...]) -> str:
    """"in/out 512/128, 2048/128" (the first few; a long sweep says how many)."""
    pairs = [f"{i}/{o}" for i, o in lengths]
    return "in/out " + (", ".join(pairs) if len(pairs) <= 4 else ", ".join(pairs[:3]) + f" … {len(pairs)} lengths")


def slo_words(slo: dict[str, float]) -> str:
    return "SLO " + " ".join(f"{name} {ms(limit)}" for name, limit in slo.items()) if slo else ""


def plan_payload_words(plan: BenchPlan) -> str:
    return payload_words(plan.adapter, plan.payload_variants, plan.payload.text_words, plan.payload.doc_pages, plan.kind)


def rate(value: float | None) -> str:
    if value is None:
        return fmt.NA
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


class BenchScreen(ModeScreen):
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (130, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    BINDINGS = [
        Binding("x", "cancel_run", "Cancel run", id="bench.cancel"),
        Binding("ctrl+c", "cancel_run", "Cancel run", show=False, id="bench.cancel_ctrl_c"),
        Binding("n", "new_run", "New run", id="bench.new"),
        Binding("v", "toggle_plot", "Latency plot", id="bench.plot"),
        Binding("escape", "leave_form", "Leave the form", id="bench.leave_form"),
    ]

    def compose(self) -> ComposeResult:
        controller = self.controller
        yield StatusBar()
        with ContentSwitcher(initial="bench-setup", id="bench-views"):
            with Vertical(id="bench-setup", classes="panel"):
                yield Static(DEMO_NOTE, id="bench-demo")
                yield BenchForm(controller.settings, controller.results_dir, id="bench-form")
            with Vertical(id="bench-run"):
                yield Static(id="bench-header")
                with Horizontal(id="bench-graphs"):
                    yield ThroughputPlot(id="bench-throughput")
                    yield LatencyThroughputPlot(id="bench-latency")
                    with Vertical(id="bench-machine"):
                        simulated = " (demo)" if self.session.demo else ""
                        yield MetricChart(f"GPU{simulated}", classes="bench-gpu-util")
                        yield MetricChart(f"Power{simulated}", classes="bench-gpu-power")
                        yield MetricChart(f"Memory{simulated}", classes="bench-memory memory-chart")
                yield Static(id="bench-progress")
                yield Static(id="bench-notices")
                yield CellTable(id="bench-cells")
        yield KeyBar()

    @property
    def controller(self) -> BenchController:
        return self.session.bench

    _ready = False
    latency_view = False  # narrow screens: the latency plot instead of the throughput one

    def on_mount(self) -> None:
        set_display(self.query_one("#bench-demo"), self.session.demo)
        self._ready = True
        self.sync_view()

    def on_screen_resume(self) -> None:
        if self._showing() == self.query_one(ContentSwitcher).current and not self.controller.form_pending:
            # the same view as when it was left: show it at once, bring its figures up to date after
            self.call_after_refresh(self._catch_up)
        else:
            self.sync_view()

    def _showing(self) -> str:
        return "bench-setup" if self.controller.live is None else "bench-run"

    def _catch_up(self) -> None:
        if self.controller.live is not None:
            self.show_run(self.controller, {"header", "plot", "progress", "cells", "notices"})
        self.show_machine(self.session.machine)

    def sync_view(self) -> None:
        """Show the form or the run, whichever is current, up to date and focused."""
        controller = self.controller
        views = self.query_one(ContentSwitcher)
        views.current = self._showing()
        if controller.live is None:
            set_titles(self.query_one("#bench-setup"), "New benchmark", "enter starts")
            if controller.form_pending:
                controller.form_pending = False
                self.query_one(BenchForm).load(controller.draft, controller.targets(), controller.selected)
            self.query_one("#form-url").focus()
        else:
            self.show_run(controller, {"header", "plot", "progress", "cells", "notices"})
            self.query_one(CellTable).focus()
        self.show_machine(self.session.machine)
        self.refresh_bindings()  # x / n / v follow the view

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        controller = self.controller
        if action == "cancel_run":
            return controller.running
        if action == "new_run":
            return controller.live is not None and not controller.running
        if action == "toggle_plot":
            return controller.live is not None and not self.has_class("-wide")
        if action == "leave_form":
            return controller.live is None
        return True

    # -- actions --------------------------------------------------------------------------

    @on(BenchForm.StartRequested)
    def _start(self, event: BenchForm.StartRequested) -> None:
        try:
            self.controller.start(event.plan)
        except PlanError as exc:
            self.query_one(BenchForm).show_problem(str(exc))
            return
        self.latency_view = False
        self.sync_view()
        self.refresh_bindings()

    def action_cancel_run(self) -> None:
        if self.controller.cancel():
            self.show_run(self.controller, {"notices"})

    def action_new_run(self) -> None:
        self.controller.new_run()
        self.sync_view()
        self.refresh_bindings()

    def action_leave_form(self) -> None:
        """Keys go to the form's fields while one has focus; escape hands them back to the app."""
        self.query_one("#form-start").focus()

    def action_toggle_plot(self) -> None:
        self.latency_view = not self.latency_view
        self._arrange_plots(self.controller.live)

    # -- drawing ----------------------------------------------------------------------------

    def show_changes(self, changed: Changed) -> None:
        super().show_changes(changed)
        if changed & Changed.BENCH:
            self.show_run(self.controller, self.controller.take_parts())
        if changed & Changed.MACHINE:
            self.show_machine(self.session.machine)

    def show_run(self, controller: BenchController, parts: set[str]) -> None:
        live = controller.live
        if not self._ready or live is None:
            return
        if self.query_one(ContentSwitcher).current != "bench-run":
            self.sync_view()
            return
        if "header" in parts:
            self._show_header(live)
        if "plot" in parts:
            self._show_plots(live)
        if "progress" in parts or "header" in parts:
            self._show_progress(live)
        if "notices" in parts:
            self._show_notices(live)
        if "cells" in parts:
            self.query_one(CellTable).show_live(live.unit, sorted(live.cells.values(), key=lambda c: c.spec.index))
        if "header" in parts:
            self.refresh_bindings()

    def _show_header(self, live: LiveRun) -> None:
        plan, server = live.plan, live.server
        who = escape(plan.service or plan.url)
        facts = [f"[b]{who}[/b]", escape(plan.adapter)]
        if plan.service:
            facts.append(escape(server.url if server else plan.url))
        if server is not None:
            facts += [escape(f) for f in (server.server, f"model {server.model}" if server.model else None) if f]
        # frames or documents of one kind: the cell table has no payload column then, say it here
        limits = [escape(plan_payload_words(plan))] if plan.kind == "parse" and len(plan.payload_variants) == 1 else []
        if plan.kind == "generate":
            limits += [escape(w) for w in (lengths_words(plan.lengths), slo_words(plan.slo_map)) if w]
        if plan.options.path:
            limits.append(f"POST {escape(plan.options.path)}")
        if server is not None:
            if server.max_batch:
                limits.append(f"max batch {server.max_batch}")
            if server.dimension:
                limits.append(f"dimension {server.dimension}")
            if server.warmup_s:
                limits.append(f"warm-up {', '.join(ms(s) for s in server.warmup_s[:3])}")
        where = f"run {escape(live.run_id)}" if live.run_id else ("warming up" if live.warmup is not None else "starting the benchmark process…")
        second = " · ".join(limits + [where])
        update_text(self.query_one("#bench-header", Static), " · ".join(facts) + f"\n[dim]{second}[/dim]")

    def _arrange_plots(self, live: LiveRun | None) -> None:
        wide = self.has_class("-wide")
        finished_cells = bool(live and any(c.summary and cell_latency(c.summary) for c in live.cells.values()))
        if live is not None and not live.running and finished_cells and self._switched_for != live.run_id:
            self._switched_for = live.run_id  # the run ended: its latency plot comes forward, once
            self.latency_view = True
        if wide:
            show_latency, show_throughput = finished_cells, True
        else:
            show_latency, show_throughput = self.latency_view, not self.latency_view
        set_display(self.query_one(LatencyThroughputPlot), show_latency)
        set_display(self.query_one(ThroughputPlot), show_throughput)

    _switched_for: str | None = None

    def _show_plots(self, live: LiveRun) -> None:
        self._arrange_plots(live)
        tick = live.tick
        open_t = (tick.t + 1) if tick is not None and live.running else None
        self.query_one(ThroughputPlot).show(live.unit, list(live.seconds), open_t=open_t, open_items=live.open_items if live.running else 0)
        self.query_one(LatencyThroughputPlot).show(live.unit, live.summaries)

    def _show_progress(self, live: LiveRun) -> None:
        # a generation cell's label is longer (in=2048 out=128 c=1): narrower bars keep the line on one row at 80 columns
        width = (8 if live.plan.kind == "generate" else 12) if self.has_class("-narrow") else 24
        tick = live.tick
        warmup = live.warmup if live.phase == "starting" else None
        if warmup is not None:  # a warm-up request is waiting for its answer (a model loading, or a stuck server)
            first = f"{escape(warmup.text())}  {bar(warmup.waited_s / warmup.timeout_s, width)}"
        elif live.phase == "starting":
            first = "[b]starting[/b]: pre-flight checks and warm-up requests…"
        elif live.running:
            cell = live.current_cell
            if cell is not None:
                label = f"cell {cell.spec.index + 1}/{live.total_cells} [b]{escape(cell.spec.label)}[/b] {bar(cell.progress, width)} {cell.progress:4.0%}"
            else:
                label = f"cell {live.cells_done}/{live.total_cells}"
            eta = live.eta_s()
            left = f" · {fmt.duration(eta)} left" if eta is not None else ""
            first = f"{label}   run {bar(live.run_progress, width)} {live.run_progress:4.0%}{left}"
        else:
            result = live.result
            status = result.status if result else "finished"
            role = {"completed": "$success", "cancelled": "$warning"}.get(status, "$error")
            took = fmt.duration(result.finished_at - result.started_at) if result and result.finished_at else fmt.NA
            first = f"[{role}][b]{status}[/b][/] · {live.cells_done}/{live.total_cells} cells · {took}"
            best = best_cell(live.summaries)
            if best is not None:
                first += f" · best [b]{rate(best.items_per_s)} {live.unit}/s[/b] ({escape(best.spec.label)})"
        if live.running and tick is not None and tick.cell is not None and live.plan.kind == "generate":
            # p50/p99 of time to first token and between tokens, over the last 5 s
            window = "" if self.has_class("-narrow") else " [dim]p50/p99, last 5 s[/dim]"
            second = (f"[b]{rate(tick.items_per_s)}[/b] {live.unit}/s · {rate(tick.requests_per_s)} req/s · "
                      f"TTFT [b]{ms(tick.ttft_p50_s)}[/b]/{ms(tick.ttft_p99_s)} · ITL [b]{ms(tick.itl_p50_s)}[/b]/{ms(tick.itl_p99_s)}{window}")
        elif live.running and tick is not None and tick.cell is not None:
            window = "" if self.has_class("-narrow") else " [dim](last 5 s)[/dim]"
            second = (f"[b]{rate(tick.items_per_s)}[/b] {live.unit}/s · {rate(tick.requests_per_s)} req/s · "
                      f"p50 [b]{ms(tick.p50_s)}[/b] · p99 [b]{ms(tick.p99_s)}[/b]{window}")
        elif warmup is not None:
            second = "[dim]warm-up answers are not measured; the sweep starts after them · x cancels[/dim]"
        elif live.running:
            second = "[dim]waiting for the first measured second…[/dim]"
        else:
            second = f"[dim]results in {escape(live.run_dir)}[/dim]" if live.run_dir else "[dim]nothing was saved[/dim]"
        if live.errors:
            second += f" · [$error]{escape(live.error_line())}[/]"
        update_text(self.query_one("#bench-progress", Static), f"{first}\n{second}")

    def _show_notices(self, live: LiveRun) -> None:
        lines = []
        for notice in list(live.notices)[-(1 if self.has_class("-short") else NOTICE_LINES):]:
            when = time.strftime("%H:%M:%S", time.localtime(notice.at))
            lines.append(f"[dim]{when}[/dim] [{LEVEL_ROLE[notice.level]}]{escape(notice.message)}[/]")
        notices = self.query_one("#bench-notices", Static)
        update_text(notices, "\n".join(lines))
        set_display(notices, bool(lines))

    def show_machine(self, state: MachineState) -> None:
        if not self._ready:
            return
        self.sync_status_bar()
        if self.query_one(ContentSwitcher).current != "bench-run":
            return
        history = state.history
        sampled = [s.taken_at for s in (state.gpu, state.system) if s is not None]
        now = max(sampled, default=time.time())
        span, gap = history.span, history.interval * 2.5
        gpu = state.gpu.gpus[0] if state.gpu is not None and state.gpu.gpus else None
        prefix = f"gpu{gpu.index}" if gpu is not None else "gpu0"
        self.query_one(".bench-gpu-util", MetricChart).show(
            fmt.percent(gpu.utilization_pct if gpu else None), history.series(f"{prefix}.util").points, now=now, span=span, max_gap=gap)
        power = history.series(f"{prefix}.power")
        top = (gpu.power_limit_w if gpu else None) or max(power.peak() or 0, 50) * 1.2
        self.query_one(".bench-gpu-power", MetricChart).show(
            fmt.number(gpu.power_w if gpu else None, "W"), power.points, now=now, span=span, hi=top, max_gap=gap)
        memory = state.memory
        total = memory.total if memory else None
        self.query_one(".bench-memory", MetricChart).show(
            fmt.gib(memory.used if memory else None), history.series("mem.used").points, now=now, span=span,
            hi=float(total or 1), max_gap=gap, lower=history.series("mem.gpu").points if memory and memory.unified else None)
