"""The form shown before a benchmark starts: which service, the sweep and what each request
carries (pre-filled with the service's defaults: Infinity's path, NIM's input_type…).
A generation adapter (or a service that generates text) swaps batch sizes and payloads for
input and output token lengths (or the prefill-decode preset) and an SLO.
Enter in any field, or the Start button, asks to start."""

from __future__ import annotations

from dataclasses import replace

from spark_tui.ui.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, Static

from spark_tui.core import format as fmt
from spark_tui.core.bench.adapters import ADAPTERS, GEN_ADAPTERS
from spark_tui.core.bench.plan import (
    DECODE_DEPTHS,
    GENERATE_CONCURRENCIES,
    GENERATE_LENGTHS,
    PREFILL_INPUTS,
    BenchPlan,
    PlanError,
    plan_for_service,
)
from spark_tui.core.bench.plan_form import (
    PREFILL_DECODE,
    FormValues,
    adapter_choice,
    batch_hint,
    cells_words,
    choice_class,
    plan_from_values,
    uses_pages,
    values_from_plan,
)
from spark_tui.ui.bench.targets import BenchTarget, plan_for_target
from spark_tui.models.settings import BenchConfig
from spark_tui.ui.widgets.text import set_display, update_text

CUSTOM = "__custom__"
FIELDS = ("url", "model", "batch_sizes", "concurrencies", "seconds", "requests", "payloads", "pages", "path", "extra_body",
          "input_tokens", "output_tokens", "slo")
LISTS = "lists"  # the lengths field: every input length with every output length
GEN_ROWS = ("#form-preset-row", "#form-input-row", "#form-output-row", "#form-slo-row")
EMBED_ROWS = ("#form-batch-row", "#form-payload-row")


def _ints(values: tuple[int, ...] | list[int]) -> str:
    return ",".join(map(str, values))


class FormRow(Horizontal):
    """A labelled field. While a field has the focus, the app's one-letter keys are text, not
    commands: `h` typed into a Select or after a tab must not open the saved runs (esc leaves the
    fields; the Start button and the screen have the keys again)."""

    BINDINGS = [Binding("q,p,d,c,s,b,h,i,question_mark", "stay", show=False)]

    def action_stay(self) -> None:
        """Nothing: the key stays in the form."""


class BenchForm(VerticalScroll):
    # Its fields take the focus, not the form: focused itself (the screen's first focus), a form
    # taller than the panel was scrolled to its middle and the top of the panel cut off.
    can_focus = False

    DEFAULT_CSS = """
    BenchForm {
        height: auto;
        max-height: 100%;
    }
    BenchForm .form-row {
        height: 1;
        margin-bottom: 0;
    }
    /* A hint is read in full (#14: at 80 columns "closed l…"): it gets the larger share of the
       row beside its field, and a second line when it needs one. */
    BenchForm .form-row.-hinted {
        height: auto;
    }
    BenchForm .form-row > Label {
        width: 14;
        color: $foreground-muted;
    }
    BenchForm .form-row > Input, BenchForm .form-row > Select {
        width: 1fr;
        max-width: 64;
    }
    BenchForm .form-row:focus-within > Label {
        color: $accent;
        text-style: bold;
    }
    BenchForm .form-row > Input:focus, BenchForm .form-row > Select:focus > SelectCurrent {
        background: $accent 30%;
    }
    BenchForm .form-row > .form-hint {
        width: 1fr;
        min-width: 39;
        padding-left: 2;
        color: $foreground-muted;
    }
    BenchForm #form-summary {
        margin-top: 1;
        height: auto;
    }
    BenchForm #form-problem {
        display: none;
        height: auto;
        color: $error;
    }
    BenchForm #form-buttons {
        height: 1;
    }
    BenchForm .gen-row {
        display: none;
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
        self._adapter = self.draft.adapter  # what the adapter field shows
        self._service: object = CUSTOM  # what the service field shows

    def compose(self) -> ComposeResult:
        adapters = [(f"{name} — {cls.description}", name) for name, cls in ADAPTERS.items()]
        adapters += [(f"{name} (generate) — {cls.description}", adapter_choice(name, "generate")) for name, cls in GEN_ADAPTERS.items()]
        yield self._row("Service", Select([("custom URL", CUSTOM)], value=CUSTOM, allow_blank=False, compact=True, id="form-service"))
        yield self._row("URL", Input(placeholder="http://127.0.0.1:8080", compact=True, id="form-url"))
        yield self._row("Adapter", Select(adapters, allow_blank=False, compact=True, id="form-adapter"))
        yield self._row("Model", Input(placeholder="as the server reports", compact=True, id="form-model"))
        settings = self.settings
        # generation only (hidden otherwise): lengths and the SLO
        prefill = f"prefill-decode: pp {PREFILL_INPUTS[0]}–{PREFILL_INPUTS[-1]}, tg 128 at depth {_ints(DECODE_DEPTHS)}"
        yield self._row("Lengths", Select([("input × output lists", LISTS), (prefill, PREFILL_DECODE)], value=LISTS, allow_blank=False,
                                          compact=True, id="form-preset"), row_id="form-preset-row", classes="gen-row")
        yield self._row("Input tokens", Input(placeholder="e.g. 512,2048", compact=True, id="form-input_tokens"),
                        "prompt lengths × every output length", row_id="form-input-row", classes="gen-row")
        yield self._row("Output tokens", Input(placeholder="e.g. 128", compact=True, id="form-output_tokens"),
                        "tokens generated per request", row_id="form-output-row", classes="gen-row")
        yield self._row("Batch sizes", Input(placeholder="e.g. " + ",".join(map(str, settings.batch_sizes)), compact=True, id="form-batch_sizes"),
                        hint_id="form-batch-hint", row_id="form-batch-row")
        yield self._row("Concurrency", Input(placeholder="e.g. " + ",".join(map(str, settings.concurrencies)), compact=True, id="form-concurrencies"),
                        "requests in flight, closed loop")
        yield self._row("Seconds/cell", Input(placeholder=f"e.g. {settings.duration:g}", compact=True, id="form-seconds"))
        yield self._row("Requests/cell", Input(placeholder="(the duration decides)", compact=True, id="form-requests"), "instead of a duration")
        yield self._row("Payload", Input(compact=True, id="form-payloads"), hint_id="form-payload-hint", row_id="form-payload-row")
        yield self._row("SLO", Input(placeholder="none", compact=True, id="form-slo"), "for goodput, e.g. ttft=2s,itl=50ms",
                        row_id="form-slo-row", classes="gen-row")
        yield self._row("Pages/doc", Input(compact=True, id="form-pages"), hint_id="form-pages-hint", row_id="form-pages-row")
        yield self._row("Path", Input(compact=True, id="form-path"), hint_id="form-path-hint")
        yield self._row("Extra body", Input(compact=True, id="form-extra_body"), hint_id="form-body-hint")
        yield Static(id="form-summary")
        yield Static(id="form-problem")  # shown by show_problem
        with Horizontal(id="form-buttons"):
            yield Button("Start", variant="primary", compact=True, id="form-start")

    @staticmethod
    def _row(label: str, field: Input | Select, hint: str = "", *, hint_id: str | None = None, row_id: str | None = None,
             classes: str = "") -> Horizontal:
        children: list = [Label(label), field]
        if hint or hint_id:
            children.append(Static(hint, classes="form-hint", id=hint_id))
            classes += " -hinted"
        return FormRow(*children, classes=f"form-row {classes}".strip(), id=row_id)

    # -- filling ------------------------------------------------------------------------------

    def load(self, draft: BenchPlan, targets: list[BenchTarget], selected: str | None) -> None:
        """Show `draft`; `targets` fill the service list, `selected` is one of their names."""
        self.targets = targets
        service = self.query_one("#form-service", Select)
        options = [(escape(t.label), t.name) for t in targets] + [("custom URL", CUSTOM)]
        # our own changes are not the user's: no Changed messages (they would arrive after this,
        # and set_options passes through the first option on its way)
        with self.prevent(Select.Changed, Input.Changed):
            service.set_options(options)
            self._service = selected if selected in {t.name for t in targets} else CUSTOM
            service.value = self._service
            self._fill(draft)
        self.refresh_summary()

    def _fill(self, draft: BenchPlan) -> None:
        self.draft = draft
        values = values_from_plan(draft)
        with self.prevent(Select.Changed, Input.Changed):
            for name in FIELDS:
                field = self.query_one(f"#form-{name}", Input)
                if field.value != getattr(values, name):
                    field.value = getattr(values, name)
            adapter = self.query_one("#form-adapter", Select)
            if adapter.value != values.adapter:
                adapter.value = values.adapter
            preset = self.query_one("#form-preset", Select)
            if preset.value != (values.preset or LISTS):
                preset.value = values.preset or LISTS
        self._adapter = values.adapter
        self._adapter_hints(values.adapter)

    def _adapter_hints(self, adapter: str) -> None:
        cls = choice_class(adapter)
        generation = cls.kind == "generate"
        for row in GEN_ROWS:
            set_display(self.query_one(row), generation)
        for row in EMBED_ROWS:
            set_display(self.query_one(row), not generation)
        self._preset_hints()
        batch = self.query_one("#form-batch_sizes", Input)
        batch.disabled = cls.fixed_batch is not None
        self._batch_hint()
        update_text(self.query_one("#form-payload-hint", Static), f"any of {', '.join(cls.payloads)} (default {cls.payloads[0]})")
        self.query_one("#form-payloads", Input).placeholder = cls.payloads[0]
        documents = uses_pages(cls)
        set_display(self.query_one("#form-pages-row"), documents and not generation)
        if documents:
            async_pages = self.draft.options.docling_async_pages
            self.query_one("#form-pages", Input).placeholder = str(self.settings.doc_pages)
            update_text(self.query_one("#form-pages-hint", Static), f"{async_pages} or more go through the async API")
        self.query_one("#form-path", Input).placeholder = cls.default_path
        openai = adapter == "openai"  # one adapter for vLLM, NIM and Infinity: their differences are these two fields
        update_text(self.query_one("#form-path-hint", Static), "below the URL; Infinity: /embeddings" if openai else "below the URL")
        self.query_one("#form-extra_body", Input).placeholder = "none"
        example = ', e.g. {"do_ocr": false}' if documents else '; NIM: {"input_type": "passage"}' if openai else ""
        what = "JSON form fields of each request" if documents else "JSON added to each request"
        if generation:
            example = ', e.g. {"temperature": 0}'
        update_text(self.query_one("#form-body-hint", Static), escape(what + example))
        concurrencies = GENERATE_CONCURRENCIES if generation else self.settings.parse_concurrencies if cls.kind == "parse" else self.settings.concurrencies
        self.query_one("#form-concurrencies", Input).placeholder = "e.g. " + _ints(concurrencies)

    def _preset_hints(self) -> None:
        """The preset's lengths replace the two lists: they are greyed out while it is chosen."""
        listed = self.query_one("#form-preset", Select).value != PREFILL_DECODE
        for name in ("input_tokens", "output_tokens"):
            self.query_one(f"#form-{name}", Input).disabled = not listed

    def _batch_hint(self) -> None:
        cls = choice_class(self._adapter)
        pages: int | None = None
        if uses_pages(cls):
            text = self.query_one("#form-pages", Input).value.strip() or str(self.settings.doc_pages)
            pages = int(text) if text.isdigit() else None
        update_text(self.query_one("#form-batch-hint", Static), batch_hint(cls, pages))

    def values(self) -> FormValues:
        adapter = self.query_one("#form-adapter", Select).value
        preset = self.query_one("#form-preset", Select).value
        return FormValues(adapter=str(adapter), preset=str(preset) if preset == PREFILL_DECODE else "",
                          **{name: self.query_one(f"#form-{name}", Input).value for name in FIELDS})

    def plan(self) -> BenchPlan:
        """The plan as typed; PlanError when it cannot run."""
        return plan_from_values(self.values(), self.draft, self.settings)

    # -- reacting ----------------------------------------------------------------------------

    @on(Select.Changed, "#form-service")
    def _service_changed(self, event: Select.Changed) -> None:
        if event.value == self._service:
            return  # our own change (to "custom URL" when another URL is typed)
        self._service = event.value
        target = next((t for t in self.targets if t.name == event.value), None)
        if target is not None:
            self._fill(plan_for_target(target, self.settings))
        else:
            self.draft = replace(self.draft, service=None)
        self.refresh_summary()

    @on(Select.Changed, "#form-adapter")
    def _adapter_changed(self, event: Select.Changed) -> None:
        adapter = str(event.value)
        if adapter == self._adapter:
            return
        previous, self._adapter = self._adapter, adapter
        if adapter == adapter_choice(self.draft.adapter, self.draft.kind):  # back to the service's own API: its sweep and request options again
            values = values_from_plan(self.draft)
            self._set_fields(batch_sizes=values.batch_sizes, concurrencies=values.concurrencies, payloads=values.payloads,
                             path=values.path, extra_body=values.extra_body, pages=values.pages,
                             input_tokens=values.input_tokens, output_tokens=values.output_tokens, slo=values.slo)
            self._set_preset(values.preset)
        else:
            # another API: the service's path and body do not apply to it (blank: the adapter's defaults)
            cls, old = choice_class(adapter), choice_class(previous)
            self._set_fields(path="", extra_body="", pages=str(self.draft.payload.doc_pages) if uses_pages(cls) else "")
            if cls.kind == "generate" and old.kind != "generate":
                # a generation sweep: lengths and concurrencies of its own
                inputs, outputs = GENERATE_LENGTHS[0]
                self._set_fields(batch_sizes="1", concurrencies=_ints(GENERATE_CONCURRENCIES), payloads="",
                                 input_tokens=str(inputs), output_tokens=str(outputs), slo="")
                self._set_preset("")
            elif cls.kind != old.kind or cls.fixed_batch != old.fixed_batch:
                # a parse sweep is not an embedding sweep: the settings' defaults for this kind
                settings = self.settings
                batches = settings.parse_batch_sizes if cls.kind == "parse" else settings.batch_sizes
                concurrencies = settings.parse_concurrencies if cls.kind == "parse" else settings.concurrencies
                batch_text = str(cls.fixed_batch) if cls.fixed_batch is not None else ",".join(map(str, batches))
                self._set_fields(batch_sizes=batch_text, concurrencies=",".join(map(str, concurrencies)), payloads="")
        self._adapter_hints(adapter)
        self._batch_hint()
        self.refresh_summary()

    def _set_preset(self, preset: str) -> None:
        with self.prevent(Select.Changed):
            self.query_one("#form-preset", Select).value = preset or LISTS

    @on(Select.Changed, "#form-preset")
    def _preset_changed(self, event: Select.Changed) -> None:
        self._preset_hints()
        self.refresh_summary()

    def _set_fields(self, **values: str) -> None:
        with self.prevent(Input.Changed):  # the caller updates hints and summary once
            for name, value in values.items():
                self.query_one(f"#form-{name}", Input).value = value

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        if event.input.id == "form-url":
            self._url_typed(event.value.strip())
        elif event.input.id == "form-pages":
            self._batch_hint()
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
            self.show_problem(str(exc))
            return
        self.show_problem("")
        self.post_message(self.StartRequested(plan))

    def show_problem(self, problem: str) -> None:
        """Why the plan cannot start (or ""): a line under the summary, only while there is one."""
        field = self.query_one("#form-problem", Static)
        update_text(field, escape(problem))
        set_display(field, bool(problem))

    def refresh_summary(self) -> None:
        summary = self.query_one("#form-summary", Static)
        try:
            plan = self.plan()
        except PlanError as exc:
            update_text(summary, f"[dim]{escape(str(exc))}[/dim]")
            return
        seconds = plan.estimated_seconds()
        length = f"≈ {fmt.duration(seconds)} plus warm-up" if seconds is not None else f"{plan.requests} requests per cell"
        words = cells_words(plan)
        count, _, rest = words.partition(" (")
        update_text(summary, f"[b]{count}[/b] ({rest}, {length}\n[dim]results saved under {escape(self.results_dir)}[/dim]")
        self.show_problem("")
