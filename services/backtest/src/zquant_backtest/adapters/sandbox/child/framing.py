"""Wire format shared by both sides. No pickle anywhere.

Parent -> child: `<II` (header length, payload length), a msgpack header, then raw little-endian float64
payload bytes of a shape both sides already know. Child -> parent: `<I` length + a msgpack map, capped.
"""

from __future__ import annotations

import io
import struct
from typing import Any

import msgpack

DOWN_PREFIX = struct.Struct("<II")
UP_PREFIX = struct.Struct("<I")
MAX_REPLY_BYTES = 1 << 20
MAX_HEADER_BYTES = 16 << 20  # the start frame carries the code

ORDER_KINDS = ("shares", "value", "target_shares", "target_percent", "target_value")
"""An order's kind travels as its index here (the parent maps it onto the engine's ``OrderKind``)."""
PHASES = ("before_trading", "handle_bar", "after_trading")
"""The per-day callbacks a module may define (the engine's ``Phase`` values)."""


def encode_down(header: dict[str, Any], payload: bytes | memoryview = b"") -> tuple[bytes, bytes | memoryview]:
    """One parent -> child frame, as two buffers written one after the other (the payload is not copied)."""
    head = bytes(msgpack.packb(header, use_bin_type=True))
    return DOWN_PREFIX.pack(len(head), len(payload)) + head, payload


def encode_up(message: dict[str, Any]) -> bytes:
    """One child -> parent frame; the child truncates nothing, the parent enforces the cap."""
    body = bytes(msgpack.packb(message, use_bin_type=True))
    return UP_PREFIX.pack(len(body)) + body


def decode_map(body: bytes, max_len: int) -> dict[str, Any]:
    """Strict msgpack decode of a map: no extension types, bounded containers; ValueError otherwise."""
    try:
        value = msgpack.unpackb(
            body, raw=False, strict_map_key=True, max_str_len=max_len, max_bin_len=0,
            max_array_len=max_len, max_map_len=4096, max_ext_len=0,
        )
    except Exception as exc:  # msgpack raises several unrelated types on garbage
        raise ValueError(f"undecodable message: {type(exc).__name__}") from exc
    if not isinstance(value, dict):
        raise ValueError("message is not a map")
    return value


def write_all(stream: io.RawIOBase, data: bytes) -> None:
    """Blocking write of every byte (a raw write may be partial)."""
    view = memoryview(data)
    while view:
        n = stream.write(view)
        if not n:
            raise EOFError("pipe closed")
        view = view[n:]


def read_exact(stream: io.RawIOBase, size: int) -> bytearray:
    """Blocking exact read for the child side; EOFError when the parent went away."""
    buf = bytearray(size)
    view = memoryview(buf)
    got = 0
    while got < size:
        n = stream.readinto(view[got:])
        if not n:
            raise EOFError("pipe closed")
        got += n
    return buf
