"""The poller: never overlaps calls, survives errors with backoff, pauses, and a hung call
never blocks the event loop."""

import asyncio
import threading
import time

import pytest

from spark_tui.core.polling import CallThread, Poller, run_in_daemon_thread


async def test_slow_samples_stretch_the_interval_instead_of_stacking():
    in_flight = 0
    peak = 0
    results = []
    four = asyncio.Event()

    def sample():
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        time.sleep(0.15)  # slower than the interval
        in_flight -= 1
        return time.monotonic()

    def deliver(value):
        results.append(value)
        if len(results) >= 4:
            four.set()

    poller = Poller("slow", sample, deliver, on_error=pytest.fail, interval=0.05)
    task = asyncio.create_task(poller.run())
    async with asyncio.timeout(10):
        await four.wait()  # four samples delivered: enough to see whether calls overlapped
    task.cancel()
    assert peak == 1
    gaps = [b - a for a, b in zip(results, results[1:])]
    assert min(gaps) >= 0.14  # each waited for the one before: the interval stretched


async def test_errors_are_reported_and_retried_with_backoff():
    calls = []
    errors = []

    def sample():
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise OSError("daemon gone")
        return "ok"

    delivered = []
    poller = Poller("flaky", sample, delivered.append, errors.append, interval=0.05)
    task = asyncio.create_task(poller.run())
    for _ in range(100):
        if delivered:
            break
        await asyncio.sleep(0.02)
    task.cancel()
    assert [str(e) for e in errors] == ["daemon gone", "daemon gone"]
    assert delivered == ["ok"]
    assert calls[1] - calls[0] >= 0.09  # 0.05 * 2
    assert calls[2] - calls[1] >= 0.19  # 0.05 * 4


async def test_pause_stops_sampling_and_resume_restarts():
    started_paused = []  # for each call: whether the poller was paused when it began
    delivered = []
    arrived = asyncio.Event()
    poller: Poller[int]

    def sample():
        started_paused.append(poller.paused)
        return len(started_paused)

    def deliver(value):
        delivered.append(value)
        arrived.set()

    poller = Poller("p", sample, deliver, pytest.fail, interval=0.02)
    task = asyncio.create_task(poller.run())
    async with asyncio.timeout(10):
        await arrived.wait()  # it samples
        poller.pause()
        while poller.in_flight_since is not None:  # the call under way at the pause ends
            await asyncio.sleep(0.005)
        count = len(delivered)
        for _ in range(3):  # pokes wake it: a paused poller must still not sample
            poller.poke()
            for _ in range(5):
                await asyncio.sleep(0)
        assert len(delivered) == count and poller.paused
        arrived.clear()
        poller.resume()
        await arrived.wait()  # it samples again
    task.cancel()
    assert len(delivered) > count
    assert not any(started_paused)  # no call began while paused


async def test_a_hung_call_does_not_block_the_loop():
    release = threading.Event()
    poller = Poller("hung", lambda: release.wait(10), lambda _: None, pytest.fail, interval=0.01)
    task = asyncio.create_task(poller.run())
    started = time.monotonic()
    for _ in range(10):
        await asyncio.sleep(0.01)
    assert time.monotonic() - started < 0.5  # the loop kept turning
    assert poller.in_flight_since is not None
    release.set()
    task.cancel()


async def test_run_in_daemon_thread_passes_exceptions():
    def boom():
        raise ValueError("x")

    with pytest.raises(ValueError):
        await run_in_daemon_thread(boom)
    assert await run_in_daemon_thread(lambda: 42) == 42


async def test_a_poller_reuses_one_thread_for_its_calls():
    threads = []
    poller = Poller("steady", lambda: threads.append(threading.get_ident()), lambda _: None, pytest.fail, interval=0.01)
    task = asyncio.create_task(poller.run())
    for _ in range(100):
        if len(threads) >= 5:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    assert len(threads) >= 5 and len(set(threads)) == 1 and threads[0] != threading.get_ident()


async def test_call_thread_passes_results_and_exceptions_in_order():
    calls = CallThread("t")

    def boom():
        raise ValueError("x")

    assert await calls.run(lambda: 1) == 1
    with pytest.raises(ValueError):
        await calls.run(boom)
    assert await calls.run(lambda: 2) == 2


async def test_a_cancelled_wait_drops_the_late_result_and_the_thread_goes_on():
    calls = CallThread("t")
    release = threading.Event()
    waiting = asyncio.create_task(calls.run(lambda: release.wait(5)))
    await asyncio.sleep(0.05)
    waiting.cancel()
    release.set()
    assert await calls.run(lambda: "next") == "next"
