"""Benchmark runner. Nothing in this package imports Textual (tests/unit/test_import_hygiene.py).

Entry points for the UI and the CLI:
- plan.py: `BenchPlan`, `plan_for_service(preset, url, settings)`, `plan_from_settings(...)`, `PlanError`;
- runner.py: `run_benchmark(plan, on_event, cancel, machine_sampler)` (blocking, own loop) and
  `run_benchmark_async(...)`; events are in spark_tui.models.bench;
- saved_runs.py: `list_runs`, `load_run`, `iter_records`, `compare_runs`, `resolve_run`;
- report.py: table columns for per-cell summaries; machine.py: samplers for GPU/memory readings.
"""
