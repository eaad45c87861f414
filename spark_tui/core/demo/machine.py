"""A simulated DGX Spark for `--demo`: one load curve drives a fake pynvml, a fake psutil and
/proc text, so the real NVML and system code paths (including the GB10 handling) all run.

The GPU's processes are the demo containers' (core/demo/fleet.py): a running GPU service's
process holds its model's memory, loaded over MODEL_LOAD_S after the container starts, and the
inference load runs while vLLM's model is in memory. Pass the DemoFleet the containers view
uses, so both tell the same story. The simulation is a pure function of time and the fleet's
state: the same clock gives the same machine.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import psutil as real_psutil
import pynvml

from spark_tui.core.demo.fake_nvml import FakeGpu, FakeNvml
from spark_tui.core.demo.fleet import PROCESS_BY_PID, DemoFleet

if TYPE_CHECKING:
    from spark_tui.core.machine.sources import MachineSources

GIB = 1024**3
MEM_TOTAL_KB = 125_410_320  # about 119.6 GiB: what a Spark's /proc/meminfo reports after firmware
CYCLE_S = 240.0  # idle -> model load -> inference -> cool down
X925_CORES = 10
A725_CORES = 10

INFERENCE = ("ai", "vllm")  # the service whose requests make the load curve


@dataclass(frozen=True)
class Moment:
    """The simulated machine at one instant."""

    load: float  # 0..1 GPU busy fraction
    model_loaded: float  # 0..1 how much of the model sits in memory
    temperature_c: float
    noise: float  # -1..1, stable for a given instant


class DemoSpark:
    def __init__(
        self, clock: Callable[[], float] = time.monotonic, seed: int = 7, wall_clock: Callable[[], float] = time.time,
        fleet: DemoFleet | None = None,
    ) -> None:
        self.fleet = fleet or DemoFleet(wall_clock)
        self._clock = clock
        self._start = clock()
        self.started_wall = wall_clock()
        self._seed = seed
        self._last_moment: tuple[float, Moment] | None = None
        self.hostname = "spark-demo"
        self.nvml = FakeNvml(gpus=[self._gpu()], driver_version="580.95.05", cuda_version=13000)
        self.psutil = DemoPsutil(self)

    # -- the load curve --------------------------------------------------------------------

    def elapsed(self) -> float:
        return self._clock() - self._start

    def noise(self, t: float, channel: int) -> float:
        """A value in [-1, 1] that depends only on the half-second and the channel."""
        return hash((self._seed, channel, int(t * 2))) % 2001 / 1000 - 1.0

    def load_at(self, t: float) -> float:
        """The inference load `t` seconds into the demo while vLLM's model is in memory."""
        phase = t % CYCLE_S
        if phase < 30:  # idle
            return 0.0
        if phase < 50:  # model load: a little GPU work
            return 0.08
        if phase < 170:  # inference: bursts of requests
            burst = 0.5 + 0.5 * math.sin(phase / 9.0)
            return min(1.0, 0.72 + 0.25 * burst + 0.04 * self.noise(t, 1))
        return 0.0  # cool down, model stays resident

    def moment(self) -> Moment:
        t = self.elapsed()
        if self._last_moment is not None and self._last_moment[0] == t:
            return self._last_moment[1]
        loaded = self.fleet.loaded(*INFERENCE)
        # No requests while vLLM is down; a little GPU work while its weights load.
        serving = self.load_at if loaded >= 1 else (lambda _: 0.08 if loaded > 0 else 0.0)
        # Temperature follows load with a 40 s lag: integrate the recent past.
        samples = [serving(t - back) for back in range(0, 120, 4)]
        weights = [math.exp(-back / 40) for back in range(0, 120, 4)]
        lagged = sum(s * w for s, w in zip(samples, weights)) / sum(weights)
        moment = Moment(
            load=serving(t),
            model_loaded=loaded,
            temperature_c=38.0 + 36.0 * lagged + 0.6 * self.noise(t, 2),
            noise=self.noise(t, 3),
        )
        self._last_moment = (t, moment)
        return moment

    # -- GPU readings --------------------------------------------------------------------------

    def _gpu(self) -> FakeGpu:
        return FakeGpu(
            name="NVIDIA GB10",
            uuid="GPU-5f1b3a0e-demo-gb10-0000-000000000000",
            utilization=lambda: round(self.moment().load * 100),
            temperature=lambda: round(self.moment().temperature_c),
            power_mw=lambda: int((11.5 + 112 * self.moment().load + 2.5 * self.moment().noise) * 1000),
            sm_clock=lambda: 2405 if self.moment().load > 0.05 else 208,
            clock_events=self._clock_events,
            compute_processes=self._processes,
        )

    def _clock_events(self) -> int:
        moment = self.moment()
        if moment.load < 0.05:
            return pynvml.nvmlClocksEventReasonGpuIdle
        if moment.load > 0.95:
            return pynvml.nvmlClocksEventReasonSwPowerCap
        return 0

    def _processes(self) -> list[tuple[int, int]]:
        return self.fleet.gpu_processes()

    def gpu_memory_in_use(self) -> int:
        return sum(used for _, used in self._processes())

    # -- /proc ----------------------------------------------------------------------------------

    def read_proc(self, name: str) -> str:
        if name == "meminfo":
            return self._meminfo()
        if name == "cpuinfo":
            return self._cpuinfo()
        raise FileNotFoundError(f"/proc/{name} is not simulated")

    def _meminfo(self) -> str:
        moment = self.moment()
        base_used_kb = 9_800_000 + int(400_000 * moment.noise)
        gpu_kb = self.gpu_memory_in_use() // 1024
        cached_kb = 14_200_000 + int(6_000_000 * moment.model_loaded)
        available_kb = MEM_TOTAL_KB - base_used_kb - gpu_kb
        free_kb = max(0, available_kb - cached_kb)
        return "\n".join(
            [
                f"MemTotal:       {MEM_TOTAL_KB} kB",
                f"MemFree:        {free_kb} kB",
                f"MemAvailable:   {available_kb} kB",
                "Buffers:          412304 kB",
                f"Cached:         {cached_kb} kB",
                "SwapTotal:      16777212 kB",
                "SwapFree:       16774140 kB",
            ]
        )

    def _cpuinfo(self) -> str:
        blocks = []
        for cpu in range(X925_CORES + A725_CORES):
            part = "0xd87" if cpu < A725_CORES else "0xd85"  # the Spark lists its A725 cores first
            blocks.append(
                f"processor\t: {cpu}\nBogoMIPS\t: 2000.00\nCPU implementer\t: 0x41\n"
                f"CPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: {part}\nCPU revision\t: 1\n"
            )
        return "\n".join(blocks)


class DemoPsutil:
    """The slice of psutil that the system and NVML sources use, simulated."""

    Error = real_psutil.Error
    NoSuchProcess = real_psutil.NoSuchProcess

    def __init__(self, spark: DemoSpark) -> None:
        self._spark = spark
        self._boot = spark.started_wall - 3 * 86_400 - 4 * 3600
        self._counted_until = spark.elapsed()
        self._counters = {"disk_read": 4.1e10, "disk_write": 1.2e10, "net_rx": 9e9, "net_tx": 4e9, "lo": 2e9}

    def cpu_percent(self, percpu: bool = False) -> list[float] | float:
        moment = self._spark.moment()
        t = self._spark.elapsed()
        cores = []
        for cpu in range(X925_CORES + A725_CORES):
            fast = cpu >= A725_CORES
            base = (28 if fast else 9) * moment.load + (4 if fast else 2)
            cores.append(round(max(0.0, min(100.0, base + 6 * self._spark.noise(t, 100 + cpu))), 1))
        return cores if percpu else sum(cores) / len(cores)

    def getloadavg(self) -> tuple[float, float, float]:
        load = self._spark.moment().load
        return (round(0.4 + 5.5 * load, 2), round(0.5 + 4.1 * load, 2), round(0.6 + 2.2 * load, 2))

    def sensors_temperatures(self) -> dict[str, list[Any]]:
        moment = self._spark.moment()
        return {
            "acpitz": [SimpleNamespace(label="", current=round(moment.temperature_c - 6, 1), high=None, critical=None)],
            "nvme": [SimpleNamespace(label="Composite", current=44.9, high=84.8, critical=84.8)],
        }

    def _advance_counters(self) -> None:
        """Adds the bytes moved since the last call at the rates the load implies."""
        t = self._spark.elapsed()
        dt = max(0.0, t - self._counted_until)
        self._counted_until = t
        moment = self._spark.moment()
        loading = 0 < moment.model_loaded < 1
        rates = {
            "disk_read": 1.6e9 if loading else 2e5,  # model weights stream in from NVMe
            "disk_write": 3.5e5,
            "net_rx": 3e3 + 2.4e6 * moment.load,  # requests in, responses out
            "net_tx": 2e3 + 5.1e6 * moment.load,
            "lo": 9e6,
        }
        for name, rate in rates.items():
            self._counters[name] += rate * dt * (1 + 0.1 * moment.noise)

    def disk_io_counters(self, perdisk: bool = False) -> Any:
        self._advance_counters()
        return SimpleNamespace(read_bytes=int(self._counters["disk_read"]), write_bytes=int(self._counters["disk_write"]))

    def net_io_counters(self, pernic: bool = False) -> Any:
        self._advance_counters()
        c = self._counters
        counters = {
            "enP7s7": SimpleNamespace(bytes_recv=int(c["net_rx"]), bytes_sent=int(c["net_tx"])),
            "lo": SimpleNamespace(bytes_recv=int(c["lo"]), bytes_sent=int(c["lo"])),
        }
        return counters if pernic else counters["enP7s7"]

    def boot_time(self) -> float:
        return self._boot

    def Process(self, pid: int) -> Any:  # noqa: N802 - psutil's own name
        if pid not in PROCESS_BY_PID:
            raise real_psutil.NoSuchProcess(pid)
        _, proc = PROCESS_BY_PID[pid]
        user, command = proc.user, proc.command
        return SimpleNamespace(
            create_time=lambda: self._boot + pid,
            username=lambda: user,
            cmdline=lambda: command.split(),
            name=lambda: command.split()[0],
        )


def demo_machine_sources(fleet: DemoFleet | None = None) -> MachineSources:
    """The simulated Spark through the real NVML and system sources, its GPU processes those of
    `fleet` (pass the one the containers view reads)."""
    from spark_tui.core.machine.nvml import NvmlSource
    from spark_tui.core.machine.sources import MachineSources
    from spark_tui.core.machine.system import SystemSource

    spark = DemoSpark(fleet=fleet)
    return MachineSources(
        gpu=NvmlSource(nvml=spark.nvml, psutil=spark.psutil),
        system=SystemSource(psutil=spark.psutil, read_proc=spark.read_proc, hostname=spark.hostname),
        demo=True,
    )
