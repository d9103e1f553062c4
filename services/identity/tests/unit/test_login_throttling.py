"""Login throttling and answers over the fakes: per (account, address) backoff, per-address rate, inactive accounts."""

from __future__ import annotations

import pytest

from zquant_identity.domain.rules import PERMISSIONS
from zquant_kit.errors import Unauthenticated
from zquant_kit.testing import USER_PASSWORD, root_principal

pytestmark = pytest.mark.unit


ROOT = root_principal(PERMISSIONS)


async def test_five_failed_logins_throttle_that_address_for_that_account_only(app):
    await app.make_user("alice")
    await app.make_user("bob")
    for _ in range(5):
        with pytest.raises(Unauthenticated) as raised:
            await app.auth.login("alice", "Wrong-pass-1", "10.0.0.9")
        assert raised.value.reason == "BAD_CREDENTIALS"
    with pytest.raises(Unauthenticated) as raised:
        await app.auth.login(
            "ALICE", USER_PASSWORD, "10.0.0.9"
        )  # the right password, any case, is still refused
    assert raised.value.reason == "LOGIN_RATE_LIMITED"
    assert "retry in 1 s" in str(raised.value)

    assert (
        await app.auth.login("alice", USER_PASSWORD, "10.0.0.7")
    ).access_token  # another address is unaffected
    assert (await app.auth.login("bob", USER_PASSWORD, "10.0.0.9")).access_token  # and so is another account
    app.clock.advance(seconds=1)
    assert (await app.auth.login("alice", USER_PASSWORD, "10.0.0.9")).access_token
    assert app.store.login_throttles == {}  # a success forgets the pair's failures


async def test_backoff_doubles_from_one_second_up_to_fifteen_minutes(app):
    await app.make_user("alice")
    waits = []
    for _ in range(16):
        with pytest.raises(Unauthenticated):
            await app.auth.login("alice", "Wrong-pass-1", "10.0.0.9")
        throttle = app.store.login_throttles[("alice", "10.0.0.9")]
        wait = throttle.retry_after(app.clock.now())
        waits.append(int(wait.total_seconds()) if wait else 0)
        if wait:
            app.clock.advance(seconds=wait.total_seconds())
    assert waits == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]


async def test_failures_from_one_address_across_accounts_are_rate_limited_per_minute(app):
    await app.make_user("alice")
    for index in range(20):
        with pytest.raises(Unauthenticated) as raised:
            await app.auth.login(f"guess{index}", "Wrong-pass-1", "10.0.0.9")
        assert raised.value.reason == "BAD_CREDENTIALS"
    with pytest.raises(Unauthenticated) as raised:
        await app.auth.login("alice", USER_PASSWORD, "10.0.0.9")
    assert raised.value.reason == "LOGIN_RATE_LIMITED"
    assert "retry in 60 s" in str(raised.value)
    assert (await app.auth.login("alice", USER_PASSWORD, "10.0.0.7")).access_token

    app.clock.advance(seconds=60)
    assert (await app.auth.login("alice", USER_PASSWORD, "10.0.0.9")).access_token


async def test_unknown_usernames_are_throttled_like_real_ones(app):
    """Otherwise the sixth answer would tell a guesser which usernames exist."""
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            await app.auth.login("nobody", "Wrong-pass-1", "10.0.0.9")
    with pytest.raises(Unauthenticated) as raised:
        await app.auth.login("nobody", "Wrong-pass-1", "10.0.0.9")
    assert raised.value.reason == "LOGIN_RATE_LIMITED"


async def test_stale_failures_are_forgotten_after_a_day(app):
    await app.make_user("alice")
    for _ in range(4):
        with pytest.raises(Unauthenticated):
            await app.auth.login("nobody", "Wrong-pass-1", "10.0.0.9")
    app.clock.advance(hours=25)
    with pytest.raises(Unauthenticated):
        await app.auth.login("alice", "Wrong-pass-1", "10.0.0.9")
    assert list(app.store.login_throttles) == [("alice", "10.0.0.9")]


async def test_a_deactivated_account_answers_as_a_wrong_password_does(app):
    alice = await app.make_user("alice")
    await app.users.set_active(ROOT, alice.id, False)
    answers = []
    for password in (USER_PASSWORD, "Wrong-pass-1"):
        with pytest.raises(Unauthenticated) as raised:
            await app.auth.login("alice", password, "10.0.0.9")
        answers.append((raised.value.reason, str(raised.value)))
    assert answers == [("BAD_CREDENTIALS", "invalid username or password")] * 2
    assert (
        app.store.login_throttles[("alice", "10.0.0.9")].failures == 2
    )  # both count, so throttling tells nothing
    assert app.store.refresh_tokens == {}


async def test_login_ignores_the_case_of_the_username(app):
    await app.make_user("Alice")
    assert (await app.auth.login("aLICE", USER_PASSWORD)).access_token
