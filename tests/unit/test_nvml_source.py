"""The NVML source against a fake pynvml: GB10, a discrete H100, errors mid-run, no library."""

from types import SimpleNamespace

import psutil
import pynvml
import pytest
from support import FakeClock

from spark_tui.core.demo.fake_nvml import GPU_IS_LOST, NO_PERMISSION, NOT_SUPPORTED, UNKNOWN_ERROR, FakeNvml, gb10_static, h100
from spark_tui.core.machine.nvml import NvmlSource, clock_event_words


class NoProcesses:
    """psutil stand-in that knows no process (as for PIDs in another namespace)."""

    Error = psutil.Error

    def Process(self, pid):  # noqa: N802
        raise psutil.NoSuchProcess(pid)


def source(nvml: FakeNvml, ps=None) -> NvmlSource:
    return NvmlSource(nvml=nvml, psutil=ps or NoProcesses(), clock=FakeClock())


def test_gb10_unsupported_fields_are_none_with_reasons_never_zero():
    report = source(FakeNvml(gpus=[gb10_static()])).sample()
    gpu = report.gpus[0]
    assert report.problem is None
    assert report.driver_version == "580.95.05" and report.cuda_version == "13.0"
    assert gpu.name == "NVIDIA GB10"
    assert gpu.utilization_pct == 0.0 and gpu.temperature_c == 41.0 and gpu.power_w == pytest.approx(11.5)
    assert gpu.power_limit_w is None and gpu.fan_pct is None and gpu.memory_clock_mhz is None and gpu.framebuffer is None
    assert gpu.errors == {"power_limit": "Not Supported", "memory_clock": "Not Supported", "fan": "Not Supported", "memory": "Not Supported"}
    assert gpu.clock_events == ("idle",)
    assert gpu.processes == ()


def test_discrete_gpu_reports_framebuffer_limit_and_processes():
    gpu = source(FakeNvml(gpus=[h100()])).sample().gpus[0]
    assert gpu.framebuffer is not None and gpu.framebuffer.total == 80 * 1024**3
    assert gpu.power_limit_w == 700.0 and gpu.power_w == 412.0
    assert gpu.clock_events == ("power cap",)
    assert [(p.pid, p.used_memory, p.user) for p in gpu.processes] == [(31337, 50 * 1024**3, None)]
    assert gpu.process_memory == 50 * 1024**3


def test_a_field_failing_mid_run_only_blanks_that_field():
    calls = {"n": 0}

    def utilization():
        calls["n"] += 1
        return UNKNOWN_ERROR if calls["n"] > 2 else 55

    gpu_spec = h100()
    gpu_spec.utilization = utilization
    src = source(FakeNvml(gpus=[gpu_spec]))
    assert src.sample().gpus[0].utilization_pct == 55.0
    assert src.sample().gpus[0].utilization_pct == 55.0
    failed = src.sample().gpus[0]
    assert failed.utilization_pct is None
    assert failed.errors["utilization"] == "Unknown Error"
    assert failed.temperature_c == 58.0 and failed.power_w == 412.0  # the rest still read


def test_no_permission_on_process_list_gives_none_not_empty():
    spec = gb10_static()
    spec.compute_processes = NO_PERMISSION
    spec.graphics_processes = NO_PERMISSION
    gpu = source(FakeNvml(gpus=[spec])).sample().gpus[0]
    assert gpu.processes is None
    assert gpu.process_memory is None
    assert gpu.errors["compute_processes"] == "Insufficient Permissions"


def test_process_in_both_lists_appears_once_with_its_larger_figure():
    spec = gb10_static()
    spec.compute_processes = [(10, 100), (11, None)]
    spec.graphics_processes = [(10, 300)]
    gpu = source(FakeNvml(gpus=[spec])).sample().gpus[0]
    assert sorted((p.pid, p.used_memory) for p in gpu.processes) == [(10, 300), (11, None)]
    assert gpu.process_memory == 300


def test_lost_gpu_is_marked_and_the_source_restarts_later():
    spec = gb10_static()
    nvml = FakeNvml(gpus=[spec])
    src = source(nvml)
    assert not src.sample().gpus[0].lost
    for field in ("utilization", "temperature", "power_mw", "sm_clock", "clock_events"):
        setattr(spec, field, GPU_IS_LOST)
    report = src.sample()
    assert report.gpus[0].lost
    assert "lost" in report.problem
    after = src.sample()  # NVML was shut down; it is not retried at once
    assert after.gpus == () and "lost" in after.problem
    assert nvml.calls["nvmlInit"] == 1


def test_missing_library_says_what_to_do_and_retries_slowly(monkeypatch):
    nvml = FakeNvml(init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)
    src = source(nvml)
    report = src.sample()
    assert report.gpus == ()
    assert report.problem == "NVML library not found: is the NVIDIA driver installed?"
    src.sample()
    assert nvml.calls["nvmlInit"] == 1  # no retry storm: next attempt after 30 s
    monkeypatch.setattr("spark_tui.core.machine.nvml.time.monotonic", lambda: 10**9)
    src.sample()
    assert nvml.calls["nvmlInit"] == 2


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (pynvml.NVML_ERROR_DRIVER_NOT_LOADED, "NVIDIA driver not loaded"),
        (pynvml.NVML_ERROR_NO_PERMISSION, "no permission"),
        (pynvml.NVML_ERROR_UNKNOWN, "NVML could not start: Unknown Error"),
    ],
)
def test_other_start_failures_are_explained(code, words):
    assert words in source(FakeNvml(init_error=code)).sample().problem


def test_real_pynvml_without_a_driver_reports_library_not_found():
    """This machine has no NVIDIA driver: the real library path must say so, not crash."""
    report = NvmlSource(clock=FakeClock()).sample()
    assert report.gpus == ()
    assert report.problem == "NVML library not found: is the NVIDIA driver installed?"


def test_clock_event_words_cover_thermal_and_power():
    mask = pynvml.nvmlClocksEventReasonHwThermalSlowdown | pynvml.nvmlClocksEventReasonSwPowerCap
    assert clock_event_words(pynvml, mask) == ("power cap", "thermal (hardware)")
    assert clock_event_words(pynvml, 0) == ()


def test_process_user_and_command_come_from_psutil_and_are_cached():
    looked_up = []

    class Ps:
        Error = psutil.Error

        def Process(self, pid):  # noqa: N802
            looked_up.append(pid)
            return SimpleNamespace(create_time=lambda: 1.0, username=lambda: "spark", cmdline=lambda: ["vllm", "serve", "m"], name=lambda: "vllm")

    spec = gb10_static()
    spec.compute_processes = [(4242, 2**30)]
    src = source(FakeNvml(gpus=[spec]), Ps())
    proc = src.sample().gpus[0].processes[0]
    assert (proc.user, proc.command) == ("spark", "vllm serve m")
    src.sample()
    assert looked_up == [4242, 4242]  # the Process is re-checked (pid reuse), details are cached


def test_not_supported_everywhere_still_returns_a_sample():
    spec = gb10_static()
    for field in ("utilization", "temperature", "power_mw", "sm_clock", "clock_events", "compute_processes", "graphics_processes"):
        setattr(spec, field, NOT_SUPPORTED)
    gpu = source(FakeNvml(gpus=[spec])).sample().gpus[0]
    assert gpu.utilization_pct is None and gpu.temperature_c is None and gpu.power_w is None
    assert gpu.clock_events is None and gpu.processes is None and not gpu.lost
