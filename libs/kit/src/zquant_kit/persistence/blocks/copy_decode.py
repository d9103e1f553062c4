"""Block reads on the client: binary COPY tuples of packed runs → `PackedRuns`.

Each COPY tuple is one part: (codes, their byte lengths, run lengths, dates, columns), all packed
big-endian by the server; numpy reads each field with one ``frombuffer``, without a copy.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zquant_kit.persistence.blocks.pg_binary import COPY_SIGNATURE, UNIX_DAYS_AT_PG_EPOCH

_HEADER_FIXED = len(COPY_SIGNATURE) + 8
_INT16 = struct.Struct(">h")
_INT32 = struct.Struct(">i")


@dataclass(frozen=True, slots=True)
class PackedRuns:
    """Consecutive runs of rows: run ``i`` is ``codes[i]`` with ``lengths[i]`` rows; ``days``
    (int64 days since 1970-01-01) and each of ``values`` (big-endian float64 views onto the COPY
    message) hold the runs one after the other, in the read's column order."""

    codes: list[str]
    lengths: np.ndarray
    days: np.ndarray
    values: list[np.ndarray]


def packed_runs(fields: Sequence[memoryview | bytes | None], first: int, last: int) -> PackedRuns | None:
    """The runs of one tuple (codes, their byte lengths, run lengths, dates, columns), cut to the
    days in [first, last] (PostgreSQL day numbers; a block spans its whole year); None if empty."""
    code_ends = np.cumsum(np.frombuffer(_field(fields[1]), dtype=">i4")).tolist()
    blob = bytes(_field(fields[0]))
    codes = [blob[a:b].decode() for a, b in zip([0, *code_ends], code_ends, strict=False)]
    lengths = np.frombuffer(_field(fields[2]), dtype=">i4").astype(np.int64)
    days = np.frombuffer(_field(fields[3]), dtype=">i4")
    values = [np.frombuffer(_field(field), dtype=">f8") for field in fields[4:]]
    inside = (days >= first) & (days <= last)
    if not inside.all():
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        lengths = np.add.reduceat(inside, starts).astype(np.int64) if lengths.size else lengths
        kept = np.flatnonzero(lengths)
        codes = [codes[i] for i in kept.tolist()]
        lengths = lengths[kept]
        days = days[inside]
        values = [column[inside] for column in values]
    if not codes:
        return None
    return PackedRuns(
        codes=codes, lengths=lengths, days=days.astype(np.int64) + UNIX_DAYS_AT_PG_EPOCH, values=values
    )


def _field(field: memoryview | bytes | None) -> memoryview | bytes:
    if field is None:
        raise ValueError("a packed run field is NULL")
    return field


class CopyTupleParser:
    """Tuples of a binary COPY stream, fed one CopyData message at a time; fields as zero-copy
    memoryviews onto the message (None = NULL), which keep the message alive."""

    def __init__(self) -> None:
        self._header_seen = False

    def feed(self, message: bytes | bytearray | memoryview) -> list[list[memoryview | None]]:
        data = memoryview(message).cast("B")
        position = 0
        if not self._header_seen:
            if bytes(data[: len(COPY_SIGNATURE)]) != COPY_SIGNATURE:
                raise ValueError("not a binary COPY stream")
            (extension,) = _INT32.unpack_from(data, _HEADER_FIXED - 4)
            position = _HEADER_FIXED + extension
            self._header_seen = True
        out = []
        while position < len(data):
            (count,) = _INT16.unpack_from(data, position)
            position += 2
            if count == -1:
                break
            fields: list[memoryview | None] = []
            for _ in range(count):
                (length,) = _INT32.unpack_from(data, position)
                position += 4
                if length < 0:
                    fields.append(None)
                else:
                    fields.append(data[position : position + length])
                    position += length
            out.append(fields)
        return out
