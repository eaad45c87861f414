"""Inference (key `i`): every model server, with graphs of its own — generation and prompt
tokens/s, running and waiting requests, KV-cache use, TTFT and inter-token latency (p50, p95
in the title) — or what keeps it from having figures (metrics off: how to turn them on)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Grid, Vertical, VerticalScroll
from textual.widgets import Static

from spark_tui.core import format as fmt
from spark_tui.core.inference.engines import engine_label
from spark_tui.models.inference import InferenceFigures, ProblemKind
from spark_tui.ui.changes import Changed
from spark_tui.ui.dashboard.gpu_panel import nice_ceiling
from spark_tui.ui.inference.panel import count, seconds, text, tokens
from spark_tui.ui.screens.mode_screen import ModeScreen
from spark_tui.ui.widgets.key_bar import KeyBar
from spark_tui.ui.widgets.status_bar import StatusBar
from spark_tui.ui.widgets.text import set_display, set_titles, update_text
from spark_tui.ui.widgets.text_lines import TextLines
from spark_tui.ui.widgets.trend_chart import MetricChart

if TYPE_CHECKING:
    from spark_tui.core.inference.scrape import InferenceTarget
    from spark_tui.ui.inference.controller import InferenceController

EMPTY = ("No inference servers known. Start a model server's container (vLLM, SGLang, llama.cpp, TGI, NIM, "
         "Ollama…) or add an [[inference]] entry with its url to the config file.")


class ServerView(Vertical):
    """One server: a facts line, then its graphs (or its problem)."""

    DEFAULT_CSS = """
    ServerView {
        height: auto;
    }
    ServerView .server-facts {
        height: auto;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    ServerView .server-problem {
        height: auto;
    }
    ServerView .server-charts {
        height: 10;
        grid-size: 3;
        grid-rows: 5;
        grid-gutter: 0 2;
    }
    ServerView MetricChart {
        height: 100%;
    }
    """

    def __init__(self, name: str) -> None:
        super().__init__(classes="panel inference-server")
        self.server = name

    def compose(self) -> ComposeResult:
        self._facts = TextLines(classes="server-facts")
        self._problem = Static(classes="server-problem")
        self._charts = {
            "gen": MetricChart("Generation tok/s"),
            "prompt": MetricChart("Prompt tok/s"),
            "running": MetricChart("Running · waiting"),
            "kv": MetricChart("KV cache"),
            "ttft": MetricChart("TTFT p50"),
            "itl": MetricChart("ITL p50"),
        }
        yield self._facts
        yield self._problem
        with Grid(classes="server-charts") as self._grid:
            yield from self._charts.values()

    def show(self, item: InferenceFigures | InferenceTarget, controller: InferenceController, now: float) -> None:
        name = text(item.name, 40)
        if not isinstance(item, InferenceFigures):
            set_titles(self, name)
            self._facts.show("[$foreground-muted]waiting for the first scrape…[/]")
            self._set_charts(False)
            set_display(self._problem, False)
            return
        engine = engine_label(item.engine) or "engine unknown"
        set_titles(self, f"{name} · {engine}", text(item.display_url, 60))
        problem = item.problem if item.problem_kind in (ProblemKind.ERROR, ProblemKind.METRICS_OFF) else None
        note = item.problem if item.problem_kind is ProblemKind.NOTE else None
        facts = [f"[b]{text(item.model or fmt.NA, 60)}[/b]"]
        if item.loaded_models:
            facts.append("loaded: " + ", ".join(
                f"{text(m.name, 40)} {fmt.size(m.vram_bytes)}" for m in item.loaded_models))
        if not item.loaded_models:
            facts.append(f"requests/s {tokens(item.requests_per_s)}")
        if item.prefix_cache_hit_rate is not None:
            facts.append(f"prefix cache hits {item.prefix_cache_hit_rate * 100:.0f}%")
        self._facts.show("  ·  ".join(facts))
        if problem or note:
            role = "$warning" if item.problem_kind is ProblemKind.METRICS_OFF else (
                "$error" if problem else "$foreground-muted")
            update_text(self._problem, f"[{role}]{text(problem or note, 400)}[/]")
        set_display(self._problem, bool(problem or note))
        rates = item.ok and not item.loaded_models
        self._set_charts(rates)
        if rates:
            self._draw_charts(item, controller, now)

    def _set_charts(self, shown: bool) -> None:
        set_display(self._grid, shown)

    def _draw_charts(self, item: InferenceFigures, controller: InferenceController, now: float) -> None:
        history = controller.history
        span = history.span
        gap = controller.targets[item.name].interval * 2.5 if item.name in controller.targets else 2.5
        key = item.name

        def series(suffix: str):
            return history.series(f"{key}.{suffix}")

        gen, prompt = series("gen"), series("prompt")
        self._charts["gen"].show(tokens(item.generation_tokens_per_s), gen.points, now=now, span=span, max_gap=gap,
                                 hi=nice_ceiling(max(gen.peak() or 0, 10) * 1.1), note=f"peak {tokens(gen.peak())}")
        self._charts["prompt"].show(tokens(item.prompt_tokens_per_s), prompt.points, now=now, span=span,
                                    max_gap=gap, hi=nice_ceiling(max(prompt.peak() or 0, 10) * 1.1),
                                    note=f"peak {tokens(prompt.peak())}")
        running, waiting = series("running"), series("waiting")
        # Running and waiting stacked: the whole height is both, the lower colour the queue.
        waiting_by_time = dict(waiting.points)
        stacked = [(at, None if value is None else value + (waiting_by_time.get(at) or 0)) for at, value in running.points]
        peak = max((v for _, v in stacked if v is not None), default=0)
        self._charts["running"].show(f"{count(item.running)} · {count(item.waiting)}", stacked, now=now, span=span,
                                     max_gap=gap, hi=nice_ceiling(max(peak, 4)), lower=list(waiting.points),
                                     note="waiting in the lower colour")
        kv = series("kv")
        self._charts["kv"].show(fmt.percent(None if item.kv_cache_usage is None else item.kv_cache_usage * 100),
                                kv.points, now=now, span=span, max_gap=gap, note=f"peak {fmt.percent(kv.peak())}")
        ttft50, ttft95 = series("ttft50"), series("ttft95")
        self._charts["ttft"].show(seconds(item.ttft.p50), ttft50.points, now=now, span=span, max_gap=gap,
                                  hi=nice_ceiling(max(ttft95.peak() or ttft50.peak() or 0, 0.1)),
                                  lower=None, note=f"p95 {seconds(item.ttft.p95)}")
        itl50 = series("itl50")
        itl_value = item.itl.p50 if item.itl.p50 is not None else item.itl.mean
        self._charts["itl"].show(seconds(itl_value), itl50.points, now=now, span=span, max_gap=gap,
                                 hi=nice_ceiling(max(series("itl95").peak() or itl50.peak() or 0, 0.01)),
                                 note="mean" if item.itl.p50 is None and item.itl.mean is not None else f"p95 {seconds(item.itl.p95)}")


class InferenceScreen(ModeScreen):
    def compose(self) -> ComposeResult:
        yield StatusBar()
        with VerticalScroll(id="inference-servers"):
            yield Static(EMPTY, id="inference-empty", classes="panel")
        yield KeyBar()

    @property
    def controller(self) -> InferenceController:
        return self.session.inference

    _ready = False

    def on_mount(self) -> None:
        self._ready = True
        self._views: dict[str, ServerView] = {}
        self.show()

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.show()

    def show_changes(self, changed: Changed) -> None:
        super().show_changes(changed)
        if changed & (Changed.INFERENCE | Changed.GPU):
            self.show()

    def show(self) -> None:
        if not self._ready:
            return
        controller = self.controller
        items = controller.ordered()
        set_display(self.query_one("#inference-empty"), not items)
        wanted = {item.name for item in items}
        for name in set(self._views) - wanted:
            self._views.pop(name).remove()
        scroll = self.query_one("#inference-servers", VerticalScroll)
        machine = self.session.machine
        now = max(controller.sampled_at or 0.0, machine.gpu.taken_at if machine.gpu is not None else 0.0)
        for item in items:
            view = self._views.get(item.name)
            if view is None:
                view = self._views[item.name] = ServerView(item.name)
                scroll.mount(view)
                self.call_after_refresh(self.show)  # drawn once its charts exist
                continue
            if view.is_mounted and hasattr(view, "_charts"):
                view.show(item, controller, now)
