"""Which layers are active here, and that each holds on its own: without bubblewrap hiding /etc and
/proc, Landlock and the uid still deny the reads and seccomp still stops the signal."""

from __future__ import annotations

import dataclasses
import os

import pytest

from zquant_backtest.adapters.sandbox import launcher

from .conftest import failure_of

pytestmark = pytest.mark.sandbox


def test_probe_lists_the_active_layers() -> None:
    info = launcher.probe_layers()
    assert {"empty-env", "rlimits", "seccomp"} <= set(info.layers)
    assert ("landlock" in info.layers) == (info.landlock_abi is not None)
    assert ("uid" in info.layers) == (os.geteuid() == 0) == (info.uid is not None)
    assert info.uid != 0
    assert dict(info.rlimits) == {"AS": 3 << 29, "CPU": 600, "NOFILE": 64, "FSIZE": 0, "CORE": 0, "NPROC": 0}


@pytest.fixture
def without_bubblewrap(monkeypatch: pytest.MonkeyPatch) -> None:
    info = launcher.probe_layers()
    assert info.landlock_abi is not None, "Landlock is not available on this kernel"
    reduced = dataclasses.replace(info, bubblewrap=False)
    monkeypatch.setattr(launcher, "probe_layers", lambda: reduced)


@pytest.mark.usefixtures("without_bubblewrap")
def test_landlock_alone_denies_a_world_readable_file() -> None:
    reason = failure_of("def handle_bar(context, bars):\n    open('/etc/passwd').read()\n")
    assert "PermissionError" in reason, reason


@pytest.mark.usefixtures("without_bubblewrap")
def test_parent_environ_and_signals_stay_out_of_reach_without_namespaces(canary_env: str) -> None:
    read = ("def handle_bar(context, bars):\n"
            "    raise RuntimeError(open(f\"/proc/{context.params['parent']}/environ\", 'rb').read())\n")
    reason = failure_of(read, params={"parent": os.getpid()})
    assert "PermissionError" in reason and canary_env not in reason, reason
    kill = "import os\ndef handle_bar(context, bars):\n    os.kill(context.params['parent'], 15)\n"
    assert "forbidden system call" in failure_of(kill, params={"parent": os.getpid()})
