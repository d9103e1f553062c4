"""value_blocks' dates as a bitmap of the year's days (46 bytes) instead of int32 day numbers (~1000 bytes)

Every stored block is rewritten in place, a batch of keys at a time; a downgrade writes the day numbers back.
The journal's entries keep their int32 dates. The codec is this revision's own (`value_days` is the store's),
so this history stays right whatever later revisions do to the format.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import datetime as dt
from collections.abc import Callable

import numpy as np
from sqlalchemy import Connection, bindparam, select, tuple_, update

from zquant_factor.adapters.sqlalchemy import value_tables
from zquant_kit.persistence.migrations import service_bind

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_DAYS = np.dtype("<i4")
_BITMAP_BYTES = 46
_BATCH = 5000


def _new_year_day(year: int) -> int:
    return (dt.date(year, 1, 1) - dt.date(1970, 1, 1)).days


def _bitmap(year: int, trade_days: bytes) -> bytes:
    bits = np.zeros(_BITMAP_BYTES * 8, dtype=np.uint8)
    bits[np.frombuffer(trade_days, dtype=_DAYS).astype(np.int64) - _new_year_day(year)] = 1
    return np.packbits(bits, bitorder="little").tobytes()


def _day_numbers(year: int, bitmap: bytes) -> bytes:
    bits = np.unpackbits(np.frombuffer(bitmap, dtype=np.uint8), bitorder="little")
    return (np.flatnonzero(bits) + _new_year_day(year)).astype(_DAYS).tobytes()


def _rewrite(bind: Connection, convert: Callable[[int, bytes], bytes]) -> None:
    """Every block's dates through `convert(year, trade_days)`, in primary-key order, `_BATCH` blocks a statement."""
    blocks = value_tables.value_blocks
    c = blocks.c
    primary = (c.factor_id, c.column_name, c.year, c.ts_code)
    statement = (
        update(blocks)
        .where(*(column == bindparam(f"key_{column.name}") for column in primary))
        .values(trade_days=bindparam("new_days"))
    )
    after: tuple[object, ...] | None = None
    while True:
        query = select(*primary, c.trade_days).order_by(*primary).limit(_BATCH)
        if after is not None:
            query = query.where(tuple_(*primary) > tuple_(*after))
        rows = bind.execute(query).all()
        if not rows:
            return
        bind.execute(
            statement,
            [
                {
                    "key_factor_id": f,
                    "key_column_name": n,
                    "key_year": y,
                    "key_ts_code": t,
                    "new_days": convert(y, d),
                }
                for f, n, y, t, d in rows
            ],
        )
        after = tuple(rows[-1][:4])


def upgrade() -> None:
    _rewrite(service_bind([value_tables.value_blocks]), _bitmap)


def downgrade() -> None:
    _rewrite(service_bind([value_tables.value_blocks]), _day_numbers)
