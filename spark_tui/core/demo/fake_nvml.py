"""A stand-in for the `pynvml` module, for the demo and the tests.

It has the same function names as pynvml and raises pynvml's own NVMLError classes, so the
code under test cannot tell it from the real library. Each reading of a FakeGpu is a value, a
callable that returns one, or `Fails(code)`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pynvml


@dataclass(frozen=True)
class Fails:
    """Makes a reading raise NVMLError(code)."""

    code: int


NOT_SUPPORTED = Fails(pynvml.NVML_ERROR_NOT_SUPPORTED)
NO_PERMISSION = Fails(pynvml.NVML_ERROR_NO_PERMISSION)
GPU_IS_LOST = Fails(pynvml.NVML_ERROR_GPU_IS_LOST)
UNKNOWN_ERROR = Fails(pynvml.NVML_ERROR_UNKNOWN)


@dataclass
class FakeGpu:
    name: str
    uuid: str = "GPU-00000000-0000-0000-0000-000000000000"
    utilization: Any = 0  # percent
    temperature: Any = 35  # °C
    power_mw: Any = 10_000
    power_limit_mw: Any = NOT_SUPPORTED
    sm_clock: Any = 0
    memory_clock: Any = NOT_SUPPORTED
    fan: Any = NOT_SUPPORTED
    clock_events: Any = 0
    memory: Any = NOT_SUPPORTED  # (total, used, free) in bytes
    compute_processes: Any = ()  # [(pid, used bytes or None)]
    graphics_processes: Any = ()


@dataclass
class FakeNvml:
    """Drop-in for the pynvml module: pass it where NvmlSource takes `nvml`."""

    gpus: list[FakeGpu] = field(default_factory=list)
    driver_version: str = "580.95.05"
    cuda_version: int = 13000
    init_error: int | None = None  # e.g. NVML_ERROR_LIBRARY_NOT_FOUND
    calls: Counter = field(default_factory=Counter)
    initialized: bool = False

    NVMLError = pynvml.NVMLError

    def __getattr__(self, name: str) -> Any:
        # Constants (NVML_*, nvmlClocksEventReason*) come from the real module.
        if name.startswith(("NVML_", "nvmlClocks")):
            return getattr(pynvml, name)
        raise AttributeError(name)

    def _value(self, reading: Any) -> Any:
        if callable(reading):
            reading = reading()
        if isinstance(reading, Fails):
            raise pynvml.NVMLError(reading.code)
        return reading

    def _gpu(self, handle: int) -> FakeGpu:
        if not self.initialized:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_UNINITIALIZED)
        return self.gpus[handle]

    def nvmlInit(self) -> None:
        self.calls["nvmlInit"] += 1
        if self.init_error is not None:
            raise pynvml.NVMLError(self.init_error)
        self.initialized = True

    def nvmlShutdown(self) -> None:
        if not self.initialized:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_UNINITIALIZED)
        self.initialized = False

    def nvmlSystemGetDriverVersion(self) -> str:
        return self.driver_version

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        return self.cuda_version

    def nvmlDeviceGetCount(self) -> int:
        if not self.initialized:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_UNINITIALIZED)
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        self._gpu(index)
        return index

    def nvmlDeviceGetName(self, handle: int) -> str:
        return self._gpu(handle).name

    def nvmlDeviceGetUUID(self, handle: int) -> str:
        return self._gpu(handle).uuid

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> Any:
        self.calls["utilization"] += 1
        return SimpleNamespace(gpu=self._value(self._gpu(handle).utilization), memory=0)

    def nvmlDeviceGetTemperature(self, handle: int, sensor: int) -> int:
        return self._value(self._gpu(handle).temperature)

    def nvmlDeviceGetPowerUsage(self, handle: int) -> int:
        return self._value(self._gpu(handle).power_mw)

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: int) -> int:
        return self._value(self._gpu(handle).power_limit_mw)

    def nvmlDeviceGetClockInfo(self, handle: int, clock: int) -> int:
        gpu = self._gpu(handle)
        return self._value(gpu.sm_clock if clock == pynvml.NVML_CLOCK_SM else gpu.memory_clock)

    def nvmlDeviceGetFanSpeed(self, handle: int) -> int:
        return self._value(self._gpu(handle).fan)

    def nvmlDeviceGetCurrentClocksEventReasons(self, handle: int) -> int:
        return self._value(self._gpu(handle).clock_events)

    def nvmlDeviceGetMemoryInfo(self, handle: int, version: Any = None) -> Any:
        total, used, free = self._value(self._gpu(handle).memory)
        return SimpleNamespace(total=total, used=used, free=free)

    def nvmlDeviceGetComputeRunningProcesses(self, handle: int) -> list[Any]:
        return self._processes(self._gpu(handle).compute_processes)

    def nvmlDeviceGetGraphicsRunningProcesses(self, handle: int) -> list[Any]:
        return self._processes(self._gpu(handle).graphics_processes)

    def _processes(self, reading: Any) -> list[Any]:
        return [SimpleNamespace(pid=pid, usedGpuMemory=used) for pid, used in self._value(reading)]


GIB = 1024**3


def h100(index: int = 0) -> FakeGpu:
    """A discrete data-centre GPU: everything reported, 80 GB of its own memory."""
    return FakeGpu(
        name="NVIDIA H100 80GB HBM3",
        uuid=f"GPU-h100-{index:04d}",
        utilization=63,
        temperature=58,
        power_mw=412_000,
        power_limit_mw=700_000,
        sm_clock=1755,
        memory_clock=2619,
        fan=NOT_SUPPORTED,
        clock_events=pynvml.nvmlClocksEventReasonSwPowerCap,
        memory=(80 * GIB, 51 * GIB, 29 * GIB),
        compute_processes=[(31337, 50 * GIB)],
    )


def gb10_static() -> FakeGpu:
    """GB10 as its driver reports it: no memory info, power limit, fan or memory clock."""
    return FakeGpu(
        name="NVIDIA GB10",
        uuid="GPU-gb10-0000",
        utilization=0,
        temperature=41,
        power_mw=11_500,
        sm_clock=208,
        clock_events=pynvml.nvmlClocksEventReasonGpuIdle,
    )
