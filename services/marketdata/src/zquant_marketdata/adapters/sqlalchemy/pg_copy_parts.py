"""PostgreSQL's side of bar reads: binary COPY tuples of packed runs → `RunPart`s → `BarRows`.

Each COPY tuple is one part: (codes, their byte lengths, run lengths, dates, columns), all packed
big-endian by the server; numpy reads each field with one ``frombuffer``, without a copy.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np

from zquant_marketdata.adapters.sqlalchemy.pg_binary import COPY_SIGNATURE, UNIX_DAYS_AT_PG_EPOCH
from zquant_marketdata.application.query_ports import BarRows
from zquant_marketdata.domain.panel import RunPart

_HEADER_FIXED = len(COPY_SIGNATURE) + 8
_INT16 = struct.Struct(">h")
_INT32 = struct.Struct(">i")


def run_part(fields: list, first: int, last: int) -> RunPart | None:
    """A part from its tuple (codes, their byte lengths, run lengths, dates, columns), cut to the
    days in [first, last] (PostgreSQL day numbers; a block spans its whole year); None if empty."""
    code_ends = np.cumsum(np.frombuffer(fields[1], dtype=">i4")).tolist()
    blob = bytes(fields[0])
    codes = [blob[a:b].decode() for a, b in zip([0, *code_ends], code_ends, strict=False)]
    lengths = np.frombuffer(fields[2], dtype=">i4").astype(np.int64)
    days = np.frombuffer(fields[3], dtype=">i4")
    values = [np.frombuffer(field, dtype=">f8") for field in fields[4:]]
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
    return RunPart(codes=codes, lengths=lengths, days=days.astype(np.int64) + UNIX_DAYS_AT_PG_EPOCH, values=values)


class CopyTupleParser:
    """Tuples of a binary COPY stream, fed one CopyData message at a time; fields as zero-copy
    memoryviews onto the message (None = NULL), which keep the message alive."""

    def __init__(self) -> None:
        self._header_seen = False

    def feed(self, message) -> list[list[bytes | None]]:
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
            fields: list[bytes | None] = []
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


def assemble(parts: list[RunPart], columns: Sequence[str]) -> BarRows:
    """BarRows (codes sorted) of run parts; a code may have runs in several parts."""
    if not parts:
        return BarRows.empty(columns)
    codes = sorted({code for part in parts for code in part.codes})
    position = {code: index for index, code in enumerate(codes)}
    code_index = np.concatenate([
        np.repeat(np.fromiter((position[code] for code in part.codes), dtype=np.int64, count=len(part.codes)),
                  part.lengths)
        for part in parts
    ])
    days = np.concatenate([part.days for part in parts]).astype("datetime64[D]")
    values = {
        name: np.concatenate([part.values[offset] for part in parts]).astype(np.float64)
        for offset, name in enumerate(columns)
    }
    return BarRows(codes=codes, code_index=code_index, days=days, values=values)
