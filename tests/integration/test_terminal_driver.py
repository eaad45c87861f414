"""The dashboard in a real pseudo-terminal, through spark-tui's terminal driver: keys (a lone
escape too) arrive, an idle app's input thread sleeps, and quitting does not wait for it."""

import os
import signal
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from pty_support import Terminal  # noqa: E402


def voluntary_switches(pid: int) -> int:
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            for line in open(f"/proc/{pid}/task/{task}/status"):
                if line.startswith("voluntary_ctxt_switches:"):
                    total += int(line.split()[1])
        except OSError:
            continue  # a thread that ended meanwhile
    return total


@pytest.fixture
def dashboard(tmp_path):
    env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor", XDG_CONFIG_HOME=str(tmp_path))
    with Terminal([sys.executable, "-m", "spark_tui", "--demo"], (100, 30), env) as term:
        term.wait_for([rb"Utilization\s+\d+%", rb"sampled \d\d:\d\d:\d\d"], timeout=20)
        yield term


def test_keys_and_a_lone_escape_after_a_quiet_spell(dashboard):
    dashboard.key(b"?", rb"Keys")
    time.sleep(2.5)  # long enough for the input thread to stop ticking and sleep
    dashboard.key(b"\x1b", rb"Utilization\s+\d+%")  # a lone escape still completes (ESCDELAY)
    dashboard.key(b"p", rb"PAUSED")


def test_an_idle_app_is_not_woken_ten_times_a_second(dashboard):
    dashboard.key(b"p", rb"PAUSED")  # no samples: what wakes now is timers and the input thread
    dashboard.drain(2.0)
    before = voluntary_switches(dashboard.proc.pid)
    dashboard.drain(3.0)
    woken = voluntary_switches(dashboard.proc.pid) - before
    assert woken < 20, f"{woken} wakes in 3 s while paused (an input thread polling at 0.1 s adds 30)"


def test_quit_is_prompt_while_the_input_thread_sleeps(dashboard):
    # Read the screen meanwhile, as a terminal does: a pty nobody reads fills up, and then the
    # app waits on its own writes, which says nothing about the input thread.
    dashboard.drain(2.0)
    started = time.monotonic()
    os.write(dashboard.master, b"q")
    while dashboard.proc.poll() is None and time.monotonic() - started < 5:
        dashboard.drain(0.05)
    assert dashboard.proc.returncode == 0
    assert time.monotonic() - started < 1.5


def test_suspended_and_resumed_it_takes_keys_again(dashboard):
    os.kill(dashboard.proc.pid, signal.SIGTSTP)  # as ctrl+z in a shell: the app leaves the screen and stops
    for _ in range(50):
        if process_state(dashboard.proc.pid) == "T":
            break
        dashboard.drain(0.05)  # the screen it leaves is read, as a terminal would
    assert process_state(dashboard.proc.pid) == "T"
    os.kill(dashboard.proc.pid, signal.SIGCONT)  # fg
    dashboard.key(b"p", rb"PAUSED", timeout=5)
    os.write(dashboard.master, b"q")
    assert dashboard.proc.wait(timeout=5) == 0


def process_state(pid: int) -> str:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("State:"):
            return line.split()[1]
    return "?"
