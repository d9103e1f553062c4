"""PostgreSQL's binary COPY stream encoded with numpy in bulk: a history sync writes millions of rows, a
factor calculation hundreds of thousands of packed blocks, so no Python object is built per row. A
`KeyedBatch` is encoded by `copy_binary_chunks`; rows of fixed-width fields by `fixed_width_tuples`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from zquant_kit.persistence.blocks.batch import KeyedBatch
from zquant_kit.persistence.blocks.pg_binary import COPY_SIGNATURE, UNIX_DAYS_AT_PG_EPOCH

COPY_HEADER = COPY_SIGNATURE + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
COPY_TRAILER = b"\xff\xff"
COPY_CHUNK_ROWS = 100_000
"""Rows encoded per COPY message batch: bounds memory while the server ingests the previous one."""


def copy_binary_chunks(batch: KeyedBatch) -> Iterator[bytes]:
    """The COPY binary stream of the batch, columns in `batch.columns` order.

    A tuple is int16 field count, then per field int32 length and the value
    (length -1 and no value for NULL). Rows whose ts_code length and NULL
    pattern agree have a fixed layout, so each such group is one numpy
    structured array written in a single `tobytes`.
    """
    code_bytes = [code.encode() for code in batch.codes]
    code_lengths = np.fromiter(map(len, code_bytes), dtype=np.int64, count=len(code_bytes))
    code_tables = {
        length: np.array([code if len(code) == length else b"" for code in code_bytes], dtype=f"S{length}")
        for length in set(code_lengths.tolist())
    }
    pg_days = (batch.trade_date.astype(np.int64) - UNIX_DAYS_AT_PG_EPOCH).astype(">i4")
    value_names = list(batch.values)
    nullable = [name for name in value_names if batch.table.c[name].nullable]

    yield COPY_HEADER
    for start in range(0, batch.size, COPY_CHUNK_ROWS):
        rows = slice(start, start + COPY_CHUNK_ROWS)
        code_index = batch.code_index[rows]
        layout = code_lengths[code_index] << len(nullable)
        for bit, name in enumerate(nullable):
            layout |= np.isnan(batch.values[name][rows]).astype(np.int64) << bit
        parts = []
        for group_layout in np.unique(layout).tolist():
            members = np.flatnonzero(layout == group_layout) + start
            null_names = {name for bit, name in enumerate(nullable) if group_layout >> bit & 1}
            code_length = group_layout >> len(nullable)
            parts.append(
                _encode_group(batch, members, code_tables[code_length], pg_days, value_names, null_names)
            )
        yield b"".join(parts)
    yield COPY_TRAILER


def _encode_group(
    batch: KeyedBatch,
    members: np.ndarray,
    code_table: np.ndarray,
    pg_days: np.ndarray,
    value_names: list[str],
    null_names: set[str],
) -> bytes:
    values = [
        None if name in null_names else batch.values[name][members].astype(">f8") for name in value_names
    ]
    return fixed_width_tuples(
        [code_table[batch.code_index[members]], pg_days[members], *values], len(members)
    )


def fixed_width_tuples(fields: Sequence[np.ndarray | None], rows: int) -> bytes:
    """`rows` COPY tuples (without the stream's header and trailer) whose every field has one width. Field `i`
    of row `r` is the raw bytes of `fields[i][r]`, or of `fields[i][0]` when `fields[i]` has one row (the same
    value in every row), or NULL when `fields[i]` is None; a row's item may itself be an array (a packed block's
    values). The arrays carry PostgreSQL's binary format in their dtypes: `>i2`, `>i4` days since 2000-01-01,
    `>f8`, `S<n>` text, raw bytes."""
    layout: list[tuple[str, Any, tuple[int, ...]]] = [("count", ">i2", ())]
    for index, field in enumerate(fields):
        layout.append((f"length{index}", ">i4", ()))
        if field is None:
            continue
        if field.shape[0] not in (1, rows):
            raise ValueError(f"field {index} has {field.shape[0]} rows, not 1 or {rows}")
        layout.append((f"field{index}", field.dtype, field.shape[1:]))
    tuples = np.empty(rows, dtype=np.dtype(layout))
    tuples["count"] = len(fields)
    for index, field in enumerate(fields):
        if field is None:
            tuples[f"length{index}"] = -1
            continue
        tuples[f"length{index}"] = field.dtype.itemsize * int(np.prod(field.shape[1:], dtype=np.int64))
        tuples[f"field{index}"] = field
    data: bytes = tuples.tobytes()
    return data
