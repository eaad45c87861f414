"""The containers' and the services' tables are one line-table widget with one set of keys (#12):
the same key moves the cursor in both, and the screen hears of it."""

from __future__ import annotations

from containers_support import demo_app as containers_demo_app
from containers_support import feed_containers
from probe_support import demo_app as probes_demo_app
from probe_support import feed_demo_probes
from support import FakeClock, wait_for

from spark_tui.ui.containers.table import ContainerTable
from spark_tui.ui.services.table import ProbeTable
from spark_tui.ui.widgets.row_table import RowTable


async def j_then_k(pilot, table: RowTable, shown) -> None:
    """`j` moves the cursor one row down and `k` back; `shown(key)`: the screen shows that row."""
    table.focus()
    await pilot.pause()
    start = table.cursor_key
    assert start is not None
    below = table.keys[table.keys.index(start) + 1]
    await pilot.press("j")
    assert table.cursor_key == below
    await wait_for(pilot, lambda: shown(below), what=f"the screen to show {below}")
    await pilot.press("k")
    assert table.cursor_key == start
    await wait_for(pilot, lambda: shown(start), what=f"the screen to show {start}")


async def test_j_and_k_move_the_cursor_on_the_containers_screen():
    app, docker = containers_demo_app(FakeClock())
    async with app.run_test(size=(120, 36)) as pilot:
        await feed_containers(pilot, app, docker)
        await pilot.press("c")
        await wait_for(pilot, lambda: bool(app.screen.query(ContainerTable)) and app.screen.query_one(ContainerTable).row_count > 2, what="the containers")
        table = app.screen.query_one(ContainerTable)
        assert isinstance(table, RowTable)

        detail = app.screen.query_one("#container-detail")

        def shown(key: str) -> bool:  # the detail line names the container under the cursor
            return str(detail.render()).startswith(app.containers.state.containers[key].name + " ")

        await j_then_k(pilot, table, shown)


async def test_j_and_k_move_the_cursor_on_the_services_screen():
    app, probes = probes_demo_app(FakeClock())
    async with app.run_test(size=(120, 36)) as pilot:
        feed_demo_probes(app, probes)
        await pilot.press("s")
        await wait_for(pilot, lambda: bool(app.screen.query(ProbeTable)) and app.screen.query_one(ProbeTable).row_count > 2, what="the probes")
        table = app.screen.query_one(ProbeTable)
        assert isinstance(table, RowTable)
        detail = app.screen.query_one("#probe-detail")
        await j_then_k(pilot, table, lambda name: str(detail.render()).startswith(name + " "))
