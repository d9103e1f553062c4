"""BacktestConfig: the job queue's settings, their defaults and their bounds."""

from __future__ import annotations

import pytest

from zquant_backtest.bootstrap.config import BacktestConfig
from zquant_kit.settings import Settings

pytestmark = pytest.mark.unit


def test_defaults_and_the_nats_names():
    config = BacktestConfig.from_settings(
        Settings({"ZQUANT_NATS_URL": "nats://x:4222", "ZQUANT_NATS_STREAM": "S"})
    )
    jobs = config.jobs
    assert (jobs.concurrency, config.policy.max_attempts, jobs.ack_wait_seconds) == (1, 3, 30.0)
    assert jobs.stream == "S_BACKTEST_JOBS" and jobs.prefix.endswith("jobs.backtest") and jobs.nats_url


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ZQUANT_BACKTEST_MAX_ATTEMPTS", "0"),
        ("ZQUANT_BACKTEST_MAX_ATTEMPTS", "21"),
        ("ZQUANT_BACKTEST_JOB_CONCURRENCY", "-1"),
        ("ZQUANT_BACKTEST_JOB_ACK_WAIT_SECONDS", "soon"),
    ],
)
def test_out_of_bounds_settings_are_refused_by_name(name, value):
    with pytest.raises(ValueError, match=name):
        BacktestConfig.from_settings(Settings({name: value}))
