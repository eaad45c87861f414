"""The Inference screen (key `i`) shows a loopback vLLM's figures, scraped by the app's own worker."""

from __future__ import annotations

from servers.inference_servers import VllmEngine, vllm_server
from support import FakeClock, nvml_sources, wait_for

from spark_tui.config import parse_config
from spark_tui.core.demo.fake_nvml import FakeNvml
from spark_tui.ui.app import make_app
from spark_tui.ui.inference.screen import ServerView
from spark_tui.ui.widgets.text_lines import TextLines


async def test_i_screen_shows_a_loopback_vllm() -> None:
    engine = VllmEngine(model="org/served-model")
    engine.set_load(running=7, waiting=3, kv_usage=0.42)
    with vllm_server(engine) as server:
        config = parse_config(f'[[inference]]\nname = "local-vllm"\nurl = "{server.url}"\ninterval = 0.5\n')
        app = make_app(config, sources=nvml_sources(FakeNvml(), FakeClock()), start_polling=False)
        async with app.run_test(size=(160, 48)) as pilot:
            assert app.inference.known
            app.inference.start()
            await pilot.press("i")
            await wait_for(pilot, lambda: len(server.renders) >= 2, what="two scrapes")
            engine.add_tokens(generation=5000)
            renders = len(server.renders)
            await wait_for(pilot, lambda: len(server.renders) > renders, what="a scrape after the tokens")
            await wait_for(pilot, lambda: (app.inference.figures["local-vllm"].generation_tokens_per_s or 0) > 0,
                           what="a generation rate")
            view = app.screen.query_one(ServerView)
            await wait_for(pilot, lambda: "org/served-model" in str(view.query_one(".server-facts", TextLines).render()),
                           what="the model on screen")
            figures = app.inference.figures["local-vllm"]
            assert figures.running == 7 and figures.waiting == 3 and figures.kv_cache_usage == 0.42
            charts = view._charts
            await wait_for(pilot, lambda: charts["running"]._figures is not None and charts["running"]._figures[0] == "7 · 3",
                           what="running · waiting in its graph's title")
            assert charts["kv"]._figures[0] == "42%"
            assert "local-vllm" in str(view.border_title)


async def test_no_inference_server_no_key_and_no_scraping() -> None:
    app = make_app(parse_config(""), sources=nvml_sources(FakeNvml(), FakeClock()), start_polling=False)
    async with app.run_test(size=(120, 40)) as pilot:
        app.inference.start()
        await pilot.pause()
        assert not app.inference.known
        assert not app.inference._running  # no worker while nothing is known
        assert "inference" not in {b.action.split("'")[1] for _, b, *_ in app.screen.active_bindings.values()
                                   if b.action.startswith("switch_mode")}
