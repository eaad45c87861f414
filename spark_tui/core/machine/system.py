"""CPU, memory, temperatures, disk and network, from psutil and /proc.

`psutil` and `read_proc` are parameters so the demo and tests can stand in for the machine
while the parsing below still runs.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spark_tui.models.machine import CoreGroup, MemInfo, SystemSample, Temperature

# "CPU part" values from /proc/cpuinfo on Arm (MIDR part numbers, implementer 0x41).
ARM_CORE_NAMES = {
    "0xd03": "Cortex-A53",
    "0xd05": "Cortex-A55",
    "0xd08": "Cortex-A72",
    "0xd0b": "Cortex-A76",
    "0xd0c": "Neoverse-N1",
    "0xd40": "Neoverse-V1",
    "0xd41": "Cortex-A78",
    "0xd44": "Cortex-X1",
    "0xd46": "Cortex-A510",
    "0xd47": "Cortex-A710",
    "0xd48": "Cortex-X2",
    "0xd49": "Neoverse-N2",
    "0xd4d": "Cortex-A715",
    "0xd4e": "Cortex-X3",
    "0xd4f": "Neoverse-V2",
    "0xd80": "Cortex-A520",
    "0xd81": "Cortex-A720",
    "0xd82": "Cortex-X4",
    "0xd85": "Cortex-X925",
    "0xd87": "Cortex-A725",
}

# Virtual interfaces whose traffic is already counted on a physical one.
VIRTUAL_NIC_PREFIXES = ("lo", "veth", "docker", "br-", "virbr", "cni", "flannel", "tailscale")


def read_proc_file(name: str) -> str:
    return Path("/proc", name).read_text()


def parse_meminfo(text: str) -> MemInfo:
    fields: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            scale = 1024 if len(parts) > 1 and parts[1] == "kB" else 1
            fields[key.strip()] = int(parts[0]) * scale
    total = fields["MemTotal"]
    free = fields.get("MemFree", 0)
    return MemInfo(
        total=total,
        # Kernels before 3.14 have no MemAvailable; free + reclaimable cache approximates it.
        available=fields.get("MemAvailable", free + fields.get("Buffers", 0) + fields.get("Cached", 0)),
        free=free,
        buffers=fields.get("Buffers", 0),
        cached=fields.get("Cached", 0),
        swap_total=fields.get("SwapTotal", 0),
        swap_free=fields.get("SwapFree", 0),
    )


def parse_core_kinds(cpuinfo: str) -> dict[int, str]:
    """CPU index -> core kind from /proc/cpuinfo ("Cortex-X925"); empty when it doesn't say."""
    kinds: dict[int, str] = {}
    for block in cpuinfo.split("\n\n"):
        fields = {}
        for line in block.splitlines():
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if "processor" not in fields or not fields["processor"].isdigit():
            continue
        part = fields.get("cpu part")
        if part:
            kinds[int(fields["processor"])] = ARM_CORE_NAMES.get(part.lower(), f"Arm part {part}")
    return kinds


def group_cores(kinds: dict[int, str], percents: list[float], fallback_name: str) -> tuple[CoreGroup, ...]:
    """Cores grouped by kind, in the order the kinds first appear; one group if kinds are unknown."""
    if not kinds or len(kinds) != len(percents) or set(kinds) != set(range(len(percents))):
        return (CoreGroup(fallback_name, tuple(range(len(percents))), tuple(percents)),) if percents else ()
    order: dict[str, list[int]] = {}
    for cpu in sorted(kinds):
        order.setdefault(kinds[cpu], []).append(cpu)
    return tuple(CoreGroup(name, tuple(cpus), tuple(percents[c] for c in cpus)) for name, cpus in order.items())


def cpu_model_name(cpuinfo: str) -> str:
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("model name", "hardware") and value.strip():
            return value.strip()
    return "CPU"


class SystemSource:
    """Samples CPU, memory, sensors, disks and network. Blocking: call from a thread."""

    def __init__(
        self,
        psutil: Any = None,
        read_proc: Callable[[str], str] = read_proc_file,
        hostname: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if psutil is None:
            import psutil
        self._psutil = psutil
        self._read_proc = read_proc
        self._clock = clock
        self._hostname = hostname or socket.gethostname()
        self._core_kinds: dict[int, str] | None = None
        self._model_name = "CPU"
        self._previous: tuple[float, tuple[int, int] | None, tuple[int, int] | None] | None = None
        self._psutil.cpu_percent(percpu=True)  # primes the per-core counters

    def sample(self) -> SystemSample:
        errors: dict[str, str] = {}
        now = self._clock()
        if self._core_kinds is None:
            try:
                cpuinfo = self._read_proc("cpuinfo")
                self._core_kinds = parse_core_kinds(cpuinfo)
                self._model_name = cpu_model_name(cpuinfo)
            except OSError as exc:
                errors["cpuinfo"] = str(exc)
                self._core_kinds = {}
        memory = self._memory(errors)
        groups = group_cores(self._core_kinds, list(self._psutil.cpu_percent(percpu=True)), self._model_name)
        disk, net = self._disk_counters(errors), self._net_counters(errors)
        rates = self._rates(now, disk, net)
        return SystemSample(
            taken_at=now,
            hostname=self._hostname,
            memory=memory,
            core_groups=groups,
            load_average=self._load_average(errors),
            temperatures=self._temperatures(errors),
            disk_read_bps=rates[0],
            disk_write_bps=rates[1],
            net_rx_bps=rates[2],
            net_tx_bps=rates[3],
            uptime_s=self._uptime(now, errors),
            errors=errors,
        )

    def _memory(self, errors: dict[str, str]) -> MemInfo | None:
        try:
            return parse_meminfo(self._read_proc("meminfo"))
        except (OSError, KeyError, ValueError) as exc:
            errors["memory"] = f"cannot read /proc/meminfo: {exc}"
            return None

    def _load_average(self, errors: dict[str, str]) -> tuple[float, float, float] | None:
        try:
            one, five, fifteen = self._psutil.getloadavg()
        except (OSError, AttributeError) as exc:
            errors["load_average"] = str(exc)
            return None
        return (one, five, fifteen)

    def _temperatures(self, errors: dict[str, str]) -> tuple[Temperature, ...]:
        """The hottest reading of each sensor chip, hottest chips first."""
        reader = getattr(self._psutil, "sensors_temperatures", None)
        if reader is None:
            return ()
        try:
            chips = reader()
        except (OSError, RuntimeError) as exc:
            errors["temperatures"] = str(exc)
            return ()
        readings = []
        for chip, entries in chips.items():
            valid = [e for e in entries if e.current is not None and -40 < e.current < 150]
            if valid:
                hottest = max(valid, key=lambda e: e.current)
                label = chip if not hottest.label or len(valid) == 1 else f"{chip} {hottest.label}"
                readings.append(Temperature(label, float(hottest.current), hottest.high or None))
        return tuple(sorted(readings, key=lambda t: -t.celsius))

    def _disk_counters(self, errors: dict[str, str]) -> tuple[int, int] | None:
        try:
            counters = self._psutil.disk_io_counters(perdisk=False)
        except (OSError, RuntimeError) as exc:
            errors["disk"] = str(exc)
            return None
        return (counters.read_bytes, counters.write_bytes) if counters is not None else None

    def _net_counters(self, errors: dict[str, str]) -> tuple[int, int] | None:
        try:
            nics = self._psutil.net_io_counters(pernic=True)
        except (OSError, RuntimeError) as exc:
            errors["network"] = str(exc)
            return None
        physical = [c for name, c in nics.items() if not name.startswith(VIRTUAL_NIC_PREFIXES)]
        return (sum(c.bytes_recv for c in physical), sum(c.bytes_sent for c in physical))

    def _rates(self, now: float, disk: tuple[int, int] | None, net: tuple[int, int] | None) -> tuple[float | None, ...]:
        previous, self._previous = self._previous, (now, disk, net)
        if previous is None or now <= previous[0]:
            return (None, None, None, None)
        elapsed = now - previous[0]

        def rate(current: tuple[int, int] | None, before: tuple[int, int] | None, i: int) -> float | None:
            if current is None or before is None or current[i] < before[i]:
                return None  # counters missing or reset
            return (current[i] - before[i]) / elapsed

        return (rate(disk, previous[1], 0), rate(disk, previous[1], 1), rate(net, previous[2], 0), rate(net, previous[2], 1))

    def _uptime(self, now: float, errors: dict[str, str]) -> float | None:
        try:
            return max(0.0, now - self._psutil.boot_time())
        except (OSError, RuntimeError) as exc:
            errors["uptime"] = str(exc)
            return None
