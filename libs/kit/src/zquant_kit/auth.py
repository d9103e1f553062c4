"""Authentication primitives shared by all services.

Access tokens are EdDSA (Ed25519) JWTs signed by identity and verified locally everywhere with the
keys from `TokenVerificationService.GetVerificationKeys`. API-key requests carry an HMAC-SHA256 signature over
timestamp, nonce, RPC method and request digest; identity checks them (nonces are global).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from zquant_kit.errors import Unauthenticated
from zquant_kit.principal import Principal
from zquant_kit.revocation import RevocationCheck

ALGORITHM = "EdDSA"
API_KEY_HEADER = "x-zq-api-key"
TIMESTAMP_HEADER = "x-zq-timestamp"
NONCE_HEADER = "x-zq-nonce"
SIGNATURE_HEADER = "x-zq-signature"
SIGNATURE_WINDOW_SECONDS = 300


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_jwk(kid: str, key: Ed25519PublicKey) -> dict[str, str]:
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return {"kid": kid, "kty": "OKP", "crv": "Ed25519", "x": _b64url(raw), "alg": ALGORITHM}


def public_key_from_jwk(jwk: dict[str, str]) -> Ed25519PublicKey:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise ValueError("only Ed25519 OKP keys are supported")
    return Ed25519PublicKey.from_public_bytes(_b64url_decode(jwk["x"]))


def sign_access_token(key: Ed25519PrivateKey, kid: str, claims: dict[str, Any]) -> str:
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid})


class PublicKeySource(Protocol):
    async def public_keys(self, refresh: bool = False) -> dict[str, Ed25519PublicKey]: ...


class TokenVerifier:
    """Only EdDSA is accepted, so `alg=none` and HS256-with-public-key tricks fail.

    Verified tokens are remembered until they expire (a token is immutable, so re-checking its signature
    buys nothing), but every call, cached or not, is checked against the revocation map.
    """

    def __init__(
        self,
        keys: PublicKeySource,
        *,
        revocations: RevocationCheck,
        issuer: str,
        audience: str,
        leeway_seconds: int = 5,
        cache_size: int = 10_000,
    ) -> None:
        self._keys = keys
        self._revocations = revocations
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway_seconds
        self._cache: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._cache_size = cache_size

    async def verify(self, token: str) -> Principal:
        principal = await self._verified(token)
        await self._revocations.check(principal)
        return principal

    async def _verified(self, token: str) -> Principal:
        cached = self._cache.get(token)
        if cached is not None:
            if cached[1] > time.time():
                self._cache.move_to_end(token)
                return cached[0]
            del self._cache[token]
        principal, expires_at = await self._verify(token)
        self._cache[token] = (principal, expires_at)
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("malformed access token", reason="TOKEN_INVALID") from None
        if header.get("alg") != ALGORITHM:
            raise Unauthenticated("unsupported token algorithm", reason="TOKEN_INVALID")
        kid = header.get("kid", "")
        keys = await self._keys.public_keys()
        if kid not in keys:
            keys = await self._keys.public_keys(refresh=True)
        if kid not in keys:
            raise Unauthenticated("token signed with an unknown key", reason="TOKEN_INVALID")
        try:
            claims = jwt.decode(
                token,
                keys[kid],
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("access token expired", reason="TOKEN_EXPIRED") from None
        except jwt.PyJWTError:
            raise Unauthenticated("invalid access token", reason="TOKEN_INVALID") from None
        if claims.get("typ") != "access":
            raise Unauthenticated("not an access token", reason="TOKEN_INVALID")
        issued_at_us = claims.get("iat_us", int(claims["iat"]) * 1_000_000)
        if not isinstance(issued_at_us, int) or isinstance(issued_at_us, bool):
            raise Unauthenticated("invalid access token", reason="TOKEN_INVALID")
        actor = claims.get("act")
        acting_service = actor.get("sub", "") if isinstance(actor, dict) else ""
        if not isinstance(acting_service, str):
            raise Unauthenticated("invalid access token", reason="TOKEN_INVALID")
        principal = Principal(
            user_id=claims["sub"],
            username=claims.get("username", ""),
            role=claims.get("role", ""),
            permissions=frozenset(claims.get("perms", [])),
            auth_method="jwt",
            issued_at_us=issued_at_us,
            acting_service=acting_service.removeprefix("service:"),
        )
        return principal, float(claims["exp"])


def hmac_key(secret: str) -> bytes:
    """The HMAC key is SHA-256(secret): identity stores only this digest, never the secret."""
    return hashlib.sha256(secret.encode()).digest()


def request_digest(request_bytes: bytes) -> str:
    return hashlib.sha256(request_bytes).hexdigest()


def canonical_string(timestamp: int, nonce: str, method: str, body_sha256: str) -> bytes:
    return f"{timestamp}\n{nonce}\n{method}\n{body_sha256}".encode()


def signature(key: bytes, timestamp: int, nonce: str, method: str, body_sha256: str) -> str:
    return hmac.new(key, canonical_string(timestamp, nonce, method, body_sha256), hashlib.sha256).hexdigest()


def signed_metadata(
    key_id: str,
    secret: str,
    method: str,
    request_bytes: bytes,
    *,
    now: int | None = None,
    nonce: str | None = None,
) -> list[tuple[str, str]]:
    """Client side: the metadata that authenticates one API-key request."""
    timestamp = int(time.time()) if now is None else now
    nonce = nonce or secrets.token_hex(16)
    sig = signature(hmac_key(secret), timestamp, nonce, method, request_digest(request_bytes))
    return [
        (API_KEY_HEADER, key_id),
        (TIMESTAMP_HEADER, str(timestamp)),
        (NONCE_HEADER, nonce),
        (SIGNATURE_HEADER, sig),
    ]


@dataclass(frozen=True, slots=True)
class ApiKeyCredentials:
    key_id: str
    timestamp: int
    nonce: str
    method: str
    body_sha256: str
    signature: str


class ApiKeyAuthenticator(Protocol):
    async def authenticate(self, credentials: ApiKeyCredentials) -> Principal: ...
