"""TokenVerificationService contract, identity's implementation: GetVerificationKeys (public) and
AuthenticateApiKey (service-only)."""

from __future__ import annotations

import secrets
import time

import grpc
import jwt
import pytest

from zquant.common.v1 import token_verification_pb2 as pb
from zquant.identity.v1 import api_key_pb2, user_pb2
from zquant_kit.auth import hmac_key, public_key_from_jwk, request_digest, signature
from zquant_kit.testing import ADMIN_PASSWORD

pytestmark = pytest.mark.contract
C = grpc.StatusCode
GET_ME = "/zquant.identity.v1.UserService/GetMe"


def signed_request(key_id: str, secret: str, **overrides) -> pb.AuthenticateApiKeyRequest:
    """What another service forwards: the caller's key id, timestamp, nonce, method, body digest and signature."""
    values = {
        "key_id": key_id,
        "timestamp": int(time.time()),
        "nonce": secrets.token_hex(16),
        "method": GET_ME,
        "body_sha256": request_digest(user_pb2.GetMeRequest().SerializeToString()),
    }
    values.update(overrides)
    values.setdefault(
        "signature",
        signature(
            hmac_key(secret), values["timestamp"], values["nonce"], values["method"], values["body_sha256"]
        ),
    )
    return pb.AuthenticateApiKeyRequest(**values)


async def test_verification_keys_verify_issued_access_tokens(identity):
    response = await identity.verification.GetVerificationKeys(pb.GetVerificationKeysRequest())
    assert (response.issuer, response.audience) == ("zquant-identity", "zquant")
    assert len(response.keys) >= 1
    for key in response.keys:
        assert (key.kty, key.crv, key.alg) == ("OKP", "Ed25519", "EdDSA") and key.kid and key.x

    token = (await identity.login("admin", ADMIN_PASSWORD)).access_token
    kid = jwt.get_unverified_header(token)["kid"]
    (jwk,) = [k for k in response.keys if k.kid == kid]
    claims = jwt.decode(
        token,
        public_key_from_jwk({"kty": jwk.kty, "crv": jwk.crv, "x": jwk.x}),
        algorithms=["EdDSA"],
        audience=response.audience,
        issuer=response.issuer,
    )
    assert claims["username"] == "admin" and claims["role"] == "admin" and claims["typ"] == "access"


async def test_authenticate_api_key_returns_the_key_owner(identity, make_user, service):
    rita, researcher = await make_user("rita")
    created = await identity.api_keys.CreateApiKey(
        api_key_pb2.CreateApiKeyRequest(name="ci"), metadata=researcher
    )

    found = await identity.verification.AuthenticateApiKey(
        signed_request(created.api_key.id, created.secret), metadata=service
    )
    assert (found.user_id, found.username, found.role) == (rita.id, "rita", "researcher")
    assert list(found.permissions) == list(rita.permissions)


async def test_authenticate_api_key_rejects_bad_requests(identity, admin, service, expect_error):
    created = await identity.api_keys.CreateApiKey(api_key_pb2.CreateApiKeyRequest(name="ci"), metadata=admin)
    key_id, secret = created.api_key.id, created.secret
    stale = int(time.time()) - 301
    cases = [
        (signed_request("zqak_unknown", secret), "API_KEY_INVALID"),
        (signed_request(key_id, "zqsk_wrong-secret"), "SIGNATURE_INVALID"),
        (signed_request(key_id, secret, signature="00" * 32), "SIGNATURE_INVALID"),
        (signed_request(key_id, secret, timestamp=stale), "SIGNATURE_EXPIRED"),
        (signed_request(key_id, secret, timestamp=int(time.time()) + 305), "SIGNATURE_EXPIRED"),
        (signed_request(key_id, secret, nonce=""), "API_KEY_INVALID"),
        (signed_request(key_id, secret, nonce="n" * 129), "API_KEY_INVALID"),
    ]
    for request, reason in cases:
        found = await expect_error(
            identity.verification.AuthenticateApiKey(request, metadata=service), C.UNAUTHENTICATED
        )
        assert found.reason == reason, request
