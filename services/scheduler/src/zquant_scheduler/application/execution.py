"""Executing a claimed run: the trade-day check, then each step (one for a plain job, a DAG for a pipeline) as
attempts against its target, acting as the owner with the owner's current permissions, retried with backoff.

Every attempt is written with the run's new state in one transaction (batched with other runs' by `RunWriter`), and
only while this replica still holds the run: a cancel (or a takeover after a lapsed lease) ends the run for this
replica at its next write.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable

from zquant_kit.clock import Clock
from zquant_kit.delegation import OwnerTokens
from zquant_kit.errors import ResourceExhausted, Unavailable, ZqError
from zquant_kit.events.model import Event
from zquant_kit.tasks import raise_if_cancelled
from zquant_scheduler.application.claiming import Claimed
from zquant_scheduler.application.job_ports import (
    JobTargets,
    TargetCall,
    TargetResult,
    TradeCalendars,
    UnitOfWorkFactory,
)
from zquant_scheduler.application.run_events import run_ended
from zquant_scheduler.application.run_writer import RunChange, RunWriter
from zquant_scheduler.domain import configs, triggers
from zquant_scheduler.domain.calendar import DayVerdict, trading_day_verdict
from zquant_scheduler.domain.jobs import JobType
from zquant_scheduler.domain.pipeline import Step, StepOutcome, ready_steps, run_outcome, stopped_steps
from zquant_scheduler.domain.runs import Attempt, Run, RunStatus, RunTrigger, may_retry, retry_delay

Sleep = Callable[[float], Awaitable[None]]



def step_key(run_id: str, step: str) -> str:
    """The idempotency key of one step of a run: the run id, with a digest of the step's name in a pipeline
    (the targets accept only [A-Za-z0-9_-])."""
    return run_id if not step else f"{run_id}-{hashlib.sha256(step.encode()).hexdigest()[:16]}"

class RunLost(Exception):
    """This replica no longer holds the run (cancelled, or taken over): it stops without writing."""


def _call_of(targets: JobTargets, job_type: JobType) -> Callable[[TargetCall], Awaitable[TargetResult]]:
    calls = {
        JobType.DATA_SYNC: targets.data_sync,
        JobType.DATA_VALIDATION: targets.data_validation,
        JobType.FACTOR_CALCULATION: targets.factor_calculation,
        JobType.BACKTEST_RUN: targets.backtest_run,
    }
    return calls[job_type]


def _retryable(error: Exception) -> bool:
    """A refusal (no permission, bad config, gone) fails at once; an outage or any unexpected error is retried."""
    return not isinstance(error, ZqError) or isinstance(error, Unavailable | ResourceExhausted)


class RunExecutor:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        targets: JobTargets,
        owner_tokens: OwnerTokens,
        calendars: TradeCalendars,
        writer: RunWriter,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._targets = targets
        self._tokens = owner_tokens
        self._calendars = calendars
        self._writer = writer
        self._sleep = sleep

    async def execute(self, claimed: Claimed) -> RunStatus | None:
        """The run's end status, or None when this replica lost it on the way."""
        try:
            return await self._execute(claimed)
        except RunLost:
            return None

    async def _execute(self, claimed: Claimed) -> RunStatus:
        run, job = claimed.run, claimed.job
        early = (run.scheduled_time - self._clock.now()).total_seconds()
        if early > 0:  # claimed ahead of its slot: fire on time
            await self._sleep(early)
        if job.trigger.trading_days_only and run.trigger is not RunTrigger.MANUAL:
            verdict = await self._day_verdict(claimed)
            if not verdict.runs:
                return await self._end(run, StepOutcome(RunStatus.SKIPPED, verdict.reason), notify=verdict.notify)
        steps = configs.steps_of(job.config)
        history = []
        if run.attempts:  # taken over from a replica that died: its finished steps count
            async with self._uow() as uow:
                history = await uow.runs.attempts(run.id)
        outcomes = {
            a.step: StepOutcome(RunStatus.SUCCEEDED, a.result_summary)
            for a in history
            if a.status is RunStatus.SUCCEEDED
        }
        made = {step.name: sum(1 for a in history if a.step == step.name) for step in steps}
        single = len(steps) == 1 and steps[0].name == ""
        while len(outcomes) < len(steps):
            outcomes.update(stopped_steps(steps, outcomes))
            ready = ready_steps(steps, outcomes)
            results = await asyncio.gather(*(self._step(claimed, step, made[step.name], single) for step in ready))
            outcomes.update({step.name: result for step, result in zip(ready, results)})
        if single:
            return outcomes[""].status
        return await self._end(run, run_outcome(steps, outcomes), notify=True)

    async def _day_verdict(self, claimed: Claimed) -> DayVerdict:
        day = triggers.local_date(claimed.job.trigger, claimed.run.scheduled_time)
        try:
            calendar = await self._calendars.calendar_around(day)
        except Exception as error:  # the calendar is not guessed: no answer is a skip with the reason
            return DayVerdict(False, f"the trade calendar could not be read: {error}", notify=True)
        return trading_day_verdict(calendar, day)

    async def _step(self, claimed: Claimed, step: Step, made: int, ends_run: bool) -> StepOutcome:
        run, job = claimed.run, claimed.job
        key = step_key(run.id, step.name)
        while True:
            raise_if_cancelled()
            made += 1
            started = self._clock.now()
            try:
                token = await self._tokens.token_for(job.owner_id, configs.SCOPES[step.job_type])
                result = await _call_of(self._targets, step.job_type)(TargetCall(key, token, step.config))
            except asyncio.CancelledError:
                raise
            except Exception as error:
                reason = error.message if isinstance(error, ZqError) else f"{type(error).__name__}: {error}"
                again = _retryable(error) and may_retry(job.max_retries, made)
                outcome = StepOutcome(RunStatus.FAILED, reason)
                retry_in = retry_delay(job.retry_interval_seconds, made) if again else None
                await self._record(run, Attempt(run.id, made, step.name, RunStatus.FAILED, started,
                                                self._clock.now(), error=reason), outcome, ends_run, retry_in)  # fmt: skip
                if retry_in is None:
                    return outcome
                await self._sleep(retry_in)
                continue
            outcome = StepOutcome(RunStatus.SUCCEEDED, result.summary)
            attempt = Attempt(run.id, made, step.name, RunStatus.SUCCEEDED, started, self._clock.now(),
                              target_task_id=result.task_id, result_summary=result.summary)  # fmt: skip
            await self._record(run, attempt, outcome, ends_run, None)
            return outcome

    async def _record(
        self, run: Run, attempt: Attempt, outcome: StepOutcome, ends_run: bool, retry_in: float | None
    ) -> None:
        """The attempt, and the run's new state: ended (a plain job's last attempt), waiting for a retry, or
        still running (a pipeline's step)."""
        finished = attempt.finished_at

        def apply(held: Run) -> Event | None:
            held.attempts += 1
            held.target_task_id = attempt.target_task_id or held.target_task_id
            if retry_in is not None:
                held.status = RunStatus.PENDING if ends_run else RunStatus.RUNNING
                held.next_attempt_at = finished + dt.timedelta(seconds=retry_in)
                held.error = outcome.reason
                return None
            if not ends_run:
                return None
            self._finish(held, outcome, finished)
            return run_ended(held, finished) if held.status is RunStatus.FAILED else None

        ended = ends_run and retry_in is None
        if not await self._writer.write(RunChange(run.id, attempt, apply, keep_lease=not ended)):
            raise RunLost(run.id)

    @staticmethod
    def _finish(run: Run, outcome: StepOutcome, now: dt.datetime) -> None:
        run.status, run.finished_at, run.next_attempt_at = outcome.status, now, None
        if outcome.status is RunStatus.SUCCEEDED:
            run.result_summary, run.error = outcome.reason, ""
        else:
            run.error = outcome.reason

    async def _end(self, run: Run, outcome: StepOutcome, *, notify: bool) -> RunStatus:
        now = self._clock.now()

        def apply(held: Run) -> Event | None:
            self._finish(held, outcome, now)
            publish = held.status is RunStatus.FAILED or (held.status is RunStatus.SKIPPED and notify)
            return run_ended(held, now) if publish else None

        if not await self._writer.write(RunChange(run.id, None, apply, keep_lease=False)):
            raise RunLost(run.id)
        return outcome.status
