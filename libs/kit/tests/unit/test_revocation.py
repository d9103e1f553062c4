"""The kit's not-before map, its sync (load, resync cursor, fail-closed) and the verifier consulting it."""

import asyncio
import datetime as dt
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from google.protobuf import timestamp_pb2

from zquant.common.v1 import revocation_pb2
from zquant_kit.auth import TokenVerifier, sign_access_token
from zquant_kit.errors import Unauthenticated, Unavailable
from zquant_kit.events.model import Event
from zquant_kit.principal import Principal
from zquant_kit.revocation import TOKEN_REVOKED, Revocation, RevocationMap, RevocationSync, epoch_us

pytestmark = pytest.mark.unit

KEY = Ed25519PrivateKey.generate()
NOW_US = epoch_us(dt.datetime.now(dt.UTC))


class FakeSource:
    """Identity's ListTokenRevocations as a list; `down` makes it fail like an unreachable identity."""

    def __init__(self, revocations=()):
        self.revocations_in_force = list(revocations)
        self.calls: list[int | None] = []
        self.down = False

    async def revocations(self, since_us):
        self.calls.append(since_us)
        if self.down:
            raise Unavailable("identity down")
        return [r for r in self.revocations_in_force if since_us is None or r.not_before_us >= since_us]


class StaticKeys:
    async def public_keys(self, refresh=False):
        return {"k1": KEY.public_key()}


def who(user_id="u1", role="researcher", issued_at_us=NOW_US):
    return Principal(user_id, "name", role, frozenset(), issued_at_us=issued_at_us)


def token(**overrides):
    now = int(time.time())
    claims = {
        "iss": "zquant-identity", "aud": "zquant", "sub": "u1", "username": "alice", "role": "researcher",
        "perms": ["data:read"], "iat": now, "iat_us": now * 1_000_000, "exp": now + 60, "typ": "access",
    }
    claims.update(overrides)
    return sign_access_token(KEY, "k1", claims)


def test_map_refuses_tokens_issued_before_the_user_or_role_not_before():
    revoked = RevocationMap()
    revoked.apply(Revocation("u1", "", NOW_US))
    revoked.apply(Revocation("", "analyst", NOW_US + 10))
    assert revoked.is_revoked(who(issued_at_us=NOW_US - 1))
    assert not revoked.is_revoked(who(issued_at_us=NOW_US))  # minted at (or after) the revocation: fine
    assert not revoked.is_revoked(who(user_id="u2", issued_at_us=NOW_US - 1))
    assert revoked.is_revoked(who(user_id="u2", role="analyst", issued_at_us=NOW_US + 9))
    assert not revoked.is_revoked(who(user_id="u2", role="analyst", issued_at_us=NOW_US + 10))


def test_map_keeps_the_latest_not_before_and_prunes_old_entries():
    revoked = RevocationMap()
    revoked.apply(Revocation("u1", "", NOW_US))
    revoked.apply(Revocation("u1", "", NOW_US - 100))  # a late, older delivery changes nothing
    assert revoked.is_revoked(who(issued_at_us=NOW_US - 1))
    revoked.apply(Revocation("u2", "", NOW_US - 1000))
    revoked.prune(NOW_US - 500)
    assert len(revoked) == 1


async def test_first_check_loads_everything_and_resync_asks_since_the_previous_run():
    now = epoch_us(dt.datetime.now(dt.UTC))
    source = FakeSource([Revocation("u1", "", now)])
    sync = RevocationSync(source, overlap=dt.timedelta(seconds=10))
    with pytest.raises(Unauthenticated) as caught:
        await sync.check(who(issued_at_us=now - 1))
    assert caught.value.reason == "TOKEN_REVOKED"
    assert source.calls == [None]
    await sync.sync_once()
    assert source.calls[1] is not None and source.calls[1] < epoch_us(dt.datetime.now(dt.UTC)) - 9_000_000


async def test_checks_fail_closed_until_the_first_load_succeeds():
    source = FakeSource()
    source.down = True
    sync = RevocationSync(source)
    with pytest.raises(Unavailable):
        await sync.check(who())
    source.down = False
    await sync.check(who())
    assert sync.loaded


async def test_bus_event_revokes_at_once_and_replays_are_harmless():
    now = epoch_us(dt.datetime.now(dt.UTC))
    sync = RevocationSync(FakeSource())
    await sync.sync_once()
    stamp = timestamp_pb2.Timestamp()
    stamp.FromMicroseconds(now)
    event = Event.create(TOKEN_REVOKED, revocation_pb2.TokenRevokedEvent(user_id="u1", not_before_time=stamp))
    await sync.on_event(event)
    await sync.on_event(event)
    with pytest.raises(Unauthenticated):
        await sync.check(who(issued_at_us=now - 1))
    await sync.check(who(issued_at_us=now + 1))


async def test_periodic_resync_picks_up_revocations_when_the_bus_is_silent():
    source = FakeSource()
    sync = RevocationSync(source, interval_seconds=0.02)
    sync.start()
    now = epoch_us(dt.datetime.now(dt.UTC))
    try:
        await sync.check(who(issued_at_us=now))
        source.revocations_in_force.append(Revocation("u1", "", now + 5))
        deadline = time.monotonic() + 2
        while not sync.map.is_revoked(who(issued_at_us=now)) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert sync.map.is_revoked(who(issued_at_us=now))
    finally:
        await sync.stop()


async def test_verifier_cache_does_not_bypass_revocation():
    source = FakeSource()
    sync = RevocationSync(source)
    verifier = TokenVerifier(StaticKeys(), revocations=sync, issuer="zquant-identity", audience="zquant")
    issued = int(time.time()) * 1_000_000
    access = token(iat_us=issued)
    assert (await verifier.verify(access)).issued_at_us == issued
    await verifier.verify(access)  # now cached
    sync.map.apply(Revocation("u1", "", issued + 1))
    with pytest.raises(Unauthenticated) as caught:
        await verifier.verify(access)
    assert caught.value.reason == "TOKEN_REVOKED"
    assert (await verifier.verify(token(iat_us=issued + 1))).user_id == "u1"


async def test_tokens_without_iat_us_fall_back_to_whole_seconds_and_bad_values_are_invalid():
    verifier = TokenVerifier(StaticKeys(), revocations=RevocationSync(FakeSource()), issuer="zquant-identity",
                             audience="zquant")
    now = int(time.time())
    legacy = {
        "iss": "zquant-identity", "aud": "zquant", "sub": "u1", "role": "researcher", "perms": [],
        "iat": now, "exp": now + 60, "typ": "access",
    }
    principal = await verifier.verify(sign_access_token(KEY, "k1", legacy))
    assert principal.issued_at_us == now * 1_000_000
    for bad in ("soon", 1.5, True):
        with pytest.raises(Unauthenticated) as caught:
            await verifier.verify(token(iat_us=bad))
        assert caught.value.reason == "TOKEN_INVALID"
