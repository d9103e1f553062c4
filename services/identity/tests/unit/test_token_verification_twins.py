"""TokenVerificationService hands each call to the AuthService RPC of the same job over the wire: that holds only
while every message and its twin keep the same field numbers, names and types (nested messages included)."""

import pytest
from google.protobuf.descriptor import Descriptor

from zquant.common.v1 import token_verification_pb2 as common
from zquant.identity.v1 import auth_pb2 as identity

pytestmark = pytest.mark.unit

TWINS = [
    (common.GetVerificationKeysRequest, identity.GetPublicKeysRequest),
    (common.GetVerificationKeysResponse, identity.GetPublicKeysResponse),
    (common.AuthenticateApiKeyRequest, identity.AuthenticateApiKeyRequest),
    (common.AuthenticateApiKeyResponse, identity.AuthenticateApiKeyResponse),
    (common.ListTokenRevocationsRequest, identity.ListTokenRevocationsRequest),
    (common.ListTokenRevocationsResponse, identity.ListTokenRevocationsResponse),
]


def _shape(descriptor: Descriptor) -> list[tuple]:
    fields = []
    for field in sorted(descriptor.fields, key=lambda f: f.number):
        nested = field.message_type
        inner = nested and (_shape(nested) if nested.full_name.startswith("zquant.") else nested.full_name)
        fields.append((field.number, field.name, field.type, field.is_repeated, str(inner)))
    return fields


@pytest.mark.parametrize(("shared", "own"), TWINS, ids=[pair[0].__name__ for pair in TWINS])
def test_each_shared_message_has_the_wire_shape_of_its_identity_twin(shared, own):
    assert _shape(shared.DESCRIPTOR) == _shape(own.DESCRIPTOR)


def test_a_reply_read_across_contracts_keeps_every_value():
    reply = identity.AuthenticateApiKeyResponse(user_id="u1", role="researcher", permissions=["a", "b"], username="x")
    assert common.AuthenticateApiKeyResponse.FromString(reply.SerializeToString()) == common.AuthenticateApiKeyResponse(
        user_id="u1", role="researcher", permissions=["a", "b"], username="x"
    )
