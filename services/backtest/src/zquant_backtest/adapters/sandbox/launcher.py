"""How the child is started: which interpreter, which uid, which paths, which layers are active here.

The service's venv interpreter lives under /root (0700 here), which the sandbox uid cannot traverse.
The child therefore runs the system CPython of the same minor version (/usr/bin/python3.11, world
readable, ABI-compatible with the venv's wheels) started with `-I -S`, and only the venv's
site-packages and this service's source directory are put on its path (both world-readable under
/work). Where no such interpreter exists the venv's own `sys.executable` is used.
"""

from __future__ import annotations

import functools
import logging
import os
import pwd
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import msgpack
import numpy
import pyseccomp

import zquant_backtest

from .child import rlimits
from .child.landlock import abi_version
from .limits import SandboxLimits

log = logging.getLogger(__name__)

SANDBOX_USER = "zquant-sandbox"
CHILD_ENV = {"LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
_BOOT = (
    "import sys; sys.path[:0] = sys.argv[1].split(':'); "
    "from zquant_backtest.adapters.sandbox.child.main import main; main(sys.argv[2:])"
)


@dataclass(frozen=True)
class SandboxLayers:
    """What GetSandboxInfo reports: the layers that wrap every child on this machine."""

    uid: int | None
    """The sandbox uid children run as; None when the service is already unprivileged (the pod is the boundary)."""
    rlimits: tuple[tuple[str, int], ...]
    """RLIMIT_ name and value, with the default limits' address space and CPU seconds."""
    landlock_abi: int | None
    """The kernel's Landlock ABI; None when Landlock is unavailable."""
    seccomp: bool
    bubblewrap: bool
    python: str

    @property
    def layers(self) -> tuple[str, ...]:
        """The active layers by name, in the order the child meets them."""
        names = ["uid" if self.uid is not None else "unprivileged-service", "empty-env", "rlimits"]
        names += ["landlock"] if self.landlock_abi is not None else []
        names += ["seccomp"] if self.seccomp else []
        names += ["bubblewrap"] if self.bubblewrap else []
        return tuple(names)


@dataclass(frozen=True)
class ChildLaunch:
    """Everything needed to exec one child."""

    argv: list[str]
    env: dict[str, str]
    user: int | None
    group: int | None


def child_python() -> str:
    """The interpreter the sandbox uid can read (see module docstring)."""
    system = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
    return system if os.access(system, os.X_OK) else sys.executable


def import_paths() -> list[str]:
    """Directories the child imports from: site-packages of numpy/pandas/msgpack/pyseccomp, our src."""
    dirs = [Path(m.__file__ or "").resolve().parent.parent for m in (numpy, msgpack)]
    dirs += [Path(pyseccomp.__file__ or "").resolve().parent]
    dirs += [Path(zquant_backtest.__file__ or "").resolve().parent.parent]
    return sorted({str(d) for d in dirs})


def read_only_paths(python: str) -> list[str]:
    """What Landlock leaves readable once user code runs: the stdlib and the import paths."""
    prefix = Path(os.path.realpath(python)).parent.parent
    stdlib = prefix / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    return [str(stdlib), *import_paths()]


def _sandbox_ids() -> tuple[int, int] | None:
    """(uid, gid) to drop to, or None when the service is already unprivileged (the pod is the boundary)."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SANDBOX_USER)
    except KeyError:
        raise RuntimeError(f"no '{SANDBOX_USER}' user to run strategies as: run `make sandbox-prereqs`") from None
    return entry.pw_uid, entry.pw_gid


def _bwrap_args(python: str) -> list[str]:
    binds = [a for p in [*read_only_paths(python)] for a in ("--ro-bind", p, p)]
    return [
        "bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
        "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
        "--symlink", "usr/bin", "/bin", "--proc", "/proc", "--dev", "/dev", *binds, "--chdir", "/", "--",
    ]


@functools.lru_cache(maxsize=1)
def _bwrap_works() -> bool:
    if shutil.which("bwrap") is None:
        return False
    ids = _sandbox_ids()
    probe = ["bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"]
    try:
        done = subprocess.run(
            probe, env={}, capture_output=True, timeout=10, check=False,
            user=ids[0] if ids else None, group=ids[1] if ids else None, extra_groups=[] if ids else None,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def _seccomp_works() -> bool:
    try:
        pyseccomp.SyscallFilter(defaction=pyseccomp.KILL_PROCESS)
    except Exception:  # a missing or broken libseccomp surfaces as several unrelated types
        return False
    return True


@functools.lru_cache(maxsize=1)
def probe_layers() -> SandboxLayers:
    """Probe once per process and log which layers will wrap every child."""
    ids = _sandbox_ids()
    abi = abi_version()
    defaults = SandboxLimits()
    table = rlimits.table(defaults.memory_bytes, defaults.cpu_seconds)
    layers = SandboxLayers(
        uid=ids[0] if ids else None,
        rlimits=tuple(table.items()),
        landlock_abi=abi if abi >= 1 else None,
        seccomp=_seccomp_works(),
        bubblewrap=_bwrap_works(),
        python=child_python(),
    )
    if ids is None:
        log.warning("service is not root: skipping the uid switch, the child shares the service uid")
    log.info("sandbox layers active: %s (landlock ABI %s)", ", ".join(layers.layers), layers.landlock_abi)
    return layers


def child_launch(limits: SandboxLimits) -> ChildLaunch:
    """The argv/env/ids for one fresh child under every active layer."""
    return _launch(["run", str(limits.memory_bytes), str(limits.cpu_seconds)])


def zygote_launch(control_fd: int) -> ChildLaunch:
    """The argv/env/ids for a zygote listening on the inherited `control_fd`, under the same layers."""
    return _launch(["zygote", str(control_fd)])


def _launch(mode: list[str]) -> ChildLaunch:
    info = probe_layers()
    python = info.python
    command = [python, "-I", "-S", "-B", "-c", _BOOT, ":".join(import_paths()),
               *mode, ",".join(info.layers), *read_only_paths(python)]
    if info.bubblewrap:
        command = _bwrap_args(python) + command
    ids = _sandbox_ids()
    return ChildLaunch(command, dict(CHILD_ENV), ids[0] if ids else None, ids[1] if ids else None)
