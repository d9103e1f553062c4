"""Who sees and who changes a definition.

A user sees built-ins (system-owned), shared factors and their own private ones; another user's private factor
does not exist for them (NOT_FOUND, never PERMISSION_DENIED, so ids don't leak). Only the owner changes a
definition; an admin holding `factor:admin` changes built-ins and may delete any definition.
"""

from __future__ import annotations

from zquant_factor.domain.definitions.records import FactorDefinition, Visibility


def can_see(definition: FactorDefinition, user_id: str) -> bool:
    return (
        definition.is_system or definition.visibility is Visibility.SHARED or definition.owner_id == user_id
    )


def can_change(definition: FactorDefinition, user_id: str, *, admin: bool) -> bool:
    """Updates and model / config changes: the owner; for a built-in, an admin."""
    if definition.is_system:
        return admin
    return definition.owner_id == user_id and not definition.owner_deleted


def can_delete(definition: FactorDefinition, user_id: str, *, admin: bool) -> bool:
    return admin or can_change(definition, user_id, admin=False)
