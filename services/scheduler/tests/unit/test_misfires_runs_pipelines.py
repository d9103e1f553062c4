"""Misfire handling, retry backoff, the run state machine, and pipeline DAG rules."""

from __future__ import annotations

import datetime as dt

import pytest

from zquant_kit.errors import FailedPrecondition, InvalidArgument
from zquant_scheduler.domain.configs import steps_of
from zquant_scheduler.domain.jobs import JobType, MisfirePolicy
from zquant_scheduler.domain.misfire import due_slots
from zquant_scheduler.domain.pipeline import (
    Step,
    StepOutcome,
    check_pipeline,
    ready_steps,
    run_outcome,
    stopped_steps,
)
from zquant_scheduler.domain.runs import RunStatus, check_transition, may_retry, retry_delay

pytestmark = pytest.mark.unit
T0 = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
GRACE = dt.timedelta(seconds=60)


def every_minute(after: dt.datetime) -> dt.datetime:
    return after.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)


def test_slots_within_grace_each_run():
    slots = due_slots(T0, T0 + dt.timedelta(seconds=59), GRACE, MisfirePolicy.SKIP, lambda t: t + dt.timedelta(seconds=20))
    assert slots.on_time == [T0 + dt.timedelta(seconds=s) for s in (0, 20, 40)] and slots.missed == 0
    assert slots.next_run_at == T0 + dt.timedelta(seconds=60)


@pytest.mark.parametrize("policy", list(MisfirePolicy))
def test_slots_missed_beyond_grace_collapse_by_policy(policy):
    now = T0 + dt.timedelta(hours=2, seconds=5)
    slots = due_slots(T0, now, GRACE, policy, every_minute)
    assert slots.missed == 120 and slots.on_time == [T0 + dt.timedelta(hours=2)]
    last_missed = T0 + dt.timedelta(hours=1, minutes=59)
    if policy is MisfirePolicy.RUN_ONCE_LATE:
        assert (slots.late_run, slots.skipped) == (last_missed, None)
    else:
        assert (slots.late_run, slots.skipped) == (None, last_missed)
    assert slots.next_run_at == T0 + dt.timedelta(hours=2, minutes=1)


def test_a_job_far_behind_jumps_ahead():
    now = T0 + dt.timedelta(days=30)
    slots = due_slots(T0, now, GRACE, MisfirePolicy.SKIP, lambda t: t + dt.timedelta(seconds=1))
    assert slots.missed >= 1000 and slots.next_run_at is not None and slots.next_run_at > now


def test_retry_backoff_doubles_from_the_interval_and_is_capped():
    assert [retry_delay(10, n) for n in (1, 2, 3)] == [10, 20, 40]
    assert retry_delay(3000, 5) == 3600
    assert may_retry(2, 1) and may_retry(2, 2) and not may_retry(2, 3)


def test_run_state_machine():
    assert check_transition(RunStatus.PENDING, RunStatus.RUNNING) is RunStatus.RUNNING
    assert check_transition(RunStatus.RUNNING, RunStatus.PENDING) is RunStatus.PENDING
    for ended in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.SKIPPED, RunStatus.CANCELLED):
        assert ended.terminal
        with pytest.raises(FailedPrecondition):
            check_transition(ended, RunStatus.RUNNING)


SYNC = {"data_sync": {}}
FACTOR = {"factor_calculation": {"factor_ids": ["f"]}}


def pipeline(*steps):
    return {"pipeline": {"steps": [{"name": n, "target": t, "depends_on": d} for n, t, d in steps]}}


def test_a_pipeline_runs_a_step_once_its_upstreams_succeeded_and_stops_dependants_of_a_failure():
    steps = steps_of(pipeline(("sync", SYNC, []), ("factors", FACTOR, ["sync"]), ("report", FACTOR, ["factors"])))
    assert [s.name for s in ready_steps(steps, {})] == ["sync"]
    done = {"sync": StepOutcome(RunStatus.SUCCEEDED)}
    assert [s.name for s in ready_steps(steps, done)] == ["factors"]
    failed = {**done, "factors": StepOutcome(RunStatus.FAILED, "boom")}
    stopped = stopped_steps(steps, failed)
    assert stopped["report"].status is RunStatus.SKIPPED and "'factors' failed: boom" in stopped["report"].reason
    outcome = run_outcome(steps, {**failed, **stopped})
    assert outcome.status is RunStatus.FAILED and "step 'factors'" in outcome.reason


@pytest.mark.parametrize(
    ("steps", "field"),
    [
        ([("a", SYNC, ["b"]), ("b", SYNC, ["a"])], "config.pipeline.steps"),
        ([("a", SYNC, ["zzz"])], "config.pipeline.steps[0].depends_on"),
        ([("a", SYNC, []), ("a", SYNC, [])], "config.pipeline.steps[0].name"),
        ([("a", {"nope": {}}, [])], "config.pipeline.steps[0].target"),
    ],
)
def test_bad_pipelines_name_their_field(steps, field):
    with pytest.raises(InvalidArgument) as refused:
        steps_of(pipeline(*steps))
    assert refused.value.field == field


def test_a_step_cannot_be_a_pipeline():
    with pytest.raises(InvalidArgument):
        check_pipeline([Step("p", JobType.PIPELINE, {})])
