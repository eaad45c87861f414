"""Memory as it should be read: one pool on unified-memory GPUs (GB10), VRAM on discrete ones.

On GB10 nvmlDeviceGetMemoryInfo is not supported (or reports zeros): the truth is
/proc/meminfo (used = MemTotal - MemAvailable), with the GPU processes' own figures beside it.
"""

from __future__ import annotations

from spark_tui.models.machine import GpuReport, GpuSample, MemInfo, MemoryOverview

UNIFIED_NAMES = ("GB10", "GH200", "GB200", "JETSON", "THOR")


def unified_memory_reason(gpu: GpuSample, mem_total: int | None) -> str | None:
    """Why this GPU shares system memory, or None for a discrete GPU."""
    name = (gpu.name or "").upper()
    for marker in UNIFIED_NAMES:
        if marker in name:
            return f"{gpu.name} shares system memory"
    if gpu.framebuffer is None and "memory" in gpu.errors:
        return f"NVML memory info: {gpu.errors['memory']}"
    if gpu.framebuffer is not None:
        if gpu.framebuffer.total == 0:
            return "NVML reports 0 bytes of GPU memory"
        if mem_total and abs(gpu.framebuffer.total - mem_total) <= 0.1 * mem_total:
            return "NVML memory total equals system memory"
    return None


def memory_overview(report: GpuReport | None, mem: MemInfo | None) -> MemoryOverview:
    gpus = report.gpus if report else ()
    total = mem.total if mem else None
    reasons = [r for r in (unified_memory_reason(g, total) for g in gpus) if r]
    unified = bool(reasons)
    process_figures = [g.process_memory for g in gpus]
    known = [m for m in process_figures if m is not None]
    return MemoryOverview(
        unified=unified,
        unified_reason=reasons[0] if reasons else None,
        total=total,
        used=mem.used if mem else None,
        available=mem.available if mem else None,
        page_cache=mem.cached + mem.buffers if mem else None,
        swap_total=mem.swap_total if mem else None,
        swap_used=mem.swap_used if mem else None,
        gpu_process_memory=sum(known) if known else None,
        framebuffers=tuple(
            (g.index, g.framebuffer)
            for g in gpus
            if g.framebuffer is not None and unified_memory_reason(g, total) is None
        ),
    )
