"""What the bench scripts share: spark-tui in a pseudo-terminal, as a user runs it over SSH, and
the process figures read from /proc."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import time

ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\x1b\][^\x07]*\x07")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def peak_rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def spark_tui_exe() -> str:
    return shutil.which("spark-tui") or os.path.join(os.path.dirname(sys.executable), "spark-tui")


def spawn(command: list[str], size: tuple[int, int], env: dict[str, str] | None = None) -> tuple[int, subprocess.Popen]:
    """Start `command` on a new pty of `size` (columns, rows); returns the master side and the process."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    env = env if env is not None else dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor")
    proc = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    return master, proc


def stop(proc: subprocess.Popen, master: int) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(5)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        proc.poll()  # it had exited already: collect its status
    os.close(master)


class Terminal:
    """A program in a pty that the caller reads as a terminal would (it never blocks on output)."""

    def __init__(self, command: list[str], size: tuple[int, int], env: dict[str, str] | None = None) -> None:
        self.master, self.proc = spawn(command, size, env)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _read(self, timeout: float) -> bytes | None:
        """One chunk of output, b"" if none came within `timeout`, None once the program is gone."""
        if not select.select([self.master], [], [], timeout)[0]:
            return b""
        try:
            return os.read(self.master, 65536)
        except OSError:
            return None

    def drain(self, seconds: float = 0.0) -> None:
        """Read and drop output for `seconds` (0: only what is already there)."""
        deadline = time.perf_counter() + seconds
        while True:
            chunk = self._read(0.05 if seconds == 0 else 0.2)
            if chunk is None:
                return
            if seconds == 0 and not chunk:
                return
            if seconds and time.perf_counter() >= deadline:
                return

    def wait_for(self, patterns: bytes | list[bytes], timeout: float) -> float:
        """Seconds until the text drawn from now on matches `patterns` (all of them, if a list)."""
        wanted = [patterns] if isinstance(patterns, bytes) else patterns
        started = time.perf_counter()
        seen = b""
        while time.perf_counter() - started < timeout:
            chunk = self._read(0.01)
            if chunk is None:
                break
            if chunk:
                seen = (seen + ANSI.sub(b"", chunk))[-400_000:]
                if all(re.search(p, seen) for p in wanted):
                    return time.perf_counter() - started
        raise RuntimeError(f"{wanted!r} did not appear within {timeout} s; saw {seen[-300:]!r}")

    def key(self, key: bytes, expect: bytes, timeout: float = 2.0) -> float:
        """Seconds from writing `key` until the screen shows `expect`."""
        self.drain()
        os.write(self.master, key)
        return self.wait_for(expect, timeout)

    def idle_cpu(self, seconds: float) -> float:
        """The program's CPU, % of one core, over `seconds` (reading what it draws meanwhile)."""
        start_cpu, start = cpu_seconds(self.proc.pid), time.perf_counter()
        self.drain(seconds)
        return (cpu_seconds(self.proc.pid) - start_cpu) / (time.perf_counter() - start) * 100

    def close(self) -> None:
        stop(self.proc, self.master)
