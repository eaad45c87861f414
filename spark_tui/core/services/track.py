"""One probe's bookkeeping, free of the network stack: a check's output becomes a result (slow
threshold, model and version from the latest extras), a latency history, the last error and
state changes. The engine (spark_tui.core.services.engine) and the demo (demo_probes) both use it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from spark_tui.models.probes import (
    DetailValue, ProbeChecked, ProbeEvent, ProbeResult, ProbeSpec, ProbeState, ProbeStatus, ServedModel, StateChange,
)
from spark_tui.core.services.checks import Extras, Outcome
from spark_tui.core.untrusted import clean

HISTORY = 60
SLOW_CHECKS = 2  # a probe turns degraded for slowness after this many slow answers in a row, not on one hiccup

ProbeListener = Callable[[ProbeEvent], None]


@dataclass(frozen=True)
class CheckOutput:
    outcome: Outcome
    extras: Extras | None  # None: not fetched this time (not due, or it failed)


def is_slow(spec: ProbeSpec, outcome: Outcome) -> bool:
    return outcome.state is ProbeState.UP and outcome.latency_ms is not None and outcome.latency_ms > spec.slow_ms


def _clean_or_none(text: str | None) -> str | None:
    return None if text is None else clean(str(text))


_MODEL_TEXT = ("name", "parameter_size", "quantization", "expires_at")


def _clean_model(model: ServedModel) -> ServedModel:
    changes = {
        name: clean(str(value))
        for name in _MODEL_TEXT
        if (value := getattr(model, name)) is not None and clean(str(value)) is not value
    }
    return replace(model, **changes) if changes else model


def _clean_models(models: tuple[ServedModel, ...] | None) -> tuple[ServedModel, ...] | None:
    return None if models is None else tuple(_clean_model(model) for model in models)


def _clean_details(details: dict[str, DetailValue]) -> dict[str, DetailValue]:
    return {clean(str(key)): clean(value) if isinstance(value, str) else value for key, value in details.items()}


def build_result(
    spec: ProbeSpec,
    output: CheckOutput,
    extras: Extras | None,
    checked_at: float,
    *,
    slow_confirmed: bool = True,
    raw: bool = False,
) -> ProbeResult:
    """The result of a check: slow threshold applied (when `slow_confirmed`), model and version
    from the latest extras. Every word the service chose is made safe to show (core.untrusted),
    unless `raw`: the one-shot `spark-tui probe` keeps them as they came for --json and cleans
    what it prints in its table itself."""
    outcome = output.outcome
    if slow_confirmed and is_slow(spec, outcome):
        outcome.degrade(f"slow: {outcome.latency_ms:.0f} ms (over {spec.slow_ms:.0f} ms)")
    answering = outcome.state is not ProbeState.DOWN
    details = dict(extras.details) if extras and answering else {}
    details.update(outcome.details)
    model = outcome.model or (extras.model if extras and answering else None)
    version = outcome.version or (extras.version if extras and answering else None)
    models = outcome.models if outcome.models is not None else (extras.models if extras and answering else None)
    error = outcome.error if outcome.state is not ProbeState.UP else None
    if not raw:
        # The one place a check becomes a result: every word a service chose (the status line's
        # reason and error bodies in `error`, model names, versions, details) is made safe here,
        # whatever preset parsed it. clean() returns clean text as the same object: cheap.
        error, model, version = _clean_or_none(error), _clean_or_none(model), _clean_or_none(version)
        models, details = _clean_models(models), _clean_details(details)
    return ProbeResult(
        name=spec.name,
        kind=spec.kind,
        target=spec.display_url,
        state=outcome.state,
        checked_at=checked_at,
        latency_ms=None if outcome.latency_ms is None else round(outcome.latency_ms, 2),
        error=error,
        status_code=outcome.status_code,
        model=model,
        version=version,
        models=models,
        details=details,
    )


@dataclass
class ProbeTrack:
    """One probe's record over time: last result, latency history, last error, state changes.
    Pure bookkeeping; the engine (and the demo) feed it each check's output."""

    spec: ProbeSpec
    history: int
    latencies: deque[float | None] = field(init=False)
    result: ProbeResult | None = None
    extras: Extras | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    state_since: float | None = None
    slow_streak: int = 0  # consecutive slow answers

    def __post_init__(self) -> None:
        self.latencies = deque(maxlen=self.history)

    def status(self) -> ProbeStatus:
        return ProbeStatus(
            spec=self.spec,
            result=self.result,
            latencies=tuple(self.latencies),
            last_error=self.last_error,
            last_error_at=self.last_error_at,
            state_since=self.state_since,
        )

    def carry_over(self, old: ProbeTrack) -> None:
        """Same service, new settings: its history still describes it."""
        self.latencies.extend(old.latencies)
        self.result, self.extras = old.result, old.extras
        self.last_error, self.last_error_at, self.state_since = old.last_error, old.last_error_at, old.state_since

    def record(self, output: CheckOutput, now: float) -> ProbeChecked:
        """Take one check's output (finished at wall-clock `now`); the event to report."""
        if output.extras is not None:
            self.extras = output.extras
        self.slow_streak = self.slow_streak + 1 if is_slow(self.spec, output.outcome) else 0
        result = build_result(self.spec, output, self.extras, now, slow_confirmed=self.slow_streak >= SLOW_CHECKS)
        previous = self.result
        self.result = result
        self.latencies.append(result.latency_ms)
        if result.error:
            self.last_error, self.last_error_at = result.error, now
        change = None
        if previous is None or previous.state is not result.state:
            self.state_since = now
            if previous is not None:
                change = StateChange(result.name, previous.state, result.state, now, result.error)
        return ProbeChecked(self.status(), change)
