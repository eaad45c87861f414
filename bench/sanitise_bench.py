"""What the untrusted-text boundary (spark_tui.core.untrusted) costs per call.

    .venv/bin/python bench/sanitise_bench.py [--runs 7] [--seconds 0.2]

Cases: a short ASCII name through clean() (the fast path every field takes), a 200-character
log line without and with SGR colour through log_line() (a container can log 10,000 lines/s:
at 1 µs a line that is 1% of a core), a hostile line (OSC title, CSI clear, 8-bit CSI, bidi
override, BEL, backspaces, CR overwrite) through clean() and log_line(), a 100-line block
through clean_block(), and a 1 MB line through clean() and log_line() (cut at their limits: the
cost must not grow with the input). Each case is timed in `--runs` runs of about `--seconds`
each; prints the median µs per call and the spread. The machine is shared: compare medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spark_tui.core.untrusted import clean, clean_block, log_line  # noqa: E402

SHORT = "vllm/vllm-openai:v0.6.3"
PLAIN_LINE = ("INFO 01-01 12:00:00 [metrics.py:351] Avg prompt throughput: 1234.5 tokens/s, " * 3)[:200]
COLOUR_LINE = (
    "\x1b[32mINFO\x1b[0m 01-01 12:00:00 \x1b[2m[metrics.py:351]\x1b[22m Avg prompt throughput: "
    "\x1b[1;38;5;208m1234.5\x1b[0m tokens/s, generation: \x1b[38;2;80;200;120m98.7\x1b[39m tokens/s, "
    "running: 4 reqs, swapped: 0 reqs, pending: 0 reqs, GPU KV cache usage: 12.3%, CPU: 0.0%"
)
HOSTILE_LINE = (
    "ok\x1b]0;PWNED\x07 \x1b[2J\x1b[H \x9b6n \u202eexe.txt\u202c \x07\x07 abc\x08\x08\x08xyz "
    "safe\rPWNED \x1bP1$rPWNED\x1b\\ \t[@click=app.quit]x[/]"
)
BLOCK = "\n".join(f"#{n} [+] Running 3/3 ✔ Container spark-{n}  Started   0.{n}s" for n in range(100))
MEGABYTE_LINE = "PWNED " + "A" * (1 << 20)

CASES: list[tuple[str, Callable[[], object]]] = [
    ("clean: short ASCII (fast path)", lambda: clean(SHORT)),
    ("clean: 200-char plain line", lambda: clean(PLAIN_LINE)),
    ("log_line: 200-char plain line (fast path)", lambda: log_line(PLAIN_LINE)),
    (f"log_line: {len(COLOUR_LINE)}-char line with SGR colour", lambda: log_line(COLOUR_LINE)),
    (f"clean: hostile line ({len(HOSTILE_LINE)} chars)", lambda: clean(HOSTILE_LINE)),
    (f"log_line: hostile line ({len(HOSTILE_LINE)} chars)", lambda: log_line(HOSTILE_LINE)),
    ("clean_block: 100 lines of compose output", lambda: clean_block(BLOCK)),
    ("clean: 1 MB line (cut at 1,000)", lambda: clean(MEGABYTE_LINE)),
    ("log_line: 1 MB line (cut at 4,096)", lambda: log_line(MEGABYTE_LINE)),
]


def per_call_us(call: Callable[[], object], seconds: float) -> float:
    """µs per call over a loop of about `seconds` (the loop count found by a short trial)."""
    count = 1
    while True:
        start = time.perf_counter()
        for _ in range(count):
            call()
        elapsed = time.perf_counter() - start
        if elapsed >= seconds / 10 or count >= 1 << 24:
            break
        count *= 4
    count = max(1, int(count * seconds / max(elapsed, 1e-9)))
    start = time.perf_counter()
    for _ in range(count):
        call()
    return (time.perf_counter() - start) / count * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=0.2, help="length of one run of one case")
    args = parser.parse_args(argv)
    width = max(len(name) for name, _ in CASES)
    print(f"{'case':<{width}}  {'median µs':>10}  {'min':>9}  {'max':>9}")
    for name, call in CASES:
        call()  # warm caches (the SGR parse cache, regex compilation)
        runs = [per_call_us(call, args.seconds) for _ in range(args.runs)]
        print(f"{name:<{width}}  {statistics.median(runs):>10.3f}  {min(runs):>9.3f}  {max(runs):>9.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
