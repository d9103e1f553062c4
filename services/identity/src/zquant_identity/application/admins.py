"""The one question several use cases ask before taking an admin away."""

from __future__ import annotations

from zquant_identity.application.ports import IdentityUnitOfWork
from zquant_identity.domain import rules
from zquant_identity.domain.model import User


async def is_last_active_admin(uow: IdentityUnitOfWork, user: User) -> bool:
    """True when deactivating, deleting or demoting `user` would leave no active admin."""
    return (
        user.role == rules.ADMIN_ROLE and user.active and await uow.users.count_active(rules.ADMIN_ROLE) <= 1
    )
