"""`zquant identity ...`: operator commands on identity's database (which must be migrated).

`rotate-signing-key` adds a new signing key (a new `kid`) that signs from then on; the old key keeps
verifying until its last token has expired, then leaves GetVerificationKeys. Running services pick the
new key up within a reload period; other services refetch keys when a token names an unknown kid.
"""

from __future__ import annotations

import asyncio
import sys

from zquant_identity.adapters.security import RETIRED_KEY_GRACE
from zquant_identity.adapters.sqlalchemy.legacy_secrets import encrypt_plaintext_rows
from zquant_kit.service_commands import run_offline
from zquant_kit.settings import Settings


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
    from zquant_identity.bootstrap import SERVICE, IdentityApp, IdentityConfig, build

    config = IdentityConfig.from_settings(settings)

    async def rotate(app: IdentityApp) -> int:
        # The same wiring as the server's; nothing of it is started but the key ring's one load.
        await encrypt_plaintext_rows(app.sessions, app.box)
        await app.ring.load()
        retired = app.ring.current_kid
        kid = await app.ring.rotate()
        minutes = int(RETIRED_KEY_GRACE.total_seconds() // 60)
        print(
            f"signing key {kid} signs from now; {retired} keeps verifying for {minutes} minutes, then is dropped"
        )
        return 0

    return await run_offline(
        "identity", SERVICE, config.kit.database_url, lambda bus: build(config, bus), rotate
    )
