"""The layers hold (import-linter contracts in pyproject.toml) and no import circle exists inside
spark_tui (grimp, the graph under import-linter, imports included wherever they are written:
module top, function bodies, TYPE_CHECKING blocks)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]


def circles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each a circle of imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(module: str) -> None:
        nonlocal counter
        index[module] = low[module] = counter
        counter += 1
        stack.append(module)
        on_stack.add(module)
        for target in graph.find_modules_directly_imported_by(module):
            if not target.startswith("spark_tui"):
                continue
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in sorted(graph.modules):
        if module.startswith("spark_tui") and module not in index:
            visit(module)
    return found


def test_no_import_circle_inside_the_package() -> None:
    assert circles(grimp.build_graph("spark_tui")) == []


def test_the_finder_sees_a_circle() -> None:
    graph = grimp.ImportGraph()
    for module in ("spark_tui.a", "spark_tui.b", "spark_tui.c"):
        graph.add_module(module)
    graph.add_import(importer="spark_tui.a", imported="spark_tui.b")
    graph.add_import(importer="spark_tui.b", imported="spark_tui.c")
    graph.add_import(importer="spark_tui.c", imported="spark_tui.a")
    assert circles(graph) == [["spark_tui.a", "spark_tui.b", "spark_tui.c"]]


def test_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout or "broken" not in proc.stdout.split("Contracts:")[-1]
