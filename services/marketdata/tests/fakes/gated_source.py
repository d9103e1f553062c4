"""A market-data source that holds one daily call until the test releases it: a sync caught mid-run."""

from __future__ import annotations

import asyncio


class GatedSource:
    """Delegates to a real source; the daily call number `block_at` waits until released."""

    def __init__(self, inner, block_at: int) -> None:
        self._inner = inner
        self._block_at = block_at
        self.calls = 0
        self.blocked = asyncio.Event()
        self.release = asyncio.Event()

    def __getattr__(self, name):
        return getattr(self._inner, name)

    async def bars(self, query):
        if query.api_name == "daily":
            self.calls += 1
            if self.calls == self._block_at:
                self.blocked.set()
                await self.release.wait()
        return await self._inner.bars(query)
