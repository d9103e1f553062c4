"""Request bounds, checked before any handler runs.

The bounds live next to each field in the proto as `buf.validate` annotations (plus the predefined rules of
`zquant/common/v1/bounds.proto`); `protovalidate` enforces them. Two rules hold for every field of every request
without an annotation: a string never carries a NUL byte, and a Timestamp is one protobuf can represent
(0001-01-01..9999-12-31, nanos in [0, 1e9)). Any violation becomes one `InvalidArgument` with one
(field, description) pair per bad field, the field dotted like `config.token` or `ts_codes[3]`.
"""

from __future__ import annotations

from collections.abc import Iterator

import protovalidate
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from zquant_kit.errors import InvalidArgument

_TIMESTAMP = "google.protobuf.Timestamp"
_MIN_SECONDS = -62_135_596_800  # 0001-01-01T00:00:00Z
_MAX_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z
_MAX_NANOS = 999_999_999


class RequestValidator:
    """One per server: protovalidate compiles and caches the rules of each message type on first use."""

    def __init__(self) -> None:
        self._rules = protovalidate.Validator()
        self._walks: dict[str, bool] = {}

    def check(self, request: Message) -> None:
        """Raise `InvalidArgument` naming every bad field of `request`; return quietly when it is within bounds."""
        found: dict[str, list[str]] = {}
        for violation in self._rules.collect_violations(request):
            found.setdefault(_path(violation.proto.field.elements), []).append(violation.proto.message)
        if self._needs_walk(request.DESCRIPTOR):
            for path, description in _generic_violations(request, ""):
                found.setdefault(path, []).append(description)
        if found:
            raise InvalidArgument.of([(path, "; ".join(dict.fromkeys(texts))) for path, texts in found.items()])

    def _needs_walk(self, descriptor: Descriptor) -> bool:
        """Whether the type can hold a string or a Timestamp at all (GetMe's empty request skips the walk)."""
        known = self._walks.get(descriptor.full_name)
        if known is None:
            known = self._walks[descriptor.full_name] = _can_hold_checked(descriptor, set())
        return known


def _can_hold_checked(descriptor: Descriptor, seen: set[str]) -> bool:
    if descriptor.full_name == _TIMESTAMP:
        return True
    seen.add(descriptor.full_name)
    for field in descriptor.fields:
        if field.type == FieldDescriptor.TYPE_STRING:
            return True
        nested = field.message_type
        if nested is not None and nested.full_name not in seen and _can_hold_checked(nested, seen):
            return True
    return False


def _path(elements) -> str:
    parts: list[str] = []
    for element in elements:
        text = element.field_name
        if element.subscript is not None:
            key = element.subscript.value
            text += f"[{key}]" if element.subscript.field == "index" else f"[{key!r}]"
        parts.append(text)
    return ".".join(parts)


def _generic_violations(message: Message, prefix: str) -> Iterator[tuple[str, str]]:
    if message.DESCRIPTOR.full_name == _TIMESTAMP:
        if not _MIN_SECONDS <= message.seconds <= _MAX_SECONDS or not 0 <= message.nanos <= _MAX_NANOS:
            yield prefix.rstrip("."), "not a valid Timestamp"
        return
    for field, value in message.ListFields():
        name = prefix + field.name
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            yield from _map_violations(field, value, name)
        elif field.is_repeated:
            for index, item in enumerate(value):
                yield from _value_violations(field, item, f"{name}[{index}]")
        else:
            yield from _value_violations(field, value, name)


def _map_violations(field: FieldDescriptor, entries, name: str) -> Iterator[tuple[str, str]]:
    key_field, value_field = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
    for key, value in entries.items():
        yield from _value_violations(key_field, key, f"{name}[{key!r}]")
        yield from _value_violations(value_field, value, f"{name}[{key!r}]")


def _value_violations(field: FieldDescriptor, value, path: str) -> Iterator[tuple[str, str]]:
    if field.type == FieldDescriptor.TYPE_STRING:
        if "\x00" in value:
            yield path, "must not contain a NUL character"
    elif field.type in (FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_GROUP):
        yield from _generic_violations(value, path + ".")
