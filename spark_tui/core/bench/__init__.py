"""Benchmark runner. Nothing in this package imports Textual (tests/unit/test_import_hygiene.py).

Entry points for the UI and the CLI:
- plan.py: `BenchPlan`, `plan_for_service(preset, url, settings)`, `plan_from_settings(...)`, `PlanError`;
  plan_form.py: the benchmark screen's text fields to and from a plan;
- runner.py: `run_benchmark(plan, on_event, cancel, machine_sampler)` (blocking, own loop) and
  `run_benchmark_async(...)`; events are in spark_tui.models.bench;
- launch.py: `ChildRun` runs a plan in its own process (stream.py, `python -m spark_tui.core.bench.stream`)
  and hands its events on, the dashboard's way; `ThreadRun` runs it in a thread;
  events.py: events as JSON lines, RequestsFinished folded into a RequestsDigest;
- live.py: `LiveRun`, a run's events folded into what a live screen draws;
- saved_runs.py: `list_runs`, `load_run`, `iter_records`, `read_throughput`, `compare_runs`, `resolve_run`;
- report.py: table columns for per-cell summaries (ranked, `fit_columns` for narrow terminals);
  machine.py: samplers for GPU/memory readings.
"""
