"""Switching between the app's screens: what changed while a screen was away shows when it is back,
and the key bar at the bottom shows and presses the keys."""

from support import FakeClock, demo_sources, wait_for

from spark_tui.ui.app import make_app
from spark_tui.ui.containers.screen import ContainersScreen
from spark_tui.ui.dashboard.screen import DashboardScreen
from spark_tui.ui.widgets.key_bar import KeyBar


def bar_text(app) -> str:  # type: ignore[no-untyped-def]
    bar = app.screen.query_one(KeyBar)
    return "".join(segment.text for segment in bar.render_line(0))


async def test_a_resize_made_on_another_screen_reaches_the_dashboard_when_it_is_back():
    app = make_app(sources=demo_sources(FakeClock()), start_polling=False)
    async with app.run_test(size=(160, 48)) as pilot:
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen) and dashboard.has_class("-wide", "-tall")
        await pilot.press("c")
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert app.screen is dashboard and dashboard.size == (80, 24)
        assert dashboard.has_class("-narrow", "-short") and not dashboard.has_class("-wide")


async def test_a_theme_chosen_on_another_screen_colours_the_dashboard_when_it_is_back():
    app = make_app(sources=demo_sources(FakeClock()), start_polling=False)
    async with app.run_test(size=(120, 36)) as pilot:
        dashboard = app.screen
        before = dashboard.styles.background
        await pilot.press("c")
        app.theme = "textual-light"
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert app.screen is dashboard and dashboard.styles.background != before


async def test_the_key_bar_shows_the_screens_keys_and_a_click_presses_one():
    app = make_app(sources=demo_sources(FakeClock()), start_polling=False)
    async with app.run_test(size=(160, 48)) as pilot:
        text = bar_text(app)
        assert text.startswith(" q Quit  p Pause  ? Help ") and text.rstrip().endswith("^p palette")
        assert "c Containers" in text
        start = text.index(" c Containers")
        await pilot.click(KeyBar, offset=(start + 2, 0))
        await pilot.pause()
        assert isinstance(app.screen, ContainersScreen)
        assert bar_text(app).startswith(" u Start ")  # the containers screen's own keys come first


async def test_the_key_bar_drops_what_does_not_fit_and_keeps_the_palette_key():
    app = make_app(sources=demo_sources(FakeClock()), start_polling=False)
    async with app.run_test(size=(60, 24)) as pilot:
        await pilot.pause()
        text = bar_text(app)
        assert len(text) == 60 and text.rstrip().endswith("^p palette")
        assert " q Quit " in text and "Runs" not in text


async def test_help_opens_again_after_closing_and_follows_a_resize_made_meanwhile():
    from spark_tui.ui.screens.help import HelpScreen

    app = make_app(sources=demo_sources(FakeClock()), start_polling=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("question_mark")
        first = app.screen
        assert isinstance(first, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)
        await pilot.resize_terminal(80, 24)
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen is first and first.size == (80, 24)
        await pilot.press("q")  # q closes the help, not the app
        assert isinstance(app.screen, DashboardScreen) and app.is_running


async def test_the_key_bar_says_resume_while_paused():
    """#14: the footer said "p Pause" while sampling was paused; it says what p does now."""
    app = make_app(sources=demo_sources(FakeClock()), start_polling=False)
    async with app.run_test(size=(160, 48)) as pilot:
        assert " p Pause " in bar_text(app)
        await pilot.press("p")
        await wait_for(pilot, lambda: " p Resume " in bar_text(app), what="the footer to offer Resume")
        assert app.paused and " p Pause " not in bar_text(app)
        await pilot.press("p")
        await wait_for(pilot, lambda: " p Pause " in bar_text(app), what="Pause again")
        assert not app.paused
