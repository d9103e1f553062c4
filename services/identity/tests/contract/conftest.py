"""Helpers shared by the identity contract tests: users, service credentials, database checks.

Tests run with `--import-mode=importlib`, so helpers reach the tests as fixtures, not imports.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from zquant_kit.service_credential import load_service_secret, service_metadata
from zquant_kit.testing import USER_PASSWORD, create_user


@pytest.fixture
async def admin(identity):
    """Bearer metadata of the seeded admin (one Login per test)."""
    return await identity.admin_metadata()


@pytest.fixture
def service(identity_settings):
    """Metadata carrying the service credential, as another zquant service sends it."""
    return service_metadata(load_service_secret(identity_settings))


@pytest.fixture
def make_user(identity, admin):
    """`await make_user("alice", "viewer")` → (User, bearer metadata); reuses the admin's login."""

    async def make(username: str, role: str = "researcher", password: str = USER_PASSWORD):
        return await create_user(identity.channel, username, role=role, password=password, admin=admin)

    return make


@pytest.fixture
def count_rows(identity):
    """`await count_rows(table, *conditions)` → rows in identity's database matching the conditions."""

    async def count(table, *conditions) -> int:
        async with identity.app.sessions() as session:
            query = select(func.count()).select_from(table).where(*conditions)
            return (await session.execute(query)).scalar_one()

    return count
