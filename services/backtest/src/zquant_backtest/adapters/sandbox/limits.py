"""Resource limits and deadlines of one sandboxed run."""

from __future__ import annotations

from dataclasses import dataclass

from .child.rlimits import MAX_AS


@dataclass(frozen=True)
class SandboxLimits:
    memory_bytes: int = 3 << 29
    """Address space of the child: 1.5 GiB."""
    cpu_seconds: int = 600
    start_deadline_s: float = 30.0
    """From spawn to ready: imports, the static check, the module's top level and initialize()."""
    day_deadline_s: float = 5.0
    """One callback's exchange in the per-day mode."""
    targets_deadline_s: float = 300.0
    """The vectorised mode's one targets() call over the whole panel."""
    total_deadline_s: float = 3600.0
    zygote: bool = True
    """Fork the child from a pre-warmed zygote (numpy and pandas already imported) instead of starting a fresh
    interpreter: same layers, a fraction of the start latency."""
    static_check: bool = True
    """The friendly AST check (line/column errors); the escape suite turns it off to test the OS layers."""

    def __post_init__(self) -> None:
        if not 0 < self.memory_bytes <= MAX_AS:
            raise ValueError(f"memory_bytes must be in (0, {MAX_AS}]")
