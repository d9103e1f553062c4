"""A scheduled job: what runs (type + config), when (trigger), and how failures and missed slots are handled."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any

from zquant_kit.errors import InvalidArgument

MAX_NAME = 128
MAX_DESCRIPTION = 2000
MAX_RETRIES = 10
MAX_RETRY_INTERVAL_SECONDS = 86_400


class JobType(enum.StrEnum):
    DATA_SYNC = "data_sync"
    DATA_VALIDATION = "data_validation"
    FACTOR_CALCULATION = "factor_calculation"
    BACKTEST_RUN = "backtest_run"
    PIPELINE = "pipeline"


class MisfirePolicy(enum.StrEnum):
    """What a restart does with slots missed longer than the grace period: one late run, or a skipped record."""

    RUN_ONCE_LATE = "run_once_late"
    SKIP = "skip"


@dataclass(frozen=True)
class Trigger:
    """Exactly one of `cron_expression` and `interval_seconds` is set; `timezone` is an IANA name the cron is
    read in; `trading_days_only` filters the fire times by the trade calendar."""

    cron_expression: str
    interval_seconds: int
    timezone: str
    trading_days_only: bool = False


@dataclass
class Job:
    id: str
    owner_id: str
    name: str
    description: str
    job_type: JobType
    trigger: Trigger
    config: dict[str, Any]
    enabled: bool
    paused: bool
    max_retries: int
    retry_interval_seconds: int
    misfire_policy: MisfirePolicy
    created_at: dt.datetime
    updated_at: dt.datetime
    next_run_at: dt.datetime | None = field(default=None)

    @property
    def active(self) -> bool:
        """Only an enabled, unpaused job has a next fire time."""
        return self.enabled and not self.paused


def check_name(name: str) -> str:
    if not name.strip():
        raise InvalidArgument("name", "required")
    if len(name) > MAX_NAME:
        raise InvalidArgument("name", f"at most {MAX_NAME} characters")
    return name


def check_description(description: str) -> str:
    if len(description) > MAX_DESCRIPTION:
        raise InvalidArgument("description", f"at most {MAX_DESCRIPTION} characters")
    return description


def check_retries(max_retries: int, retry_interval_seconds: int) -> tuple[int, int]:
    if not 0 <= max_retries <= MAX_RETRIES:
        raise InvalidArgument("max_retries", f"between 0 and {MAX_RETRIES}")
    if not 0 <= retry_interval_seconds <= MAX_RETRY_INTERVAL_SECONDS:
        raise InvalidArgument("retry_interval_seconds", f"between 0 and {MAX_RETRY_INTERVAL_SECONDS}")
    return max_retries, retry_interval_seconds
