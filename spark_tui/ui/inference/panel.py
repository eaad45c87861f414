"""The dashboard's inference panel: the generation tokens/s of every model server on the GPU
graphs' time axis (the same 30-cell facts column, so the same chart width and span), tokens per
joule, and one line per server. Hidden while no server is known, and on a short terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.widget import Widget

from spark_tui.core import format as fmt
from spark_tui.core.inference.engines import engine_label
from spark_tui.core.machine.history import History
from spark_tui.core.untrusted import clean
from spark_tui.models.inference import InferenceFigures, ProblemKind
from spark_tui.ui.dashboard.gpu_panel import nice_ceiling
from spark_tui.ui.markup import escape
from spark_tui.ui.widgets.text import set_titles
from spark_tui.ui.widgets.text_lines import TextLines
from spark_tui.ui.widgets.trend_chart import MetricChart

if TYPE_CHECKING:
    from spark_tui.core.inference.scrape import InferenceTarget
    from spark_tui.ui.inference.controller import InferenceController

MAX_NAME = 14
MAX_MODEL = 28


def text(value: object, limit: int) -> str:
    """A server's words, cleaned and escaped for markup, cut to `limit` cells."""
    shown = clean(str(value))
    if len(shown) > limit:
        shown = shown[: limit - 1] + "…"
    return escape(shown)


def tokens(value: float | None) -> str:
    if value is None:
        return fmt.NA
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def seconds(value: float | None) -> str:
    if value is None:
        return fmt.NA
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def count(value: float | None) -> str:
    return fmt.NA if value is None else f"{value:g}"


def server_line(item: InferenceFigures | InferenceTarget, name_width: int) -> str:
    """One server: engine, model, running/waiting, tokens/s, KV cache, TTFT p50 — or its problem."""
    name = text(item.name, name_width)
    pad = " " * max(0, name_width - len(clean(item.name)[:name_width]))
    if not isinstance(item, InferenceFigures):
        return f"[$foreground-muted]○ {name}{pad}  waiting for the first scrape…[/]"
    engine = engine_label(item.engine) or "?"
    if not item.ok:
        role = "$warning" if item.problem_kind is ProblemKind.METRICS_OFF else "$error"
        return f"[{role}]▲[/] {name}{pad}  {engine:<9} [{role}]{text(item.problem or 'no figures', 200)}[/]"
    model = text(item.model or fmt.NA, MAX_MODEL)
    parts = [f"[$success]●[/] {name}{pad}  {engine:<9} [$foreground-muted]{model}[/]"]
    if item.generation_tokens_per_s is None and item.running is None and item.loaded_models:
        loaded = ", ".join(m.name for m in item.loaded_models)
        parts.append(f"[$foreground-muted]loaded: {text(loaded, 60)} · no token rates[/]")
        return "  ".join(parts)
    parts.append(f"run {count(item.running)} wait {count(item.waiting)}")
    parts.append(f"gen [b]{tokens(item.generation_tokens_per_s)}[/b] tok/s")
    parts.append(f"prompt {tokens(item.prompt_tokens_per_s)} tok/s")
    kv = item.kv_cache_usage
    parts.append(f"KV {fmt.NA if kv is None else f'{kv * 100:.0f}%'}")
    parts.append(f"TTFT {seconds(item.ttft.p50)}")
    return "  ".join(parts)


def name_width(items: list[InferenceFigures | InferenceTarget]) -> int:
    return min(MAX_NAME, max((len(clean(i.name)) for i in items), default=4))


def gpu_watts(gpu_powers: list[float | None]) -> float | None:
    watts = [w for w in gpu_powers if w is not None]
    return sum(watts) if watts else None


def per_joule_markup(generation: float | None, watts: float | None, servers: int) -> str:
    """Generation tokens per joule (tokens/s ÷ GPU watts); an estimate when several servers share the GPU."""
    if generation is None or not watts:
        return fmt.NA
    value = generation / watts
    shown = f"{value:.2f}" if value < 10 else f"{value:.0f}"
    return f"≈{shown} [dim]est.[/]" if servers > 1 else shown  # the GPU's watts are several servers' work


class InferencePanel(Widget):
    DEFAULT_CSS = """
    InferencePanel.-empty {
        display: none;
    }
    InferencePanel {
        height: auto;
        layout: grid;
        grid-size: 2;
        grid-columns: 30 1fr;
        grid-rows: 3 auto;
    }
    InferencePanel .inference-facts {
        height: 3;
        padding-right: 1;
    }
    InferencePanel MetricChart {
        height: 100%;
    }
    InferencePanel .inference-rows {
        column-span: 2;
        height: auto;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, controller: InferenceController, *, id: str | None = "dashboard-inference") -> None:
        super().__init__(id=id, classes="panel")
        self.border_title = "Inference"
        self.controller = controller
        self._ready = False
        self._stale = False
        self._gpu: tuple[list[float | None], float | None] = ([], None)

    def compose(self) -> ComposeResult:
        self._facts = TextLines(classes="inference-facts")
        self._chart = MetricChart("Generation tok/s", classes="inference-chart")
        self._rows = TextLines(classes="inference-rows")
        yield from (self._facts, self._chart, self._rows)

    def on_mount(self) -> None:
        self._ready = True
        self.show()

    def on_show(self) -> None:
        if self._stale:
            self.show()

    def show(self, gpu_powers: list[float | None] | None = None, now: float | None = None,
             history: History | None = None) -> None:
        """Draw from the controller; `gpu_powers`, `now` and `history` come with each GPU sample (the time axis)."""
        if gpu_powers is not None:
            self._gpu = (gpu_powers, now)
        self._history = history or getattr(self, "_history", None)
        controller = self.controller
        self.set_class(not controller.figures, "-empty")  # the stylesheet hides it then (and when short)
        if not self._ready:
            return  # on_mount draws
        if not controller.figures or not self.display:
            self._stale = True  # drawn when shown
            return
        self._stale = False
        items = controller.ordered()
        width = name_width(items)
        self._rows.show("\n".join(server_line(item, width) for item in items))
        total = controller.total_generation()
        powers, gpu_now = self._gpu
        watts = gpu_watts(powers)
        servers = controller.sharing_servers()
        self._facts.show(
            f"[b]{'Tokens/s':<12}[/b]{tokens(total)}\n"
            f"[b]{'Tokens/J':<12}[/b]{per_joule_markup(total, watts, servers)}\n"
            f"[b]{'GPU power':<12}[/b]{fmt.number(watts, 'W', 1)}"
        )
        set_titles(self, f"Inference · {len(items)} server{'s' if len(items) != 1 else ''}")
        series = controller.history.series("total.gen")
        span = self._history.span if self._history is not None else controller.history.span
        now = max(gpu_now or 0.0, controller.sampled_at or 0.0)
        top = nice_ceiling(max(series.peak() or 0.0, 10.0) * 1.1)
        interval = min((t.interval for t in controller.targets.values()), default=1.0)
        self._chart.show(tokens(total), series.points, now=now, span=span, hi=top, max_gap=interval * 2.5,
                         note=f"peak {tokens(series.peak())}")
