"""Acting for a user: a trusted service (the scheduler firing a job, a backtest worker reading the owner's factors)
asks identity for a short-lived token of that user, carrying the user's *current* permissions, never more.

Identity refuses (PERMISSION_DENIED / NOT_FOUND) when the user is disabled or gone, so a job whose owner lost a
right fails with that reason at the target service, which checks the token as it checks any other.
"""

from __future__ import annotations

from typing import Protocol


class OwnerTokens(Protocol):
    async def token_for(self, owner_id: str, scopes: tuple[str, ...]) -> str:
        """A bearer token of ``owner_id`` limited to ``scopes`` (permission names such as ``data:sync``) that the
        owner holds now; raises ``ZqError`` (PERMISSION_DENIED naming the missing permission, or NOT_FOUND)."""
        ...
