"""A backtest task's life: queued → running → succeeded | failed | cancelled, with a retry moving a running
task back to queued. A final state never changes; every other move is refused, so no code path can leave a
task half-way."""

from __future__ import annotations

from zquant_kit.jobs.model import JobState

TaskState = JobState
"""A task's states are the states of the kit job that runs it, so the queue's updates name them as they are."""

_LEGAL: dict[TaskState, frozenset[TaskState]] = {
    TaskState.QUEUED: frozenset({TaskState.RUNNING, TaskState.FAILED, TaskState.CANCELLED}),
    TaskState.RUNNING: frozenset(
        {TaskState.RUNNING, TaskState.QUEUED, TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED}
    ),
    TaskState.SUCCEEDED: frozenset(),
    TaskState.FAILED: frozenset(),
    TaskState.CANCELLED: frozenset(),
}


class IllegalTransition(ValueError):
    def __init__(self, current: TaskState, wanted: TaskState) -> None:
        super().__init__(f"a {current.value} task cannot become {wanted.value}")
        self.current = current
        self.wanted = wanted


def can_move(current: TaskState, wanted: TaskState) -> bool:
    """RUNNING → RUNNING is a redelivered attempt starting again (the previous worker was lost)."""
    return wanted in _LEGAL[current]


def moved(current: TaskState, wanted: TaskState) -> TaskState:
    if not can_move(current, wanted):
        raise IllegalTransition(current, wanted)
    return wanted
