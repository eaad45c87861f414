"""The logs screen under a flood of lines (issue #13), on the demo engine through the screen's own
message path: the ring keeps the newest 10,000, the search count follows lines in and out of the
ring, and clearing the search shows every kept line again."""

from __future__ import annotations

from datetime import UTC, datetime, timezone

from containers_support import demo_app, feed_containers
from support import FakeClock, wait_for

from spark_tui.core.untrusted import SgrSpan, SgrStyle
from spark_tui.models.containers import LogLine
from spark_tui.ui.containers.logs import KEEP_LINES, ColourLog, LogsScreen
from spark_tui.ui.messages import LogLinesArrived

VLLM = "0002".ljust(64, "d")
RED = SgrStyle(fg=1)


def flood(start: int, count: int) -> list[LogLine]:
    at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    return [
        LogLine(VLLM, f"{'ERROR' if n % 7 == 0 else 'INFO'} line {n}", at, (SgrSpan(0, 4, RED),) if n % 7 == 0 else ())
        for n in range(start, start + count)
    ]


async def test_a_flood_keeps_the_newest_lines_and_the_search_count_stays_true():
    app, docker = demo_app(FakeClock())
    async with app.run_test(size=(120, 36)) as pilot:
        await feed_containers(pilot, app, docker)
        container = next(c for c in next(docker.updates()).containers if c.id == VLLM)
        screen = LogsScreen(app.session, container, docker, 5)
        await app.push_screen(screen)
        log = screen.query_one(ColourLog)
        await wait_for(pilot, lambda: log.line_count > 0, what="the demo tail")

        screen.post_message(LogLinesArrived(flood(0, 12_000)))  # more than the ring holds
        await wait_for(pilot, lambda: log.lines and log.lines[-1].endswith("line 11999"), what="the flood")
        assert len(screen.buffer.lines) == KEEP_LINES == len(screen._texts) == log.line_count
        assert log.lines[0].endswith("line 2000"), "the oldest lines left the ring"

        await pilot.press("slash", *"error")
        await wait_for(pilot, lambda: screen.query_text == "error", what="the search")
        expected = sum(1 for line in screen.buffer.lines if "ERROR" in line.text)
        assert log.line_count == expected and "ERROR" in log.lines[-1]
        assert f"{expected} of {KEEP_LINES} lines match" in str(log.border_subtitle)
        assert log._spans[-1] == (SgrSpan(0, 4, RED),), "each shown line keeps its own colour"

        screen.post_message(LogLinesArrived(flood(12_000, 3_000)))  # 3,000 more push 3,000 out
        await wait_for(pilot, lambda: screen.buffer.lines[-1].text.endswith("line 14999"), what="more lines")
        screen._titles()
        expected = sum(1 for line in screen.buffer.lines if "ERROR" in line.text)
        assert screen._matches == expected
        assert f"{expected} of {KEEP_LINES} lines match" in str(log.border_subtitle)

        await pilot.press("escape")  # clears the search: every kept line again, newest last
        await wait_for(pilot, lambda: screen.query_text == "", what="the search to clear")
        assert log.line_count == KEEP_LINES and log.lines[-1].endswith("line 14999")
        assert len(log._spans) == log.line_count
        assert all(bool(spans) == ("ERROR" in text) for text, spans in zip(log.lines, log._spans)), "colour stays with its line"
