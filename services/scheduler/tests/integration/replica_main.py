"""One scheduler replica as its own process, for the replica test: the real app (claims, loop, leases) on the
database in `ZQUANT_SCHEDULER_DATABASE_URL`, with a recording target that appends each dispatch to
`REPLICA_LOG` (each call lasting `REPLICA_TARGET_SECONDS`). Prints READY once started; SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import os
import signal

from services.scheduler.tests.fakes.targets import FakeOwnerTokens, FixedCalendars, RecordingTargets
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.settings import Settings
from zquant_scheduler.bootstrap import SchedulerConfig, build
from zquant_scheduler.domain.calendar import TradeCalendar


async def main() -> None:
    app = build(
        SchedulerConfig.from_settings(Settings(dict(os.environ))),
        InProcessEventBus(),
        owner_tokens=FakeOwnerTokens(default={"data:sync"}),
        targets=RecordingTargets(log_path=os.environ["REPLICA_LOG"], seconds=float(os.environ.get("REPLICA_TARGET_SECONDS", "0"))),
        calendars=FixedCalendars(TradeCalendar(None, None, frozenset())),
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await app.start()
    print("READY", flush=True)
    await stop.wait()
    await app.stop()


if __name__ == "__main__":
    asyncio.run(main())
