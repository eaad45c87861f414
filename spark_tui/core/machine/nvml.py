"""GPUs through NVML (nvidia-ml-py), one field at a time.

Each NVML call can fail on its own (GB10: memory info, power limit, fan and memory clock are
not supported). A failed call makes that field None and records why; it never becomes 0 and
never stops the other fields. The `nvml` and `psutil` modules are parameters so that tests and
the demo can stand in for the libraries themselves and every line here still runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeVar

from spark_tui.models.machine import FramebufferMemory, GpuProcess, GpuReport, GpuSample

T = TypeVar("T")

RETRY_START_AFTER_S = 30.0

CLOCK_EVENT_WORDS: tuple[tuple[str, str], ...] = (
    ("GpuIdle", "idle"),
    ("ApplicationsClocksSetting", "application clocks"),
    ("SwPowerCap", "power cap"),
    ("HwSlowdown", "hardware slowdown"),
    ("SyncBoost", "sync boost"),
    ("SwThermalSlowdown", "thermal (software)"),
    ("HwThermalSlowdown", "thermal (hardware)"),
    ("HwPowerBrakeSlowdown", "power brake"),
    ("DisplayClockSetting", "display clocks"),
)


def clock_event_words(nvml: Any, mask: int) -> tuple[str, ...]:
    """The reasons in an NVML clocks-event bitmask, in words ("power cap", "thermal (hardware)")."""
    words = []
    for suffix, word in CLOCK_EVENT_WORDS:
        bit = getattr(nvml, f"nvmlClocksEventReason{suffix}", None)
        if bit is None:
            bit = getattr(nvml, f"nvmlClocksThrottleReason{suffix}", 0)
        if bit and mask & bit:
            words.append(word)
    return tuple(words)


def describe_start_failure(nvml: Any, exc: BaseException) -> str:
    """Why NVML could not start, and what to do about it."""
    code = getattr(exc, "value", None)
    if code == getattr(nvml, "NVML_ERROR_LIBRARY_NOT_FOUND", object()):
        return "NVML library not found: is the NVIDIA driver installed?"
    if code == getattr(nvml, "NVML_ERROR_DRIVER_NOT_LOADED", object()):
        return "NVIDIA driver not loaded: check `nvidia-smi` and `lsmod | grep nvidia`"
    if code == getattr(nvml, "NVML_ERROR_NO_PERMISSION", object()):
        return "no permission to use NVML: check access to /dev/nvidia*"
    if code == getattr(nvml, "NVML_ERROR_LIB_RM_VERSION_MISMATCH", object()):
        return "NVML and the kernel driver differ in version: reboot after a driver update"
    return f"NVML could not start: {exc}"


class NvmlSource:
    """Samples every GPU. Blocking: call from a thread, never from the UI loop."""

    def __init__(self, nvml: Any = None, psutil: ModuleType | Any = None, clock: Callable[[], float] = time.time) -> None:
        if nvml is None:
            import pynvml as nvml
        if psutil is None:
            import psutil
        self._nvml = nvml
        self._psutil = psutil
        self._clock = clock
        self._handles: list[Any] = []
        self._static: dict[int, tuple[str | None, str | None]] = {}  # index -> (name, uuid)
        self._driver: str | None = None
        self._cuda: str | None = None
        self._problem: str | None = None
        self._started = False
        self._next_start_at = 0.0
        self._process_cache: dict[tuple[int, float], tuple[str | None, str | None]] = {}

    # -- lifecycle -------------------------------------------------------------------------

    def _start(self) -> None:
        nvml = self._nvml
        now = time.monotonic()
        if now < self._next_start_at:
            return
        try:
            nvml.nvmlInit()
        except nvml.NVMLError as exc:
            self._problem = describe_start_failure(nvml, exc)
            self._next_start_at = now + RETRY_START_AFTER_S
            return
        try:
            count = nvml.nvmlDeviceGetCount()
            self._handles = [nvml.nvmlDeviceGetHandleByIndex(i) for i in range(count)]
        except nvml.NVMLError as exc:
            self._problem = f"NVML started but could not list GPUs: {exc}"
            self._next_start_at = now + RETRY_START_AFTER_S
            self._shutdown_quietly()
            return
        self._driver = self._call(nvml.nvmlSystemGetDriverVersion, {}, "driver")
        cuda = self._call(nvml.nvmlSystemGetCudaDriverVersion, {}, "cuda")
        self._cuda = f"{cuda // 1000}.{cuda % 1000 // 10}" if isinstance(cuda, int) and cuda > 0 else None
        self._static = {
            i: (self._call(nvml.nvmlDeviceGetName, {}, "name", h), self._call(nvml.nvmlDeviceGetUUID, {}, "uuid", h))
            for i, h in enumerate(self._handles)
        }
        self._problem = None if self._handles else "NVML found no GPU"
        self._started = True

    def _shutdown_quietly(self) -> None:
        try:
            self._nvml.nvmlShutdown()
        except self._nvml.NVMLError:
            return  # nothing to release: NVML was not running

    def close(self) -> None:
        if self._started:
            self._shutdown_quietly()
            self._started = False

    def _restart(self) -> None:
        """Every GPU vanished (reset, driver reload): start over on the next sample."""
        self.close()
        self._handles = []
        self._next_start_at = time.monotonic() + RETRY_START_AFTER_S

    # -- sampling ----------------------------------------------------------------------------

    def sample(self) -> GpuReport:
        if not self._started:
            self._start()
        if not self._started:
            return GpuReport(taken_at=self._clock(), problem=self._problem)
        gpus = tuple(self._sample_gpu(i, h) for i, h in enumerate(self._handles))
        if gpus and all(g.lost for g in gpus):
            self._restart()
            self._problem = "every GPU is lost (NVML: GPU is lost): a reset or reboot may be needed; retrying"
        return GpuReport(
            taken_at=self._clock(),
            gpus=gpus,
            driver_version=self._driver,
            cuda_version=self._cuda,
            problem=self._problem,
        )

    def _call(self, fn: Callable[..., T], errors: dict[str, str], field: str, *args: Any) -> T | None:
        try:
            value = fn(*args)
        except self._nvml.NVMLError as exc:
            errors[field] = str(exc)
            return None
        return value.decode() if isinstance(value, bytes) else value

    def _sample_gpu(self, index: int, handle: Any) -> GpuSample:
        nvml = self._nvml
        errors: dict[str, str] = {}
        codes: set[int] = set()

        def read(field: str, fn: Callable[..., T], *args: Any) -> T | None:
            try:
                return fn(handle, *args)
            except nvml.NVMLError as exc:
                errors[field] = str(exc)
                codes.add(getattr(exc, "value", -1))
                return None

        utilization = read("utilization", nvml.nvmlDeviceGetUtilizationRates)
        temperature = read("temperature", nvml.nvmlDeviceGetTemperature, nvml.NVML_TEMPERATURE_GPU)
        power_mw = read("power", nvml.nvmlDeviceGetPowerUsage)
        limit_mw = read("power_limit", nvml.nvmlDeviceGetEnforcedPowerLimit)
        sm_clock = read("sm_clock", nvml.nvmlDeviceGetClockInfo, nvml.NVML_CLOCK_SM)
        mem_clock = read("memory_clock", nvml.nvmlDeviceGetClockInfo, nvml.NVML_CLOCK_MEM)
        fan = read("fan", nvml.nvmlDeviceGetFanSpeed)
        events_fn = getattr(nvml, "nvmlDeviceGetCurrentClocksEventReasons", None) or nvml.nvmlDeviceGetCurrentClocksThrottleReasons
        events = read("clock_events", events_fn)
        memory = read("memory", nvml.nvmlDeviceGetMemoryInfo)
        processes = self._processes(handle, errors)
        name, uuid = self._static.get(index, (None, None))
        lost = getattr(nvml, "NVML_ERROR_GPU_IS_LOST", None) in codes
        return GpuSample(
            index=index,
            name=name,
            uuid=uuid,
            utilization_pct=float(utilization.gpu) if utilization is not None else None,
            temperature_c=float(temperature) if temperature is not None else None,
            power_w=power_mw / 1000 if power_mw is not None else None,
            power_limit_w=limit_mw / 1000 if limit_mw else None,
            sm_clock_mhz=sm_clock,
            memory_clock_mhz=mem_clock,
            fan_pct=fan,
            clock_events=clock_event_words(nvml, events) if events is not None else None,
            framebuffer=FramebufferMemory(int(memory.total), int(memory.used), int(memory.free)) if memory is not None else None,
            processes=processes,
            errors=errors,
            lost=lost,
        )

    def _processes(self, handle: Any, errors: dict[str, str]) -> tuple[GpuProcess, ...] | None:
        nvml = self._nvml
        found: dict[int, GpuProcess] = {}
        failures = 0
        for kind, fn in (("compute", nvml.nvmlDeviceGetComputeRunningProcesses), ("graphics", nvml.nvmlDeviceGetGraphicsRunningProcesses)):
            listed = self._call(fn, errors, f"{kind}_processes", handle)
            if listed is None:
                failures += 1
                continue
            for proc in listed:
                used = getattr(proc, "usedGpuMemory", None)
                previous = found.get(proc.pid)
                if previous is not None and (previous.used_memory or 0) >= (used or 0):
                    continue
                user, command = self._describe(proc.pid)
                found[proc.pid] = GpuProcess(proc.pid, kind, int(used) if used is not None else None, user, command)
        if failures == 2:
            return None
        return tuple(sorted(found.values(), key=lambda p: -(p.used_memory or 0)))

    def _describe(self, pid: int) -> tuple[str | None, str | None]:
        """(user, command line) of a process, cached by (pid, start time); None where hidden."""
        ps = self._psutil
        try:
            proc = ps.Process(pid)
            key = (pid, proc.create_time())
        except (ps.Error, OSError):
            return None, None
        cached = self._process_cache.get(key)
        if cached is not None:
            return cached
        try:
            user: str | None = proc.username()
        except (ps.Error, OSError, KeyError):
            user = None
        try:
            command: str | None = " ".join(proc.cmdline()) or proc.name()
        except (ps.Error, OSError):
            command = None
        if len(self._process_cache) > 512:
            self._process_cache.clear()
        self._process_cache[key] = (user, command)
        return user, command
