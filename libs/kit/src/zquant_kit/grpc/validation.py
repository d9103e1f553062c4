"""Request bounds, checked before any handler runs.

The bounds live next to each field in the proto as `buf.validate` annotations (plus the predefined rules of
`zquant/common/v1/bounds.proto`); `protovalidate` enforces them. Two rules hold for every field of every request
without an annotation: a string never carries a NUL byte, and a Timestamp is one protobuf can represent
(0001-01-01..9999-12-31, nanos in [0, 1e9)). Any violation becomes one `InvalidArgument` with one
(field, description) pair per bad field, the field dotted like `config.token` or `ts_codes[3]`.

Costs stay bounded for hostile input: a list over its `max_items` is refused before its items are looked at,
and a request with many list items reports its first rule violation only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import Any

import protovalidate
from buf.validate import validate_pb2
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from zquant_kit.errors import InvalidArgument

_TIMESTAMP = "google.protobuf.Timestamp"
_MIN_SECONDS = -62_135_596_800  # 0001-01-01T00:00:00Z
_MAX_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z
_MAX_NANOS = 999_999_999
_FIRST_NAME = re.compile(r"[^.\[]*")

MAX_VIOLATIONS = 20
"""Most field violations one error lists; the message counts the rest."""
MANY_ITEMS = 100
"""Above this many list items a request reports its first rule violation only, so 10,000 bad codes cost no more
to refuse than one."""


class RequestValidator:
    """One per interceptor: protovalidate compiles and caches the rules of each message type on first use."""

    def __init__(self) -> None:
        self._rules = protovalidate.Validator()
        self._walks: dict[str, bool] = {}
        self._caps: dict[str, int | None] = {}

    def check(self, request: Message) -> None:
        """Raise `InvalidArgument` naming every bad field of `request`; return quietly when it is within bounds."""
        found: dict[str, list[str]] = {}
        items = self._count_items(request, "", found)
        if not found:  # an oversized list is refused before its items are looked at
            for violation in self._rules.collect_violations(request, fail_fast=items > MANY_ITEMS):
                found.setdefault(_path(violation.proto.field.elements), []).append(  # type: ignore[union-attr]
                    violation.proto.message
                )
            if self._needs_walk(_descriptor(request)):
                for path, description in islice(_generic_violations(request, ""), MAX_VIOLATIONS):
                    found.setdefault(path, []).append(description)
        if found:
            order = {field.name: index for index, field in enumerate(_descriptor(request).fields)}
            paths = sorted(found, key=lambda path: order.get(_first_name(path), len(order)))
            violations = [(path, "; ".join(dict.fromkeys(found[path]))) for path in paths]
            raise InvalidArgument.of(violations[:MAX_VIOLATIONS], hidden=len(violations) - MAX_VIOLATIONS)

    def _count_items(self, message: Message, prefix: str, found: dict[str, list[str]]) -> int:
        """List items in `message`, recording each list longer than its annotated `max_items` in `found`."""
        total = 0
        for field, value in message.ListFields():
            if field.is_repeated:
                total += len(value)
                cap = self._cap(field)
                if cap is not None and len(value) > cap:
                    found[prefix + field.name] = [f"must contain no more than {cap} item(s)"]
                elif field.message_type is not None and not field.message_type.GetOptions().map_entry:
                    for index, item in enumerate(value):
                        total += self._count_items(item, f"{prefix}{field.name}[{index}].", found)
            elif field.type == FieldDescriptor.TYPE_MESSAGE:
                total += self._count_items(value, f"{prefix}{field.name}.", found)
        return total

    def _cap(self, field: FieldDescriptor) -> int | None:
        if field.full_name not in self._caps:
            rules = field.GetOptions().Extensions[validate_pb2.field]
            has_cap = rules.HasField("repeated") and rules.repeated.HasField("max_items")
            self._caps[field.full_name] = rules.repeated.max_items if has_cap else None
        return self._caps[field.full_name]

    def _needs_walk(self, descriptor: Descriptor) -> bool:
        """Whether the type can hold a string or a Timestamp at all (GetMe's empty request skips the walk)."""
        known = self._walks.get(descriptor.full_name)
        if known is None:
            known = self._walks[descriptor.full_name] = _can_hold_checked(descriptor, set())
        return known


def _descriptor(message: Message) -> Descriptor:
    """The message's descriptor (the stubs also admit upb's own class, which has the same interface)."""
    descriptor: Descriptor = message.DESCRIPTOR  # type: ignore[assignment]
    return descriptor


def _first_name(path: str) -> str:
    """The top-level field a violation path starts with (`a.b[0]` → `a`)."""
    found = _FIRST_NAME.match(path)
    return found.group() if found else path


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


def _path(elements: Iterable[Any]) -> str:
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
        seconds, nanos = getattr(message, "seconds"), getattr(message, "nanos")  # noqa: B009 (any Message here)
        if not _MIN_SECONDS <= seconds <= _MAX_SECONDS or not 0 <= nanos <= _MAX_NANOS:
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


def _map_violations(
    field: FieldDescriptor, entries: Mapping[Any, Any], name: str
) -> Iterator[tuple[str, str]]:
    entry = field.message_type
    assert entry is not None  # a map field's entry type
    key_field, value_field = entry.fields_by_name["key"], entry.fields_by_name["value"]
    for key, value in entries.items():
        yield from _value_violations(key_field, key, f"{name}[{key!r}]")
        yield from _value_violations(value_field, value, f"{name}[{key!r}]")


def _value_violations(field: FieldDescriptor, value: Any, path: str) -> Iterator[tuple[str, str]]:
    if field.type == FieldDescriptor.TYPE_STRING:
        if "\x00" in value:
            yield path, "must not contain a NUL character"
    elif field.type in (FieldDescriptor.TYPE_MESSAGE, FieldDescriptor.TYPE_GROUP):
        yield from _generic_violations(value, path + ".")
