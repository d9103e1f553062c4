"""`zquant identity ...`: operator commands on identity's database (which must be migrated).

`rotate-signing-key` adds a new signing key (a new `kid`) that signs from then on; the old key keeps
verifying until its last token has expired, then leaves GetPublicKeys. Running services pick the
new key up within a reload period; other services refetch keys when a token names an unknown kid.
"""

from __future__ import annotations

import asyncio
import sys

from zquant_identity.adapters.security import RETIRED_KEY_GRACE, SigningKeyRing
from zquant_identity.adapters.sqlalchemy import tables
from zquant_identity.adapters.sqlalchemy.legacy_secrets import encrypt_plaintext_rows
from zquant_kit.errors import ZqError
from zquant_kit.persistence import migrations
from zquant_kit.persistence.engine import create_engine, session_factory
from zquant_kit.settings import Settings

NAME = "identity"


def register(subparsers) -> None:
    identity = subparsers.add_parser("identity", help="identity: signing-key rotation")
    commands = identity.add_subparsers(dest="identity_command", required=True)
    rotate = commands.add_parser(
        "rotate-signing-key", help="a new kid signs from now; the old one verifies until its tokens expire"
    )
    rotate.set_defaults(handler=rotate_signing_key_command)


def rotate_signing_key_command(args, settings: Settings) -> None:
    sys.exit(asyncio.run(rotate_signing_key(settings)))


async def rotate_signing_key(settings: Settings) -> int:
    from zquant_identity.bootstrap import SERVICE, secret_box

    url = settings.database_url(NAME)
    try:
        await migrations.ensure_current(NAME, SERVICE.migrations, url, SERVICE.schema)
    except ZqError as exc:
        print(f"zquant identity: {exc.message}", file=sys.stderr)
        return 2
    engine = create_engine(url, tables.SCHEMA)
    try:
        sessions = session_factory(engine)
        box = secret_box(settings)
        await encrypt_plaintext_rows(sessions, box)
        ring = SigningKeyRing(sessions, box)
        await ring.load()
        retired = ring.current_kid
        kid = await ring.rotate()
    except ZqError as exc:
        print(f"zquant identity: {exc.message}", file=sys.stderr)
        return 2
    finally:
        await engine.dispose()
    minutes = int(RETIRED_KEY_GRACE.total_seconds() // 60)
    print(f"signing key {kid} signs from now; {retired} keeps verifying for {minutes} minutes, then is dropped")
    return 0
