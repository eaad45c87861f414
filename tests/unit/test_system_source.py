"""The system source: /proc parsing, core groups, rates, sensors, NIC filtering."""

from types import SimpleNamespace

import pytest

from spark_tui.core.demo.machine import DemoSpark
from spark_tui.core.machine.system import SystemSource, group_cores, parse_core_kinds, parse_meminfo
from support import FakeClock

MEMINFO = """MemTotal:       125410320 kB
MemFree:         1000000 kB
MemAvailable:   50000000 kB
Buffers:          412304 kB
Cached:         14200000 kB
SwapTotal:      16777212 kB
SwapFree:       16774140 kB
HugePages_Total:       0
"""


def test_parse_meminfo_in_bytes():
    mem = parse_meminfo(MEMINFO)
    assert mem.total == 125410320 * 1024
    assert mem.used == (125410320 - 50000000) * 1024
    assert mem.swap_used == (16777212 - 16774140) * 1024


def test_parse_meminfo_without_memavailable_estimates_it():
    mem = parse_meminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 10 kB\nCached: 200 kB\n")
    assert mem.available == 310 * 1024


def test_spark_cpuinfo_gives_x925_and_a725_groups():
    kinds = parse_core_kinds(DemoSpark().read_proc("cpuinfo"))
    assert len(kinds) == 20
    groups = group_cores(kinds, [float(i) for i in range(20)], "CPU")
    assert [(g.name, len(g.cpus)) for g in groups] == [("Cortex-A725", 10), ("Cortex-X925", 10)]
    assert groups[1].percents == tuple(float(i) for i in range(10, 20))
    assert groups[1].average == pytest.approx(14.5)


def test_x86_cpuinfo_is_one_group_named_by_model():
    kinds = parse_core_kinds("processor\t: 0\nmodel name\t: AMD EPYC\n\nprocessor\t: 1\nmodel name\t: AMD EPYC\n")
    assert kinds == {}
    groups = group_cores(kinds, [10.0, 30.0], "AMD EPYC")
    assert [(g.name, g.cpus) for g in groups] == [("AMD EPYC", (0, 1))]


def test_offline_cpus_fall_back_to_one_group():
    kinds = {0: "Cortex-X925", 1: "Cortex-A725", 2: "Cortex-A725"}
    assert len(group_cores(kinds, [1.0, 2.0], "CPU")) == 1


class ScriptedPsutil:
    def __init__(self):
        self.disk = [(0, 0), (1_000_000, 500_000)]
        self.net = [
            {"eth0": (0, 0), "lo": (0, 0), "veth1": (0, 0)},
            {"eth0": (2_000_000, 1_000_000), "lo": (9e9, 9e9), "veth1": (5e9, 5e9)},
        ]

    def cpu_percent(self, percpu=False):
        return [10.0, 20.0]

    def getloadavg(self):
        return (1.0, 0.5, 0.25)

    def sensors_temperatures(self):
        return {
            "coretemp": [SimpleNamespace(label="Core 0", current=50.0, high=90.0), SimpleNamespace(label="Core 1", current=60.0, high=90.0)],
            "bogus": [SimpleNamespace(label="", current=-273.0, high=None)],
        }

    def disk_io_counters(self, perdisk=False):
        read, write = self.disk.pop(0)
        return SimpleNamespace(read_bytes=read, write_bytes=write)

    def net_io_counters(self, pernic=False):
        return {k: SimpleNamespace(bytes_recv=v[0], bytes_sent=v[1]) for k, v in self.net.pop(0).items()}

    def boot_time(self):
        return 0.0


def test_rates_need_two_samples_and_ignore_virtual_nics():
    clock = FakeClock(1000.0)
    src = SystemSource(psutil=ScriptedPsutil(), read_proc=lambda name: MEMINFO if name == "meminfo" else "", hostname="h", clock=clock)
    first = src.sample()
    assert first.disk_read_bps is None and first.net_rx_bps is None
    clock.advance(2.0)
    second = src.sample()
    assert second.disk_read_bps == 500_000 and second.disk_write_bps == 250_000
    assert second.net_rx_bps == 1_000_000 and second.net_tx_bps == 500_000
    assert second.load_average == (1.0, 0.5, 0.25)
    assert second.uptime_s == 1002.0
    assert [(t.label, t.celsius) for t in second.temperatures] == [("coretemp Core 1", 60.0)]


def test_unreadable_meminfo_is_reported_not_raised():
    def read_proc(name):
        raise PermissionError(13, "Permission denied")

    sample = SystemSource(psutil=ScriptedPsutil(), read_proc=read_proc, hostname="h").sample()
    assert sample.memory is None
    assert "meminfo" in sample.errors["memory"]
    assert sample.core_groups  # CPU still sampled


def test_real_machine_sample_has_memory_and_cores():
    src = SystemSource()
    sample = src.sample()
    assert sample.memory is not None and sample.memory.total > 0
    assert sum(len(g.cpus) for g in sample.core_groups) >= 1
