"""Block groups into PostgreSQL by one binary COPY, each group's tuples encoded with numpy at once
(`zquant_kit.persistence.blocks.copy_encode.fixed_width_tuples`): a full calculation inserts hundreds of
thousands of blocks, which one Python row object each would make the client's CPU, not the server, the bound."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import psycopg

from zquant_factor.adapters.sqlalchemy.value_blocks import BlockGroup
from zquant_factor.adapters.sqlalchemy.value_tables import BLOCK_COLUMNS
from zquant_kit.persistence.blocks.copy_encode import COPY_HEADER, COPY_TRAILER, fixed_width_tuples
from zquant_kit.persistence.blocks.pg_binary import UNIX_DAYS_AT_PG_EPOCH


def _text(value: str) -> np.ndarray:
    encoded = value.encode()
    return np.array([encoded], dtype=f"S{len(encoded)}")


def group_tuples(factor_id: str, group: BlockGroup) -> Iterator[bytes]:
    """The group's `value_blocks` tuples, in `BLOCK_COLUMNS` order: one encoding per length of ts_code
    (a fixed-width field needs one length; A-share codes all have the same)."""
    encoded = [code.encode() for code in group.codes]
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    last_date = np.array([group.days[-1] - UNIX_DAYS_AT_PG_EPOCH], dtype=">i4")
    days = np.frombuffer(group.trade_days, dtype=np.uint8)[np.newaxis]
    constant = [_text(factor_id), _text(group.column), np.array([group.year], dtype=">i2")]
    for length in np.unique(lengths).tolist():
        members = np.flatnonzero(lengths == length)
        codes = np.array([encoded[i] for i in members.tolist()], dtype=f"S{length}")
        values = group.values if members.size == len(encoded) else group.values[members]
        yield fixed_width_tuples([*constant, codes, last_date, days, values], members.size)


async def copy_groups(
    raw: psycopg.AsyncConnection, target: str, factor_id: str, groups: list[BlockGroup]
) -> None:
    """The groups' blocks into `target` (a `value_blocks`-shaped table) in one COPY."""
    async with raw.cursor().copy(
        f"COPY {target} ({', '.join(BLOCK_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
    ) as copy:
        await copy.write(COPY_HEADER)
        for group in groups:
            for part in group_tuples(factor_id, group):
                await copy.write(part)
        await copy.write(COPY_TRAILER)
