"""Live inference load (issue #15): scrape model servers' own metrics, headless (no Textual here).

    target = InferenceTarget("vllm", "http://127.0.0.1:8000")
    tracker = InferenceTracker(target)
    figures = await tracker.poll(fetch)  # fetch(url) -> (status, body), the caller's HTTP client
    figures.to_json()

Modules: exposition (the Prometheus parser, filtered), engines (per-engine metric tables),
window (rates and percentiles over scrapes), ollama (/api/ps), scrape (the above, together).
"""

from spark_tui.core.inference.engines import ENGINE_KEYS, ENGINES, EngineSpec, detect
from spark_tui.core.inference.exposition import ExpositionError, parse_families
from spark_tui.core.inference.scrape import (
    InferenceTarget,
    InferenceTracker,
    Scrape,
    figures_from,
    figures_from_window,
    scrape,
    scrape_blocking,
)
from spark_tui.core.inference.window import ScrapeSeries, histogram_quantile

__all__ = [
    "ENGINES",
    "ENGINE_KEYS",
    "EngineSpec",
    "ExpositionError",
    "InferenceTarget",
    "InferenceTracker",
    "Scrape",
    "ScrapeSeries",
    "detect",
    "figures_from",
    "figures_from_window",
    "histogram_quantile",
    "parse_families",
    "scrape",
    "scrape_blocking",
]
