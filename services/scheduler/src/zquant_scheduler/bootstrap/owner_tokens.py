"""The owner-delegation adapter the scheduler runs with until identity's token exchange is wired in.

`build(owner_tokens=...)` takes the real `OwnerTokens` (identity's RPC, another lane); without it every run fails
with this reason rather than acting with more rights than its owner holds now.
"""

from __future__ import annotations

from zquant_kit.delegation import OwnerTokens
from zquant_kit.errors import FailedPrecondition


class NoOwnerTokens(OwnerTokens):
    async def token_for(self, owner_id: str, scopes: tuple[str, ...]) -> str:
        raise FailedPrecondition("acting as the job's owner needs identity's token exchange, which is not wired")
