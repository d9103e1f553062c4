"""A job's config as stored: the JSON form of the contract's `JobConfig` (one target, or a pipeline of steps).

`{"target": {"data_sync": {...}}}` is a single call; `{"pipeline": {"steps": [{"name", "target", "depends_on"}]}}`
a DAG. The inner dict of a target is the target service's own request, already checked against its bounds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from zquant_kit.errors import InvalidArgument
from zquant_scheduler.domain.jobs import JobType
from zquant_scheduler.domain.pipeline import Step, check_pipeline

_TARGET_TYPES = {
    "data_sync": JobType.DATA_SYNC,
    "data_validation": JobType.DATA_VALIDATION,
    "factor_calculation": JobType.FACTOR_CALCULATION,
    "backtest_run": JobType.BACKTEST_RUN,
}

SCOPES: dict[JobType, tuple[str, ...]] = {
    JobType.DATA_SYNC: ("data:sync",),
    JobType.DATA_VALIDATION: ("data:read",),
    JobType.FACTOR_CALCULATION: ("factor:calculate", "factor:read", "data:read"),
    JobType.BACKTEST_RUN: ("backtest:run", "backtest:read"),
}
"""The owner's permissions each target call needs; the owner token carries only these. A calculation reads the
market as its submitter (factor forwards the token to marketdata) and streams its job's state (factor:read)."""


def target_of(target: Mapping[str, Any], field: str) -> tuple[JobType, Mapping[str, Any]]:
    """The one target of a `TargetConfig` dict and its request."""
    if len(target) != 1 or next(iter(target)) not in _TARGET_TYPES:
        raise InvalidArgument(field, f"exactly one of {sorted(_TARGET_TYPES)}")
    name, request = next(iter(target.items()))
    return _TARGET_TYPES[name], request or {}


def job_type_of(config: Mapping[str, Any]) -> JobType:
    if "pipeline" in config:
        return JobType.PIPELINE
    return target_of(config.get("target") or {}, "config.target")[0]


def steps_of(config: Mapping[str, Any]) -> tuple[Step, ...]:
    """The steps of a job: a pipeline's DAG, or one unnamed step for a single target."""
    if "pipeline" not in config:
        job_type, request = target_of(config.get("target") or {}, "config.target")
        return (Step("", job_type, request),)
    steps = []
    for index, raw in enumerate((config["pipeline"] or {}).get("steps") or []):
        job_type, request = target_of(raw.get("target") or {}, f"config.pipeline.steps[{index}].target")
        steps.append(Step(str(raw.get("name", "")), job_type, request, tuple(raw.get("depends_on") or ())))
    return check_pipeline(steps)
