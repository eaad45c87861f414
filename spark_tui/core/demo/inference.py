"""The simulated Spark's model servers for `--demo`: vLLM's /metrics page and Ollama's /api/ps,
written as those servers write them and read by the same scraper as a real one (no network).

vLLM's counters integrate the demo's load curve (core/demo/machine.py: the GPU's utilization
and power follow the same curve), one step per second of demo time, so the tokens/s shown move
with the GPU graphs. A stopped container refuses connections, as a real one would. Every page
is a pure function of the demo's clock and the fleet's state.
"""

from __future__ import annotations

import bisect
import json
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from spark_tui.core.demo.fleet import DemoFleet
from spark_tui.core.demo.machine import INFERENCE, DemoSpark
from spark_tui.core.inference.scrape import InferenceTarget

GIB = 1 << 30
VLLM_URL = "http://127.0.0.1:8000"
OLLAMA_URL = "http://127.0.0.1:11434"
VLLM_MODEL = "Qwen/Qwen3-32B-FP8"
OLLAMA_MODEL = "nomic-embed-text:latest"
INTERVAL_S = 1.0
# At full load (GB10, FP8 32B, ~24 requests batched): what the counters grow by per second.
GENERATION_PER_S = 240.0
PROMPT_PER_S = 1500.0
TOKENS_PER_REQUEST = 320.0
TTFT_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
ITL_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5)
_LABELS = f'engine="0",model_name="{VLLM_MODEL}"'


def demo_targets() -> list[InferenceTarget]:
    return [
        InferenceTarget("vllm", VLLM_URL, engine="vllm", interval=INTERVAL_S),
        InferenceTarget("ollama", OLLAMA_URL, engine="ollama", interval=INTERVAL_S),
    ]


class _Histogram:
    """Cumulative bucket counts; each second's observations land around that second's typical value."""

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0.0] * (len(bounds) + 1)
        self.total = 0.0
        self.sum = 0.0

    def observe(self, value: float, count: float) -> None:
        if count <= 0:
            return
        # Split between the bucket holding `value` and the next, so the interpolated median lands near it.
        index = bisect.bisect_left(self.bounds, value)
        self.counts[index] += count * 0.6
        self.counts[min(index + 1, len(self.bounds))] += count * 0.4
        self.total += count
        self.sum += value * count

    def lines(self, name: str) -> list[str]:
        out = [f"# HELP {name} Histogram of {name.split(':', 1)[1]}.", f"# TYPE {name} histogram"]
        running = 0.0
        for bound, count in zip(self.bounds, self.counts):
            running += count
            out.append(f'{name}_bucket{{{_LABELS},le="{bound}"}} {_count(running)}')
        out.append(f'{name}_bucket{{{_LABELS},le="+Inf"}} {_count(self.total)}')
        out.append(f"{name}_count{{{_LABELS}}} {_count(self.total)}")
        out.append(f"{name}_sum{{{_LABELS}}} {self.sum!r}")
        return out


def _count(value: float) -> str:
    return repr(float(math.floor(value)))


class DemoInference:
    """`fetch(url) -> (status, body)`: the demo servers' answers now. Thread-safe."""

    def __init__(self, fleet: DemoFleet | None = None, *, clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.fleet = fleet or DemoFleet(wall_clock)
        self.spark = DemoSpark(clock=clock, wall_clock=wall_clock, fleet=self.fleet)  # the GPU's load curve
        self.clock = clock
        self.wall_clock = wall_clock
        self._lock = threading.Lock()
        self._second = 0  # demo seconds integrated so far
        self._tokens = {"prompt": 0.0, "generation": 0.0, "requests": 0.0}
        self._ttft = _Histogram(TTFT_BUCKETS)
        self._itl = _Histogram(ITL_BUCKETS)

    def targets(self) -> list[InferenceTarget]:
        return demo_targets()

    def serves(self, url: str) -> bool:
        return url.rstrip("/") in (VLLM_URL, OLLAMA_URL)

    def _serving(self) -> bool:
        return self.fleet.loaded(*INFERENCE) >= 1

    def load(self) -> float:
        return self.spark.moment().load

    def _advance(self) -> None:
        """Integrate the load curve up to now, a second at a time (a pure function of the demo's time)."""
        now = self.spark.elapsed()
        serving = self._serving()
        while self._second + 1 <= now:
            load = self.spark.load_at(self._second) if serving else 0.0
            generation = GENERATION_PER_S * load
            self._tokens["generation"] += generation
            self._tokens["prompt"] += PROMPT_PER_S * load
            finished = generation / TOKENS_PER_REQUEST
            self._tokens["requests"] += finished
            self._ttft.observe(0.09 + 0.55 * load ** 2, finished)
            self._itl.observe(0.035 + 0.06 * load, generation)
            self._second += 1

    def fetch(self, url: str) -> tuple[int, bytes]:
        base, _, path = url.partition("://")[2].partition("/")
        base, path = "http://" + base, "/" + path
        if base == VLLM_URL:
            if not self.fleet.is_running("ai-vllm-1"):
                raise ConnectionRefusedError(111, "Connection refused")
            if path == "/metrics":
                return 200, self.vllm_page().encode()
            return 404, b'{"detail":"Not Found"}'
        if base == OLLAMA_URL:
            if not self.fleet.is_running("ai-ollama-1"):
                raise ConnectionRefusedError(111, "Connection refused")
            if path == "/api/ps":
                return 200, self.ollama_ps()
            return 404, b"404 page not found"
        raise ConnectionRefusedError(111, "Connection refused")

    def vllm_page(self) -> str:
        with self._lock:
            self._advance()
            load = self.load() if self._serving() else 0.0
            running = round(22 * load)
            waiting = max(0, round(30 * (load - 0.9)))
            kv = 0.02 + 0.78 * load if running else 0.0
            lines = []

            def family(name: str, kind: str, value: float) -> None:
                lines.extend([f"# HELP {name} {name}.", f"# TYPE {name} {kind}", f"{name}{{{_LABELS}}} {value!r}"])

            family("vllm:num_requests_running", "gauge", float(running))
            family("vllm:num_requests_waiting", "gauge", float(waiting))
            family("vllm:kv_cache_usage_perc", "gauge", kv)
            family("vllm:prompt_tokens_total", "counter", float(math.floor(self._tokens["prompt"])))
            family("vllm:generation_tokens_total", "counter", float(math.floor(self._tokens["generation"])))
            family("vllm:request_success_total", "counter", float(math.floor(self._tokens["requests"])))
            lines += self._ttft.lines("vllm:time_to_first_token_seconds")
            lines += self._itl.lines("vllm:inter_token_latency_seconds")
            return "\n".join(lines) + "\n"

    def ollama_ps(self) -> bytes:
        expires = datetime.fromtimestamp(self.wall_clock(), UTC) + timedelta(minutes=4, seconds=30)
        model = {
            "name": OLLAMA_MODEL, "model": OLLAMA_MODEL, "size": int(3.4 * GIB), "size_vram": int(3.2 * GIB),
            "digest": "sha256:" + "0" * 64, "context_length": 8192,
            "details": {"format": "gguf", "family": "nomic-bert", "parameter_size": "137M", "quantization_level": "F16"},
            "expires_at": expires.isoformat(timespec="seconds").replace("+00:00", "Z"),
        }
        return json.dumps({"models": [model]}).encode()
