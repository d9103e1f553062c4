"""What the bar and panel reads share: numpy work off the event loop, NOT_FOUND for unknown
codes, and FAILED_PRECONDITION for missing adjustment factors."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from typing import TypeVar

from zquant_kit.errors import FailedPrecondition, NotFound
from zquant_marketdata.application.query_ports import MarketQueryRepository
from zquant_marketdata.domain.bar_rows import BarRows
from zquant_marketdata.domain.sync import fmt_date

T = TypeVar("T")


class Offloader:
    """Runs numpy work on a worker thread once it is big enough to stall the event loop."""

    def __init__(self, offload_rows: int) -> None:
        self.offload_rows = offload_rows

    async def run(self, rows: int, work: Callable[[], T]) -> T:
        if rows >= self.offload_rows:
            return await asyncio.to_thread(work)
        return work()


async def require_known(
    repo: MarketQueryRepository, dataset: str, codes: Sequence[str], resource: str, rows: BarRows | None = None
) -> None:
    """NOT_FOUND naming the codes the store has never heard of; a code with rows is known."""
    if rows is not None:
        present = set(rows.codes)
        codes = [code for code in codes if code not in present]
        if not codes:
            return
    unknown = await repo.unknown_codes(dataset, codes)
    if unknown:
        raise NotFound(resource, ", ".join(unknown))


def fail_missing_factors(missing: Sequence[str], base_missing: Sequence[str], base_day: dt.date) -> None:
    if missing:
        raise FailedPrecondition(
            f"no adj_factor at or before some bars of {', '.join(missing)}; sync adj_factor first",
            reason="ADJ_FACTOR_MISSING",
        )
    raise FailedPrecondition(
        f"no adj_factor on or before the base date {fmt_date(base_day)} for {', '.join(base_missing)}",
        reason="ADJ_FACTOR_MISSING",
    )
