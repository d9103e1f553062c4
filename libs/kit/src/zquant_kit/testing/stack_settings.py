"""The settings a test stack runs on: every named service in its own schema of one throw-away database."""

from __future__ import annotations

from zquant_kit.settings import Settings
from zquant_kit.testing.users import ADMIN_PASSWORD


def stack_settings(database: str, *names: str, **extra: str) -> Settings:
    """`names`' database URLs all on `database`, the seeded admin's password, the in-process bus and a quick
    outbox poll; `extra` adds to or overrides them (`**nats_settings(namespace)` puts the bus on NATS)."""
    return Settings(
        {
            **{f"ZQUANT_{name.upper()}_DATABASE_URL": database for name in names},
            "ZQUANT_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "ZQUANT_EVENT_BUS": "inprocess",
            "ZQUANT_OUTBOX_POLL_SECONDS": "0.2",
            **extra,
        }
    )
