"""Where should the dashboard run a benchmark: in a thread of the app, or in a child process?

For each mode, `spark-tui` runs in a pseudo-terminal (as over SSH) and starts a benchmark from
its benchmark screen against a loopback server in its own process (bench/loopback_server.py);
while the run is heavy, keys are pressed and the time until the screen shows their effect is
measured. Afterwards the run's items/s (from its saved results) is set against the same plan
run headless (`spark-tui bench embed`, no screen at all). Medians of --runs runs.

    python bench/bench_screen_bench.py                    # both modes, 3 runs each
    python bench/bench_screen_bench.py --modes child --runs 5 --seconds 20

"thread" mode swaps the app's launcher for ThreadRun (spark_tui.core.bench.launch) in a wrapper;
the app as shipped uses "child".
"""

from __future__ import annotations

import argparse
import os
import re
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from pty_support import ANSI, spawn, stop  # noqa: E402

# Keys, and what the screen shows once each took effect (text only that screen draws).
KEY_CHECKS = [(b"?", rb"Reading memory"), (b"\x1b", rb"1 s buckets"), (b"d", rb"Page cache"), (b"b", rb"1 s buckets")]


class Terminal:
    """A program in a pty; a thread keeps reading so the program never blocks on its output."""

    def __init__(self, command: list[str], size: tuple[int, int], env: dict[str, str]) -> None:
        self.master, self.proc = spawn(command, size, env)
        self.chunks: list[tuple[float, bytes]] = []
        self.lock = threading.Lock()
        self.alive = True
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        while self.alive:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    return
                with self.lock:
                    self.chunks.append((time.perf_counter(), ANSI.sub(b"", chunk)))

    def text_since(self, since: float) -> bytes:
        with self.lock:
            return b"".join(chunk for at, chunk in self.chunks if at >= since)

    def wait_for(self, pattern: bytes, since: float, timeout: float) -> float:
        """When (perf_counter) the output after `since` first matched `pattern`."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with self.lock:
                chunks = [(at, chunk) for at, chunk in self.chunks if at >= since]
            seen = b""
            for at, chunk in chunks:
                seen += chunk
                if re.search(pattern, seen):
                    return at
            time.sleep(0.005)
        raise RuntimeError(f"{pattern!r} did not appear within {timeout} s; last output: {self.text_since(since)[-300:]!r}")

    def type(self, data: bytes, pause: float = 0.05) -> None:
        for i in range(len(data)):
            os.write(self.master, data[i : i + 1])
            time.sleep(pause / 5)
        time.sleep(pause)

    def key_latency(self, key: bytes, expect: bytes) -> float:
        time.sleep(0.05)
        pressed = time.perf_counter()
        os.write(self.master, key)
        return self.wait_for(expect, pressed, 3.0) - pressed

    def close(self) -> None:
        self.alive = False
        stop(self.proc, self.master)


class LoopbackServer:
    def __init__(self, a_ms: float, b_ms: float, parallel: int) -> None:
        self.process = subprocess.Popen([sys.executable, str(HERE / "loopback_server.py"), "--a-ms", str(a_ms), "--b-ms", str(b_ms),
                                         "--parallel", str(parallel)], stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        self.port = int(line.split()[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def saved_items_per_s(data_home: str) -> float:
    from spark_tui.core.bench.saved_runs import list_runs

    runs = list_runs(Path(data_home) / "spark-tui" / "runs")
    if not runs or not runs[0].summaries:
        raise RuntimeError("the run left no summary")
    from spark_tui.core.bench.saved_runs import load_run

    run = load_run(runs[0].directory)
    return run.summaries[0].items_per_s or 0.0


def wait_for_result(data_home: str, timeout: float) -> float:
    """The run's items/s once its results on disk say it ended."""
    from spark_tui.core.bench.saved_runs import list_runs

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = list_runs(Path(data_home) / "spark-tui" / "runs")
        if runs and runs[0].status not in ("running",):
            return saved_items_per_s(data_home)
        time.sleep(0.5)
    raise RuntimeError(f"the run did not end within {timeout:g} s")


def ui_run(mode: str, server: LoopbackServer, args: argparse.Namespace) -> dict[str, float]:
    data_home = tempfile.mkdtemp(prefix="sparktui-t5-bench-")
    env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor", XDG_DATA_HOME=data_home)
    # the sweep comes from the config (the form's defaults): only the URL is typed. No Docker, so no
    # discovered service becomes the form's default.
    config = Path(data_home, "config.toml")
    config.write_text(f"[bench]\nbatch_sizes = [{args.batch}]\nconcurrencies = [{args.concurrency}]\nduration = {args.seconds}\n"
                      '[docker]\nhost = "unix:///nonexistent/docker.sock"\n')
    command = [sys.executable, str(Path(__file__).resolve()), "--app", mode, "--config", str(config)]
    width, height = (int(x) for x in args.size.split("x"))
    term = Terminal(command, (width, height), env)
    try:
        term.wait_for(rb"Page cache", 0, 20)
        time.sleep(1.0)
        t = time.perf_counter()
        term.type(b"b")
        term.wait_for(rb"New benchmark", t, 5)
        time.sleep(0.5)
        t = time.perf_counter()
        term.type(b"\x15" + server.url.encode())  # ctrl+u clears the URL field
        term.wait_for(re.escape(server.url.encode()), t, 10)  # the form took it
        time.sleep(0.5)
        t = time.perf_counter()
        term.type(b"\r")
        term.wait_for(rb"p50 \d", t, 30)  # the first measured second is on screen
        time.sleep(1.0)
        latencies: dict[bytes, list[float]] = {}
        started = time.perf_counter()
        while time.perf_counter() - started < args.seconds - 4:
            for key, expect in KEY_CHECKS:
                latencies.setdefault(key, []).append(term.key_latency(key, expect))
                time.sleep(0.3)
        items = wait_for_result(data_home, args.seconds + 60)
    finally:
        term.close()
        shutil.rmtree(data_home, ignore_errors=True)
    flat = [x for values in latencies.values() for x in values]
    for (key, expect), values in zip(KEY_CHECKS, latencies.values()):
        print(f"    key {key!r} → {expect.decode()}: median {statistics.median(values) * 1000:.0f} ms, max {max(values) * 1000:.0f} ms", flush=True)
    return {"items_per_s": items, "key_ms": statistics.median(flat) * 1000, "key_max_ms": max(flat) * 1000, "keys": len(flat)}


def headless_run(server: LoopbackServer, args: argparse.Namespace) -> float:
    data_home = tempfile.mkdtemp(prefix="sparktui-t5-bench-")
    try:
        subprocess.run([sys.executable, "-m", "spark_tui", "bench", "embed", "--url", server.url, "--adapter", "openai",
                        "--batch", args.batch, "--concurrency", args.concurrency, "--duration", str(args.seconds), "--quiet"],
                       check=True, capture_output=True, env=dict(os.environ, XDG_DATA_HOME=data_home), timeout=args.seconds + 60)
        return saved_items_per_s(data_home)
    finally:
        shutil.rmtree(data_home, ignore_errors=True)


def run_app(mode: str, argv: list[str]) -> None:
    """The dashboard as shipped ("child"), or with the run in a thread of the app ("thread")."""
    from spark_tui.ui.bench import controller as live_bench
    from spark_tui.core.bench.launch import ThreadRun
    from spark_tui.cli import main

    if mode == "thread":
        original = live_bench.BenchController.__init__

        def patched(self, host, settings, targets, *, demo=False, launcher=None):  # type: ignore[no-untyped-def]
            original(self, host, settings, targets, demo=demo, launcher=lambda request, sink: ThreadRun(request, sink))

        live_bench.BenchController.__init__ = patched  # type: ignore[method-assign]
    sys.exit(main(argv))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--app", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    parser.add_argument("--modes", default="thread,child")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=15, help="length of the benchmark cell")
    parser.add_argument("--batch", default="1")
    parser.add_argument("--concurrency", default="16")
    parser.add_argument("--server", default="2,0.05,8", help="loopback server a_ms,b_ms,parallel (default: the accuracy yardstick's)")
    parser.add_argument("--size", default="160x48")
    args = parser.parse_args()
    if args.app:
        run_app(args.app, ["--config", args.config] if args.config else [])
        return
    a_ms, b_ms, parallel = (float(x) for x in args.server.split(","))
    server = LoopbackServer(a_ms, b_ms, int(parallel))
    results: dict[str, list[dict[str, float]]] = {}
    headless: list[float] = []
    try:
        print(f"server a={a_ms:g} ms b={b_ms:g} ms/item c={parallel:g}; cell batch {args.batch} × concurrency {args.concurrency}, {args.seconds} s; {args.size}", flush=True)
        for i in range(args.runs):
            headless.append(headless_run(server, args))
            print(f"run {i + 1}: headless {headless[-1]:,.0f} items/s", flush=True)
            for mode in args.modes.split(","):
                result = ui_run(mode, server, args)
                results.setdefault(mode, []).append(result)
                print(f"run {i + 1}: {mode:6s} {result['items_per_s']:,.0f} items/s, key to screen median {result['key_ms']:.0f} ms "
                      f"(max {result['key_max_ms']:.0f} ms, {result['keys']:.0f} keys)", flush=True)
    finally:
        server.close()
    base = statistics.median(headless)
    print(f"median of {args.runs}: headless {base:,.0f} items/s")
    for mode, rows in results.items():
        items = statistics.median(r["items_per_s"] for r in rows)
        print(f"  {mode:6s}: {items:,.0f} items/s ({items / base:.1%} of headless) · key to screen median "
              f"{statistics.median(r['key_ms'] for r in rows):.0f} ms, worst {max(r['key_max_ms'] for r in rows):.0f} ms")


if __name__ == "__main__":
    main()
