"""Which layers are active here, and that each holds on its own: without bubblewrap hiding /etc and
/proc, Landlock and the uid still deny the reads and seccomp still stops the signal."""

from __future__ import annotations

import dataclasses
import os

import pytest

from zquant_backtest.adapters.sandbox import launcher

from .conftest import failure_of

pytestmark = pytest.mark.sandbox


def test_sandbox_info_lists_the_active_layers() -> None:
    info = launcher.sandbox_info()
    assert {"empty-env", "rlimits", "seccomp"} <= set(info.layers)
    assert ("landlock" in info.layers) == (info.landlock_abi >= 1)
    assert ("uid" in info.layers) == (os.geteuid() == 0)
    if os.geteuid() == 0:
        assert info.uid != 0


@pytest.fixture
def without_bubblewrap(monkeypatch: pytest.MonkeyPatch) -> None:
    info = launcher.sandbox_info()
    if "landlock" not in info.layers:
        pytest.skip("Landlock is not available on this kernel")
    reduced = dataclasses.replace(info, layers=tuple(x for x in info.layers if x != "bubblewrap"))
    monkeypatch.setattr(launcher, "sandbox_info", lambda: reduced)


@pytest.mark.usefixtures("without_bubblewrap")
async def test_landlock_alone_denies_a_world_readable_file() -> None:
    reason = await failure_of("def handle_bar(context, bars):\n    open('/etc/passwd').read()\n")
    assert "PermissionError" in reason, reason


@pytest.mark.usefixtures("without_bubblewrap")
async def test_parent_environ_and_signals_stay_out_of_reach_without_namespaces(canary_env: str) -> None:
    read = ("def handle_bar(context, bars):\n"
            "    raise RuntimeError(open(f\"/proc/{context.params['parent']}/environ\", 'rb').read())\n")
    reason = await failure_of(read, params={"parent": os.getpid()})
    assert "PermissionError" in reason and canary_env not in reason, reason
    kill = "import os\ndef handle_bar(context, bars):\n    os.kill(context.params['parent'], 15)\n"
    assert "forbidden system call" in await failure_of(kill, params={"parent": os.getpid()})
