import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from zquant_kit.auth import (
    TokenVerifier,
    hmac_key,
    public_jwk,
    public_key_from_jwk,
    request_digest,
    sign_access_token,
    signature,
    signed_metadata,
)
from zquant_kit.errors import Unauthenticated

pytestmark = pytest.mark.unit

KEY = Ed25519PrivateKey.generate()


class StaticKeys:
    def __init__(self, keys):
        self.keys = keys
        self.refreshes = 0

    async def public_keys(self, refresh=False):
        self.refreshes += refresh
        return self.keys


def claims(**overrides):
    now = int(time.time())
    base = {
        "iss": "zquant-identity", "aud": "zquant", "sub": "u1", "username": "alice", "role": "researcher",
        "perms": ["data:read"], "iat": now, "exp": now + 60, "typ": "access",
    }
    base.update(overrides)
    return base


class NoRevocations:
    async def check(self, principal):
        return None


@pytest.fixture
def verifier():
    return TokenVerifier(
        StaticKeys({"k1": KEY.public_key()}), revocations=NoRevocations(), issuer="zquant-identity", audience="zquant"
    )


async def test_valid_token_gives_the_principal(verifier):
    principal = await verifier.verify(sign_access_token(KEY, "k1", claims()))
    assert (principal.user_id, principal.role, principal.permissions) == ("u1", "researcher", frozenset({"data:read"}))


@pytest.mark.parametrize(
    "token_factory, reason",
    [
        (lambda: sign_access_token(KEY, "k1", claims(exp=int(time.time()) - 60)), "TOKEN_EXPIRED"),
        (lambda: sign_access_token(KEY, "k1", claims(aud="other")), "TOKEN_INVALID"),
        (lambda: sign_access_token(KEY, "k1", claims(iss="evil")), "TOKEN_INVALID"),
        (lambda: sign_access_token(KEY, "k1", claims(typ="refresh")), "TOKEN_INVALID"),
        (lambda: sign_access_token(Ed25519PrivateKey.generate(), "k1", claims()), "TOKEN_INVALID"),
        (lambda: sign_access_token(KEY, "unknown", claims()), "TOKEN_INVALID"),
        (lambda: jwt.encode(claims(), "s" * 32, algorithm="HS256", headers={"kid": "k1"}), "TOKEN_INVALID"),
        (lambda: "not.a.token", "TOKEN_INVALID"),
    ],
)
async def test_bad_tokens_are_rejected(verifier, token_factory, reason):
    with pytest.raises(Unauthenticated) as caught:
        await verifier.verify(token_factory())
    assert caught.value.reason == reason


async def test_alg_none_and_tampered_payloads_are_rejected(verifier):
    def b64(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    none_token = f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': 'k1'})}.{b64(claims())}."
    header, _, sig = sign_access_token(KEY, "k1", claims()).split(".")
    tampered = f"{header}.{b64(claims(role='admin', perms=['*']))}.{sig}"
    for token in (none_token, tampered):
        with pytest.raises(Unauthenticated):
            await verifier.verify(token)


async def test_unknown_kid_triggers_one_key_refresh():
    keys = StaticKeys({})
    verifier = TokenVerifier(keys, revocations=NoRevocations(), issuer="zquant-identity", audience="zquant")
    with pytest.raises(Unauthenticated):
        await verifier.verify(sign_access_token(KEY, "k1", claims()))
    assert keys.refreshes == 1


def test_jwk_round_trip():
    jwk = public_jwk("k1", KEY.public_key())
    assert jwk["kty"] == "OKP" and jwk["alg"] == "EdDSA"
    assert public_key_from_jwk(jwk).public_bytes_raw() == KEY.public_key().public_bytes_raw()


def test_signed_metadata_matches_server_side_signature():
    body = b"\x08\x01"
    md = dict(signed_metadata("zqak_1", "zqsk_secret", "/svc/M", body, now=1_700_000_000, nonce="n1"))
    assert md["x-zq-api-key"] == "zqak_1" and md["x-zq-timestamp"] == "1700000000"
    expected = signature(hmac_key("zqsk_secret"), 1_700_000_000, "n1", "/svc/M", request_digest(body))
    assert md["x-zq-signature"] == expected
    assert signature(hmac_key("zqsk_secret"), 1_700_000_000, "n1", "/svc/Other", request_digest(body)) != expected


async def test_a_delegated_token_names_the_service_acting_for_the_user(verifier):
    own = await verifier.verify(sign_access_token(KEY, "k1", claims()))
    acting = await verifier.verify(sign_access_token(KEY, "k1", claims(act={"sub": "service:scheduler"}, jti="x")))
    assert (own.acting_service, acting.acting_service, acting.user_id) == ("", "scheduler", "u1")
    with pytest.raises(Unauthenticated):
        await verifier.verify(sign_access_token(KEY, "k1", claims(act={"sub": 7})))
