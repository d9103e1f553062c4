"""The rlimits every child sets on itself before importing anything; the parent reports the same table."""

from __future__ import annotations

import resource

FIXED = {"NOFILE": 64, "FSIZE": 0, "CORE": 0, "NPROC": 0}
"""No new files beyond a handful of descriptors, no bytes written to any file, no core dump, no new process."""


def table(memory_bytes: int, cpu_seconds: int) -> dict[str, int]:
    """Every limit by its RLIMIT_ name (address space in bytes, CPU in seconds)."""
    return {"AS": memory_bytes, "CPU": cpu_seconds, **FIXED}


def apply(memory_bytes: int, cpu_seconds: int) -> None:
    """Hard and soft limits alike, so user code cannot raise them again."""
    for name, value in table(memory_bytes, cpu_seconds).items():
        resource.setrlimit(getattr(resource, f"RLIMIT_{name}"), (value, value))


ZYGOTE_AS = 1 << 30
"""The zygote imports under this address-space limit, as a fresh child would under its own: without one,
the native libraries reserve about 1 GiB more of address space, which every forked child would inherit."""
MAX_AS = 16 << 30
"""The hard limit the zygote keeps, so that each child can set its own run's limit (up to this) after the fork."""


def apply_for_zygote() -> None:
    """No file written, no core dumped; NPROC is left to each child (the zygote must fork)."""
    for name in ("FSIZE", "CORE"):
        resource.setrlimit(getattr(resource, f"RLIMIT_{name}"), (FIXED[name], FIXED[name]))
    resource.setrlimit(resource.RLIMIT_AS, (ZYGOTE_AS, MAX_AS))
