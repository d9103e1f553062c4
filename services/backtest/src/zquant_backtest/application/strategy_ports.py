"""The strategy records' repository."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from zquant_backtest.domain.strategies import StrategyRecord


class StrategyRepository(Protocol):
    async def add(self, record: StrategyRecord) -> None: ...

    async def get(self, strategy_id: str) -> StrategyRecord | None: ...

    async def get_by_name(self, owner_id: str, name: str) -> StrategyRecord | None: ...

    async def save(self, record: StrategyRecord) -> None:
        """Writes the record's changed fields (it was read in this unit of work)."""
        ...

    async def list_page(
        self, owner_id: str | None, after: tuple[str, str] | None, limit: int
    ) -> Sequence[StrategyRecord]:
        """Newest first by (created_at ISO text, id); every owner's when `owner_id` is None."""
        ...

    async def delete(self, strategy_id: str) -> None: ...

    async def delete_owned(self, owner_id: str) -> int: ...
