"""Encrypts secrets that installations from before migration 0004 stored in plaintext.

Runs at every start, before the signing keys load: the service holds the key-encryption key, and
a row converted once has no plaintext left, so a second run (or a second replica) finds nothing.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from zquant_identity.adapters.sqlalchemy.tables import api_keys, signing_keys
from zquant_identity.application.ports import SecretBox

log = logging.getLogger(__name__)


async def encrypt_plaintext_rows(sessions: async_sessionmaker[AsyncSession], box: SecretBox) -> int:
    """Returns how many rows it encrypted."""
    converted = 0
    async with sessions() as session, session.begin():
        for table, key_column, plain_column, encrypted_column in (
            (signing_keys, signing_keys.c.kid, "private_key_pem", "private_key_encrypted"),
            (api_keys, api_keys.c.id, "hmac_key_hex", "hmac_key_encrypted"),
        ):
            plain = table.c[plain_column]
            rows = (await session.execute(select(key_column, plain).where(plain.is_not(None)))).all()
            for key, value in rows:
                await session.execute(
                    table.update()
                    .where(key_column == key)
                    .values({encrypted_column: box.encrypt(value).decode(), plain_column: None})
                )
            converted += len(rows)
    if converted:
        log.warning("encrypted %d secret(s) stored in plaintext by an older version", converted)
    return converted
