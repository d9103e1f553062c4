"""The pre-warmed zygote: a forked child holds the same layers as a fresh one and nothing of the zygote's."""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time

import pytest

from zquant_backtest.adapters.sandbox import launcher, zygote

from .conftest import FAST, failure_of, mismatches, run_strategy
from .test_escapes_os_layers import CASES, _in_handle_bar

pytestmark = pytest.mark.sandbox

FRESH = dataclasses.replace(FAST, zygote=False)
OPEN_FDS = '''import os
def handle_bar(context, bars):
    open_fds = []
    for fd in range(3, 1024):
        try:
            os.fstat(fd)
            open_fds.append(fd)
        except OSError:
            pass
    order_shares(context.universe[0], len(open_fds))
'''


def test_a_fresh_interpreter_fails_every_attempt_alike() -> None:
    picked = ("ctypes_system", "import_socket", "fork_bomb", "open_passwd", "memory_bomb", "segfault")
    cases = {name: (_in_handle_bar(CASES[name][0]), CASES[name][1]) for name in picked}
    assert mismatches(cases, limits=FRESH) == {}


def test_a_forked_child_holds_only_its_own_two_pipe_ends() -> None:
    """Another run is in flight meanwhile, so the zygote holds its pipes and socket too."""
    slow = "import time\ndef handle_bar(context, bars):\n    time.sleep(1.0)\n"
    other = threading.Thread(target=run_strategy, args=(slow,), kwargs={"days": 1})
    other.start()
    try:
        assert [o.amount for o in run_strategy(OPEN_FDS, days=1)[0]] == [2.0]
    finally:
        other.join()


def test_the_zygote_is_out_of_reach_and_restarts_when_it_dies() -> None:
    kill = _in_handle_bar("import os\nos.kill(os.getpid() - 1, 9)")
    assert mismatches({"kill_zygote": (kill, "forbidden system call")}) == {}
    assert zygote._zygotes
    for alive in list(zygote._zygotes.values()):
        os.killpg(alive._process.pid, signal.SIGKILL)
        alive._process.wait()
    assert [o.amount for o in run_strategy(OPEN_FDS, days=1)[0]] == [2.0]


def _descendants(root: int) -> set[int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def test_a_breached_deadline_leaves_no_process_behind() -> None:
    run_strategy(OPEN_FDS, days=1)
    only = zygote._zygotes[(os.getpid(), launcher.probe_layers().layers)]
    idle = _descendants(only._process.pid)
    assert "deadline exceeded" in failure_of("def handle_bar(context, bars):\n    while True:\n        pass\n")
    assert _descendants(only._process.pid) == idle


def test_the_zygote_outlives_the_thread_that_first_needed_it() -> None:
    for started in list(zygote._zygotes.values()):
        started.stop()
    first = threading.Thread(target=run_strategy, args=(OPEN_FDS,), kwargs={"days": 1})
    first.start()
    first.join()
    time.sleep(0.5)
    assert zygote._zygotes[(os.getpid(), launcher.probe_layers().layers)].alive()
