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
