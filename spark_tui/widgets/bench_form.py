"""The form shown before a benchmark starts: which service, and the sweep (pre-filled with
`plan_for_service` defaults). Enter in any field, or the Start button, asks to start."""

from __future__ import annotations

from dataclasses import replace

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, Static

from spark_tui import format as fmt
from spark_tui.bench.adapters import ADAPTERS, adapter_class
from spark_tui.bench.plan import BenchPlan, PlanError, plan_for_service
from spark_tui.bench.plan_form import FormValues, plan_from_values, values_from_plan
from spark_tui.bench_targets import BenchTarget
from spark_tui.config import BenchConfig
from spark_tui.widgets.text import update_text

CUSTOM = "__custom__"
FIELDS = ("url", "model", "batch_sizes", "concurrencies", "seconds", "requests", "payloads")


class BenchForm(VerticalScroll):
    DEFAULT_CSS = """
    BenchForm {
        height: auto;
        max-height: 100%;
    }
    BenchForm .form-row {
        height: 1;
        margin-bottom: 0;
    }
    BenchForm .form-row > Label {
        width: 14;
        color: $foreground-muted;
    }
    BenchForm .form-row > Input, BenchForm .form-row > Select {
        width: 1fr;
        max-width: 64;
    }
    BenchForm .form-row > .form-hint {
        width: 1fr;
        padding-left: 2;
        color: $foreground-muted;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    BenchForm #form-summary {
        margin-top: 1;
        height: auto;
    }
    BenchForm #form-problem {
        height: auto;
        color: $error;
    }
    BenchForm #form-buttons {
        height: 1;
        margin-top: 1;
    }
    """

    class StartRequested(Message):
        """The user asked to start this (validated) plan."""

        def __init__(self, plan: BenchPlan) -> None:
            super().__init__()
            self.plan = plan

    def __init__(self, settings: BenchConfig, results_dir: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.settings = settings
        self.results_dir = results_dir
        self.targets: list[BenchTarget] = []
        self.draft: BenchPlan = plan_for_service("vllm", "http://127.0.0.1:8000", settings)
        self._filling = False
        self._adapter = self.draft.adapter  # what the adapter field shows
        self._service: object = CUSTOM  # what the service field shows

    def compose(self) -> ComposeResult:
        adapters = [(f"{name} — {cls.description}", name) for name, cls in ADAPTERS.items()]
        yield self._row("Service", Select([("custom URL", CUSTOM)], value=CUSTOM, allow_blank=False, compact=True, id="form-service"))
        yield self._row("URL", Input(placeholder="http://127.0.0.1:8080", compact=True, id="form-url"))
        yield self._row("Adapter", Select(adapters, allow_blank=False, compact=True, id="form-adapter"))
        yield self._row("Model", Input(placeholder="as the server reports", compact=True, id="form-model"))
        settings = self.settings
        yield self._row("Batch sizes", Input(placeholder="e.g. " + ",".join(map(str, settings.batch_sizes)), compact=True, id="form-batch_sizes"),
                        hint_id="form-batch-hint")
        yield self._row("Concurrency", Input(placeholder="e.g. " + ",".join(map(str, settings.concurrencies)), compact=True, id="form-concurrencies"),
                        "requests in flight, closed loop")
        yield self._row("Seconds/cell", Input(placeholder=f"e.g. {settings.duration:g}", compact=True, id="form-seconds"))
        yield self._row("Requests/cell", Input(placeholder="(the duration decides)", compact=True, id="form-requests"), "instead of a duration")
        yield self._row("Payload", Input(compact=True, id="form-payloads"), hint_id="form-payload-hint")
        yield Static(id="form-summary")
        yield Static(id="form-problem")
        with Horizontal(id="form-buttons"):
            yield Button("Start", variant="primary", compact=True, id="form-start")

    @staticmethod
    def _row(label: str, field: Input | Select, hint: str = "", *, hint_id: str | None = None) -> Horizontal:
        children: list = [Label(label), field]
        if hint or hint_id:
            children.append(Static(hint, classes="form-hint", id=hint_id))
        return Horizontal(*children, classes="form-row")

    # -- filling ------------------------------------------------------------------------------

    def load(self, draft: BenchPlan, targets: list[BenchTarget], selected: str | None) -> None:
        """Show `draft`; `targets` fill the service list, `selected` is one of their names."""
        self.targets = targets
        service = self.query_one("#form-service", Select)
        options = [(escape(t.label), t.name) for t in targets] + [("custom URL", CUSTOM)]
        self._filling = True
        try:
            service.set_options(options)
            self._service = selected if selected in {t.name for t in targets} else CUSTOM
            service.value = self._service
            self._fill(draft)
        finally:
            self.call_after_refresh(self._done_filling)

    def _done_filling(self) -> None:
        self._filling = False
        self.refresh_summary()

    def _fill(self, draft: BenchPlan) -> None:
        self.draft = draft
        values = values_from_plan(draft)
        for name in FIELDS:
            field = self.query_one(f"#form-{name}", Input)
            if field.value != getattr(values, name):
                field.value = getattr(values, name)
        adapter = self.query_one("#form-adapter", Select)
        if adapter.value != draft.adapter:
            adapter.value = draft.adapter
        self._adapter = draft.adapter
        self._adapter_hints(draft.adapter)

    def _adapter_hints(self, adapter: str) -> None:
        cls = adapter_class(adapter)
        batch = self.query_one("#form-batch_sizes", Input)
        batch.disabled = cls.fixed_batch is not None
        batch_hint = f"fixed: {cls.fixed_batch} per request" if cls.fixed_batch is not None else f"{cls.unit} per request"
        update_text(self.query_one("#form-batch-hint", Static), batch_hint)
        update_text(self.query_one("#form-payload-hint", Static), f"one or more of {', '.join(cls.payloads)} (default {cls.payloads[0]})")
        self.query_one("#form-payloads", Input).placeholder = cls.payloads[0]

    def values(self) -> FormValues:
        adapter = self.query_one("#form-adapter", Select).value
        return FormValues(adapter=str(adapter), **{name: self.query_one(f"#form-{name}", Input).value for name in FIELDS})

    def plan(self) -> BenchPlan:
        """The plan as typed; PlanError when it cannot run."""
        return plan_from_values(self.values(), self.draft, self.settings)

    # -- reacting ----------------------------------------------------------------------------

    @on(Select.Changed, "#form-service")
    def _service_changed(self, event: Select.Changed) -> None:
        if self._filling or event.value == self._service:
            return  # our own change (filling the form), not the user's: it may arrive after they typed
        self._service = event.value
        target = next((t for t in self.targets if t.name == event.value), None)
        if target is not None:
            self._fill(plan_for_service(target.preset, target.url, self.settings, service=target.name))
        else:
            self.draft = replace(self.draft, service=None)
        self.refresh_summary()

    @on(Select.Changed, "#form-adapter")
    def _adapter_changed(self, event: Select.Changed) -> None:
        adapter = str(event.value)
        if self._filling or adapter == self._adapter:
            return  # our own change (filling the form), not the user's
        previous, self._adapter = self._adapter, adapter
        self._adapter_hints(adapter)
        if adapter == self.draft.adapter:  # back to the service's own API: its sweep again
            values = values_from_plan(self.draft)
            self._set_sweep(values.batch_sizes, values.concurrencies, values.payloads)
        else:
            cls, old = adapter_class(adapter), adapter_class(previous)
            if cls.kind != old.kind or cls.fixed_batch != old.fixed_batch:
                # a parse sweep is not an embedding sweep: the settings' defaults for this kind
                settings = self.settings
                batches = settings.parse_batch_sizes if cls.kind == "parse" else settings.batch_sizes
                concurrencies = settings.parse_concurrencies if cls.kind == "parse" else settings.concurrencies
                batch_text = str(cls.fixed_batch) if cls.fixed_batch is not None else ",".join(map(str, batches))
                self._set_sweep(batch_text, ",".join(map(str, concurrencies)), "")
        self.refresh_summary()

    def _set_sweep(self, batch_sizes: str, concurrencies: str, payloads: str) -> None:
        for name, value in (("batch_sizes", batch_sizes), ("concurrencies", concurrencies), ("payloads", payloads)):
            self.query_one(f"#form-{name}", Input).value = value

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        if self._filling:
            return
        if event.input.id == "form-url":
            self._url_typed(event.value.strip())
        self.refresh_summary()

    def _url_typed(self, url: str) -> None:
        """Another URL than the selected service's is a custom target: the run must not carry its name."""
        target = next((t for t in self.targets if t.name == self._service), None)
        if target is not None and url.rstrip("/") != target.url.rstrip("/"):
            self._service = CUSTOM  # set first: the select's Changed event is then ours, ignored
            self.query_one("#form-service", Select).value = CUSTOM
            self.draft = replace(self.draft, service=None)

    @on(Input.Submitted)
    @on(Button.Pressed, "#form-start")
    def _submit(self, event: Message) -> None:
        event.stop()
        self.submit()

    def submit(self) -> None:
        try:
            plan = self.plan()
        except PlanError as exc:
            update_text(self.query_one("#form-problem", Static), escape(str(exc)))
            return
        update_text(self.query_one("#form-problem", Static), "")
        self.post_message(self.StartRequested(plan))

    def refresh_summary(self) -> None:
        summary = self.query_one("#form-summary", Static)
        try:
            plan = self.plan()
        except PlanError as exc:
            update_text(summary, f"[dim]{escape(str(exc))}[/dim]")
            return
        cells = len(plan.cells())
        seconds = plan.estimated_seconds()
        length = f"≈ {fmt.duration(seconds)} plus warm-up" if seconds is not None else f"{plan.requests} requests per cell"
        update_text(
            summary,
            f"[b]{cells} cell{'s' if cells > 1 else ''}[/b] ({len(plan.payload_variants)} payload × {len(plan.batch_sizes)} batch × {len(plan.concurrencies)} concurrency), "
            f"{length}\n[dim]results saved under {escape(self.results_dir)}[/dim]",
        )
        update_text(self.query_one("#form-problem", Static), "")
