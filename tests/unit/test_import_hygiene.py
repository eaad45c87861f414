"""The headless layer (core, models, config, commands without the UI) must never import Textual.
import-linter contracts (pyproject.toml, tests/unit/test_architecture.py) check the imports as
written; this imports every module for real, so an import made at run time is caught too."""

import pkgutil
import subprocess
import sys

import spark_tui

DATA_PACKAGES = ("spark_tui.core", "spark_tui.models")


def data_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(spark_tui.__path__, "spark_tui."):
        if info.name in DATA_PACKAGES or info.name.startswith(tuple(package + "." for package in DATA_PACKAGES)):
            names.append(info.name)
    return names


def test_there_are_data_modules() -> None:
    modules = data_modules()
    assert {"spark_tui.core.machine.nvml", "spark_tui.core.bench.runner", "spark_tui.core.bench.stream", "spark_tui.models.bench"} <= set(modules)
    assert not any(m.startswith("spark_tui.ui") for m in modules)


def test_data_layer_does_not_import_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {data_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith(('textual.', 'textual_plotext')))\n"
        "print(','.join(bad))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"Textual imported by the data layer: {proc.stdout.strip()}"
