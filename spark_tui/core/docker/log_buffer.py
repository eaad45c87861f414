"""The lines a log view keeps, with search. No Docker SDK here: the logs screen opens fast."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable

from spark_tui.models.containers import LogLine


class LogBuffer:
    """The lines a log view keeps (bounded), with search."""

    def __init__(self, max_lines: int = 10_000) -> None:
        self.lines: deque[LogLine] = deque(maxlen=max_lines)

    def extend(self, lines: Iterable[LogLine]) -> None:
        self.lines.extend(lines)

    def search(self, query: str, regex: bool = False) -> list[int]:
        """Indexes of matching lines, case-insensitive; raises ValueError with a readable message."""
        if not query:
            return []
        pattern = compile_query(query, regex)
        return [i for i, line in enumerate(self.lines) if pattern.search(line.text)]


def compile_query(query: str, regex: bool = False) -> re.Pattern[str]:
    try:
        return re.compile(query if regex else re.escape(query), re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
