"""A backtest worker as its own process, for the worker-kill test: the service's app (the real queue, worker
handler, follower and stores from its environment) built with a slow test executor, started, serving no RPCs.

It prints `ready` once its job loop runs, `started <task id>` when an attempt of a task begins here, and waits
to be killed. Run as a script with the repository root
on PYTHONPATH; `ZQUANT_TEST_SLOW_STEPS` / `ZQUANT_TEST_SLOW_STEP_SECONDS` set the executor's pace.
"""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import replace

from services.backtest.tests.contract.conftest import fake_adapters
from services.backtest.tests.fakes.executors import SlowExecutor
from zquant_backtest.application.run_ports import RunProgress, RunSpec
from zquant_backtest.bootstrap import BacktestConfig, build
from zquant_backtest.domain.simulation import BacktestResult
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.settings import Settings


class AnnouncingExecutor(SlowExecutor):
    """Says which task it started, so the test kills the worker that holds it."""

    async def execute(self, spec: RunSpec, progress: RunProgress) -> BacktestResult:
        print(f"started {spec.task_id}", flush=True)
        return await super().execute(spec, progress)


async def main() -> None:
    executor = AnnouncingExecutor(
        steps=int(os.environ["ZQUANT_TEST_SLOW_STEPS"]),
        step=float(os.environ["ZQUANT_TEST_SLOW_STEP_SECONDS"]),
    )
    adapters = replace(fake_adapters(), executor=lambda config, infra: executor)
    app = build(BacktestConfig.from_settings(Settings(dict(os.environ))), InProcessEventBus(), adapters)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await app.start()
    print("ready", flush=True)
    await stop.wait()
    await app.stop()


if __name__ == "__main__":
    asyncio.run(main())
