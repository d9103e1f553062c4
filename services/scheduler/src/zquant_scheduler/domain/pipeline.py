"""Pipelines: a job whose config is a DAG of steps (sync → factor update → backtest). A step starts once every
upstream step succeeded; a step that failed (or was stopped) stops its dependants, with the reason."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zquant_kit.errors import InvalidArgument
from zquant_scheduler.domain.jobs import JobType
from zquant_scheduler.domain.runs import RunStatus

MAX_STEPS = 32


@dataclass(frozen=True)
class Step:
    name: str
    job_type: JobType
    config: Mapping[str, Any]
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepOutcome:
    status: RunStatus
    reason: str = ""


def check_pipeline(steps: Sequence[Step]) -> tuple[Step, ...]:
    """Names unique, upstreams declared, no pipeline inside a pipeline, and no cycle (Kahn's algorithm)."""
    if not 1 <= len(steps) <= MAX_STEPS:
        raise InvalidArgument("config.pipeline.steps", f"1 to {MAX_STEPS} steps")
    names = [step.name for step in steps]
    for index, step in enumerate(steps):
        where = f"config.pipeline.steps[{index}]"
        if not step.name or names.count(step.name) > 1:
            raise InvalidArgument(f"{where}.name", "a unique, non-empty step name")
        if step.job_type is JobType.PIPELINE:
            raise InvalidArgument(f"{where}.type", "a step cannot be a pipeline")
        for name in step.depends_on:
            if name not in names or name == step.name:
                raise InvalidArgument(f"{where}.depends_on", f"unknown upstream step {name!r}")
    waiting = {step.name: set(step.depends_on) for step in steps}
    while waiting:
        free = [name for name, upstream in waiting.items() if not upstream]
        if not free:
            raise InvalidArgument("config.pipeline.steps", f"steps form a cycle: {sorted(waiting)}")
        for name in free:
            del waiting[name]
        for upstream in waiting.values():
            upstream.difference_update(free)
    return tuple(steps)


def ready_steps(steps: Sequence[Step], outcomes: Mapping[str, StepOutcome]) -> list[Step]:
    """Steps not yet run whose upstreams all succeeded."""
    return [
        step
        for step in steps
        if step.name not in outcomes
        and all(
            outcomes.get(up) is not None and outcomes[up].status is RunStatus.SUCCEEDED for up in step.depends_on
        )
    ]


def stopped_steps(steps: Sequence[Step], outcomes: Mapping[str, StepOutcome]) -> dict[str, StepOutcome]:
    """Steps not yet run with an upstream that ended without success, each skipped naming that upstream."""
    stopped: dict[str, StepOutcome] = {}
    for step in steps:
        if step.name in outcomes:
            continue
        for up in step.depends_on:
            found = outcomes.get(up)
            if found is not None and found.status is not RunStatus.SUCCEEDED:
                stopped[step.name] = StepOutcome(
                    RunStatus.SKIPPED, f"upstream step {up!r} {found.status.value}: {found.reason}"
                )
                break
    return stopped


def run_outcome(steps: Sequence[Step], outcomes: Mapping[str, StepOutcome]) -> StepOutcome:
    """The pipeline's result once every step has an outcome: succeeded when all did, else the first failure."""
    for step in steps:
        found = outcomes[step.name]
        if found.status is not RunStatus.SUCCEEDED:
            status = RunStatus.FAILED if found.status is not RunStatus.CANCELLED else RunStatus.CANCELLED
            return StepOutcome(status, f"step {step.name!r}: {found.reason}")
    return StepOutcome(RunStatus.SUCCEEDED, f"{len(steps)} steps succeeded")
