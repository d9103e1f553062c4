"""Every request field of every RPC of every zquant service declares its bounds in the proto.

Walks the descriptor pool, so a new service or field is held to the same rule: strings have a length cap,
lists a size cap, numbers must be finite, enums must be defined, Timestamps have a range. The kit's interceptor
enforces these annotations (`zquant_kit.grpc.validation`); a later gateway turns them into OpenAPI constraints.
"""

from __future__ import annotations

import importlib
import pathlib

import pytest
from buf.validate import validate_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor

import zquant

pytestmark = pytest.mark.unit

_UNBOUNDED_OK = {"google.protobuf.FieldMask"}  # paths are checked by the handler against a fixed list


def _every_service() -> list:
    """Imports every generated `zquant/**/*_pb2.py`; returns the services their files declare."""
    services = []
    for root in map(pathlib.Path, zquant.__path__):
        for path in sorted(root.rglob("*_pb2.py")):
            module = ".".join(("zquant", *path.relative_to(root).with_suffix("").parts))
            services += importlib.import_module(module).DESCRIPTOR.services_by_name.values()
    return services


def _string_capped(rules) -> bool:
    return rules.HasField("max_len") or rules.HasField("len") or len(getattr(rules, "in")) > 0


def _gaps(descriptor: Descriptor, prefix: str, seen: set[str]) -> list[str]:
    if descriptor.full_name in seen:
        return []
    seen = seen | {descriptor.full_name}
    gaps = []
    for field in descriptor.fields:
        name = prefix + field.name
        rules = field.GetOptions().Extensions[validate_pb2.field]
        if field.is_repeated:
            if not (rules.HasField("repeated") and rules.repeated.HasField("max_items")):
                gaps.append(f"{name}: repeated without max_items")
                continue
            rules = rules.repeated.items
        gaps += _scalar_gaps(field, rules, name, seen)
    return gaps


def _scalar_gaps(field: FieldDescriptor, rules, name: str, seen: set[str]) -> list[str]:
    kind = field.type
    if kind == FieldDescriptor.TYPE_STRING and not (rules.HasField("string") and _string_capped(rules.string)):
        return [f"{name}: string without max_len"]
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        numbers = rules.double if kind == FieldDescriptor.TYPE_DOUBLE else rules.float
        if not numbers.finite:
            return [f"{name}: number without finite"]
    if kind == FieldDescriptor.TYPE_ENUM and not rules.enum.defined_only:
        return [f"{name}: enum without defined_only"]
    if kind == FieldDescriptor.TYPE_MESSAGE:
        nested = field.message_type
        if nested.full_name == "google.protobuf.Timestamp":
            return [] if rules.HasField("timestamp") else [f"{name}: Timestamp without a range"]
        if nested.full_name.startswith("zquant."):
            return _gaps(nested, name + ".", seen)
        if nested.full_name not in _UNBOUNDED_OK:
            return [f"{name}: {nested.full_name} has no bounds"]
    return []


def test_every_request_field_declares_its_bounds():
    services = _every_service()
    methods = [method for service in services for method in service.methods]
    assert len(services) >= 9 and len(methods) >= 56  # identity's six services and marketdata's three, today
    gaps = [f"{m.full_name} {gap}" for m in methods for gap in _gaps(m.input_type, "", set())]
    assert gaps == [], "annotate these request fields with (buf.validate.field) bounds:\n" + "\n".join(gaps)
