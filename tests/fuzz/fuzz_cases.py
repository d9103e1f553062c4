"""Boundary and garbage requests for any protobuf request type, derived from its descriptor alone.

Deterministic by construction: every case is listed, none is drawn at random, so a failure replays exactly.
One field is set to a bad value at a time, over a baseline in which fields with a well-known name hold a
plausible value (so the bad value gets past its neighbours' checks); nested messages are walked down to
`MAX_DEPTH`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

MAX_DEPTH = 2
LIST_SIZE = 100_000
MB = 1 << 20
F = FieldDescriptor

STRINGS: dict[str, str] = {
    "empty": "",
    "1MB": "x" * MB,
    "10MB": "x" * (10 * MB),
    "nul": "a\x00b",
    "date-99991231": "99991231",
    "date-19000101": "19000101",
    "date-20230230": "20230230",
    "abc": "abc",
    "like-wildcards": "%_\\%",
    "unicode": "股票\u202e\U0001f600",
}
LIST_ITEM_LABELS = ("empty", "nul", "1MB", "date-99991231", "like-wildcards")
"""Bad single elements of a repeated string field (each element is checked like a scalar)."""
BYTES: dict[str, bytes] = {"empty": b"", "nul": b"\x00", "1MB": b"\xff" * MB}
INT32 = {"zero": 0, "-1": -1, "min": -(1 << 31), "max": (1 << 31) - 1}
INT64 = {"zero": 0, "-1": -1, "min": -(1 << 63), "max": (1 << 63) - 1}
UINT32 = {"zero": 0, "max": (1 << 32) - 1}
UINT64 = {"zero": 0, "max": (1 << 64) - 1}
DOUBLES = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf"), "-1": -1.0, "1e308": 1e308, "1e-9": 1e-9}
FLOATS = {**DOUBLES, "1e308": 3e38}
# Timestamps outside 0001-01-01..9999-12-31 and nanos outside [0, 1e9).
TIMESTAMPS = {
    "before-year-1": (-62135596801, 0),
    "after-year-9999": (253402300800, 0),
    "max-int64": ((1 << 63) - 1, 0),
    "nanos-negative": (0, -1),
    "nanos-1e9": (0, 1_000_000_000),
}

# Plausible values for fields with these names (or name suffixes), so a garbage value in one field is not
# refused only because a neighbour is empty. Names, not RPCs: a new service using them benefits too.
PLAUSIBLE_BY_NAME: dict[str, Any] = {
    "ts_code": "600000.SH",
    "ts_codes": ["600000.SH"],
    "username": "fuzz_user",
    "email": "fuzz@example.com",
    "password": "Fuzz-passw0rd!",
    "new_password": "Fuzz-passw0rd-2!",
    "name": "fuzz",
    "page_size": 10,
    # A strategy that passes the backtest service's AST check, so CreateStrategy/ValidateStrategy/SubmitBacktest
    # get past the code to the field under test.
    "code": "def handle_bar(context, bar):\n    pass\n",
}
PLAUSIBLE_BY_SUFFIX: dict[str, Any] = {"_date": "20240102", "_dates": ["20240102"]}


@dataclass(frozen=True)
class Case:
    """One request to send, and the path and label of the bad value it carries."""

    field: str
    label: str
    request: Message


def _scalar_values(field: FieldDescriptor) -> dict[str, Any]:
    kind = field.type
    if kind == F.TYPE_STRING:
        return STRINGS
    if kind == F.TYPE_BYTES:
        return BYTES
    if kind == F.TYPE_BOOL:
        return {"true": True}
    if kind in (F.TYPE_DOUBLE,):
        return DOUBLES
    if kind == F.TYPE_FLOAT:
        return FLOATS
    if kind == F.TYPE_ENUM:
        numbers = [v.number for v in field.enum_type.values]
        return {"unknown-enum": max(numbers) + 1, "enum-negative": -1}
    if kind in (F.TYPE_INT32, F.TYPE_SINT32, F.TYPE_SFIXED32):
        return INT32
    if kind in (F.TYPE_INT64, F.TYPE_SINT64, F.TYPE_SFIXED64):
        return INT64
    if kind in (F.TYPE_UINT32, F.TYPE_FIXED32):
        return UINT32
    if kind in (F.TYPE_UINT64, F.TYPE_FIXED64):
        return UINT64
    raise AssertionError(f"no fuzz values for field type {kind} of {field.full_name}")


def _is_repeated(field: FieldDescriptor) -> bool:
    return field.is_repeated


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def plausible(field: FieldDescriptor) -> Any | None:
    if field.name in PLAUSIBLE_BY_NAME:
        return PLAUSIBLE_BY_NAME[field.name]
    return next((v for s, v in PLAUSIBLE_BY_SUFFIX.items() if field.name.endswith(s)), None)


def fill_baseline(message: Message) -> None:
    """Plausible values in the top-level fields that have one (kept only if the type matches)."""
    for field in message.DESCRIPTOR.fields:
        value = plausible(field)
        if value is None or field.message_type is not None:
            continue
        try:
            if _is_repeated(field):
                getattr(message, field.name).extend(value)
            else:
                setattr(message, field.name, value)
        except (TypeError, ValueError):
            message.ClearField(field.name)


Setter = Callable[[Message], None]


def _field_setters(field: FieldDescriptor, depth: int) -> Iterator[tuple[str, str, Setter]]:
    """(path suffix, label, setter) for every bad value of one field of some message."""
    name = field.name
    if _is_map(field):
        key_field = field.message_type.fields_by_name["key"]
        value_field = field.message_type.fields_by_name["value"]
        yield name, f"{LIST_SIZE}-entries", lambda m: _fill_map(getattr(m, name), key_field, value_field)
        return
    if field.message_type is not None:
        if field.message_type.full_name == "google.protobuf.Timestamp":
            for label, (seconds, nanos) in TIMESTAMPS.items():
                yield name, label, _timestamp_setter(name, field, seconds, nanos)
            return
        if _is_repeated(field):
            yield name, f"{LIST_SIZE}-empty-messages", lambda m: [getattr(m, name).add() for _ in range(LIST_SIZE)]
        if depth < MAX_DEPTH:
            for path, label, inner in _message_setters(field.message_type, depth + 1):
                yield f"{name}.{path}", label, _nested(name, field, inner)
        return
    values = _scalar_values(field)
    if _is_repeated(field):
        item = plausible(field) or [next(iter(values.values())) if field.type != F.TYPE_STRING else "x"]
        yield name, f"{LIST_SIZE}-items", lambda m: getattr(m, name).extend(item * LIST_SIZE)
        for label, value in values.items():
            if field.type != F.TYPE_STRING or label in LIST_ITEM_LABELS:
                yield name, f"[{label}]", lambda m, v=value: getattr(m, name).append(v)
        return
    for label, value in values.items():
        yield name, label, lambda m, v=value: setattr(m, name, v)


def _fill_map(container, key_field: FieldDescriptor, value_field: FieldDescriptor) -> None:
    for i in range(LIST_SIZE):
        key = str(i) if key_field.type == F.TYPE_STRING else i
        if value_field.message_type is not None:
            container[key].SetInParent()
        else:
            container[key] = "x" if value_field.type == F.TYPE_STRING else 0


def _timestamp_setter(name: str, field: FieldDescriptor, seconds: int, nanos: int) -> Setter:
    def set_timestamp(message: Message) -> None:
        target = getattr(message, name).add() if _is_repeated(field) else getattr(message, name)
        target.seconds, target.nanos = seconds, nanos

    return set_timestamp


def _nested(name: str, field: FieldDescriptor, inner: Setter) -> Setter:
    def set_nested(message: Message) -> None:
        child = getattr(message, name).add() if _is_repeated(field) else getattr(message, name)
        child.SetInParent()
        inner(child)

    return set_nested


def _message_setters(descriptor: Descriptor, depth: int) -> Iterator[tuple[str, str, Setter]]:
    for field in descriptor.fields:
        yield from _field_setters(field, depth)


def cases(request_class: type[Message], skip_labels: frozenset[str] = frozenset()) -> Iterator[Case]:
    """The default request, then one case per (field path, bad value) whose label is not skipped."""
    yield Case("", "default", request_class())
    for path, label, setter in _message_setters(request_class.DESCRIPTOR, 0):
        if label in skip_labels:
            continue
        request = request_class()
        fill_baseline(request)
        top = path.split(".", 1)[0]
        request.ClearField(top)
        setter(request)
        yield Case(path, label, request)
