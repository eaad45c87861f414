"""What watching model servers costs the idle dashboard (issue #15: +0.3 % of a core at most for
four servers scraped each second).

Starts four loopback vLLM servers (tests/servers/inference_servers.py: the page vLLM writes, ~40 KB,
idle), then runs `spark-tui` in a pseudo-terminal twice per round: once with a config that names
the four as [[inference]] servers scraped every second, once without; the same idle-CPU window
each (the machine's own samples, Docker and probes run in both). Prints each run and the medians.

    .venv/bin/python bench/inference_idle_bench.py [--runs 3] [--seconds 30] [--size 160x48] [--servers 4]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from pty_support import Terminal, spark_tui_exe  # noqa: E402
from servers.inference_servers import VllmEngine, vllm_server  # noqa: E402

FIRST_FRAME = [rb"Used\s+\d+\.\d", rb"sampled \d\d:\d\d:\d\d"]
SETTLE_S = 5.0


def idle_cpu(config: Path, size: tuple[int, int], seconds: float, expect: bytes | None) -> float:
    env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor", XDG_STATE_HOME=str(config.parent))
    with Terminal([spark_tui_exe(), "--config", str(config)], size, env) as term:
        term.wait_for(FIRST_FRAME, timeout=20)
        if expect is not None:
            term.wait_for([expect], timeout=20)  # the servers' figures are on screen: they are scraped
        term.drain(SETTLE_S)
        return term.idle_cpu(seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--size", default="160x48")
    parser.add_argument("--servers", type=int, default=4)
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    servers = [vllm_server(VllmEngine()).start() for _ in range(args.servers)]
    try:
        with tempfile.TemporaryDirectory(prefix="spark-tui-inference-bench-") as tmp:
            base = Path(tmp)
            plain = base / "plain.toml"
            plain.write_text("[dashboard]\ninterval = 1.0\n")
            watched = base / "watched.toml"
            watched.write_text("[dashboard]\ninterval = 1.0\n" + "".join(
                f'\n[[inference]]\nname = "vllm-{i}"\nurl = "{server.url}"\nengine = "vllm"\ninterval = 1.0\n'
                for i, server in enumerate(servers)
            ))
            without, with_servers = [], []
            for run in range(args.runs):
                a = idle_cpu(plain, size, args.seconds, None)
                b = idle_cpu(watched, size, args.seconds, rb"Inference")
                without.append(a)
                with_servers.append(b)
                print(f"run {run + 1}: idle CPU {a:.2f} % without, {b:.2f} % with {args.servers} servers scraped each second (+{b - a:.2f})", flush=True)
                time.sleep(1)
            print(
                f"median of {args.runs} at {args.size}, {args.seconds:g} s: {statistics.median(without):.2f} % without, "
                f"{statistics.median(with_servers):.2f} % with {args.servers} servers: "
                f"+{statistics.median(b - a for a, b in zip(without, with_servers)):.2f} % of one core"
            )
    finally:
        for server in servers:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
