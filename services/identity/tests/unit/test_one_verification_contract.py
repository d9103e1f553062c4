"""Identity serves token verification through the shared `zquant.common.v1.TokenVerificationService` only: its own
contracts declare no twin of those RPCs, nor a message with the wire shape of one of the shared messages."""

import pytest
from google.protobuf.descriptor import Descriptor

from zquant.common.v1 import token_verification_pb2 as shared
from zquant.identity.v1 import (
    api_key_pb2,
    audit_pb2,
    auth_pb2,
    events_pb2,
    notification_pb2,
    role_pb2,
    user_pb2,
)

pytestmark = pytest.mark.unit

IDENTITY_FILES = [module.DESCRIPTOR for module in (api_key_pb2, audit_pb2, auth_pb2, events_pb2, notification_pb2,
                                                   role_pb2, user_pb2)]  # fmt: skip
SHARED_SERVICE = shared.DESCRIPTOR.services_by_name["TokenVerificationService"]
SHARED_MESSAGES = [message for message in shared.DESCRIPTOR.message_types_by_name.values() if message.fields]


def _shape(descriptor: Descriptor) -> list[tuple]:
    fields = []
    for field in sorted(descriptor.fields, key=lambda f: f.number):
        nested = field.message_type
        inner = nested and (_shape(nested) if nested.full_name.startswith("zquant.") else nested.full_name)
        fields.append((field.number, field.name, field.type, field.is_repeated, str(inner)))
    return fields


def _identity_messages() -> list[Descriptor]:
    return [message for file in IDENTITY_FILES for message in file.message_types_by_name.values()]


@pytest.mark.parametrize("method", [method.name for method in SHARED_SERVICE.methods])
def test_no_identity_service_declares_a_shared_verification_rpc(method):
    twins = [
        f"{service.full_name}/{method}"
        for file in IDENTITY_FILES
        for service in file.services_by_name.values()
        if method in service.methods_by_name
    ]
    assert twins == []


@pytest.mark.parametrize("message", SHARED_MESSAGES, ids=[message.name for message in SHARED_MESSAGES])
def test_no_identity_message_has_the_wire_shape_of_a_shared_one(message):
    shape = _shape(message)
    assert [twin.full_name for twin in _identity_messages() if _shape(twin) == shape] == []
