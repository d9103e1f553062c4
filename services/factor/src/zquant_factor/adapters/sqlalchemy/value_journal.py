"""The append journal of the PostgreSQL value store, without I/O: why it exists, and its entries' codec.

A daily update appends one date to every series of a column: 5000 codes × 13 columns = 65,000 (code, year)
blocks. PostgreSQL cannot append in place, so concatenating a day onto each block rewrites each whole row
(measured ~2.5-4 s for 65,000 blocks of a year, ~1.2 s even for 60-byte rows). A short write (at most
`JOURNAL_MAX_DATES` dates) whose dates all follow the column's newest stored date is instead stored as one
*entry* per column: the codes × dates panel packed (codes, int32 days, float64 values, codes-major)
in one row, one COPY of 13 rows for the day. Entries only ever follow the blocks and each other, so a read
takes the blocks and then the entries' slices of its codes, never two values for one (code, date).

After `fold_at` entries (16 to 31, spread by a hash of the column so columns made together do not all fold on
one day), or before any other write to the column, the entries are folded into the per-(code, year) blocks:
each becomes its blocks (`value_blocks.panel_blocks`), consecutive ones of a key concatenated, written by the
blocks' own append path. A fold so costs one block rewrite per series every 16-31 days instead of every day.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from zquant_factor.adapters.sqlalchemy.value_blocks import (
    VALUE_TYPE,
    BlockKey,
    PackedBlock,
    PanelWrite,
    SeriesPiece,
    key,
    panel_blocks,
)

DAY_TYPE = np.dtype("<i4")
"""An entry's dates: int32 little-endian days since 1970-01-01 (an entry may cross a year's end)."""

JOURNAL_MAX_DATES = 5
"""A write of more dates goes to the blocks: the journal is for daily updates and short catch-ups."""
FOLD_AFTER = 16
FOLD_SPREAD = 16


def fold_at(factor_id: str, column: str) -> int:
    """How many entries a column's journal holds before it is folded."""
    return FOLD_AFTER + zlib.crc32(f"{factor_id}:{column}".encode()) % FOLD_SPREAD


@dataclass(frozen=True, slots=True)
class JournalEntry:
    column: str
    codes: tuple[str, ...]
    trade_days: bytes
    packed_values: bytes
    """float64 little-endian, codes × dates (a code's dates contiguous)."""

    @classmethod
    def of(cls, column: str, ts_codes: bytes, trade_days: bytes, packed_values: bytes) -> JournalEntry:
        return cls(column, entry_codes(ts_codes), bytes(trade_days), bytes(packed_values))

    def values(self) -> np.ndarray:
        return np.frombuffer(self.packed_values, dtype=VALUE_TYPE).reshape(len(self.codes), -1)

    def days(self) -> np.ndarray:
        return np.frombuffer(self.trade_days, dtype=DAY_TYPE).astype("datetime64[D]")

    def pieces(self, wanted: Iterable[str]) -> list[SeriesPiece]:
        """The entry's values of the `wanted` codes it holds."""
        position = {code: index for index, code in enumerate(self.codes)}
        values, days = self.values(), self.days().astype(np.int64)
        return [(code, days, values[position[code]]) for code in wanted if code in position]


def entry_codes(ts_codes: bytes) -> tuple[str, ...]:
    """An entry's codes, stored newline-separated."""
    return tuple(bytes(ts_codes).decode().split("\n"))


def journal_rows(factor_id: str, write: PanelWrite) -> list[tuple[object, ...]]:
    """One `value_journal` row per column (columns in table order) of a write."""
    first, last = (write.days[0].item(), write.days[-1].item())
    ts_codes = "\n".join(write.codes).encode()
    trade_days = write.days.astype(np.int64).astype(DAY_TYPE).tobytes()
    return [
        (
            factor_id,
            column,
            first,
            last,
            ts_codes,
            trade_days,
            np.ascontiguousarray(panel.T, VALUE_TYPE).tobytes(),
        )
        for column, panel in write.panels.items()
    ]


def entry_blocks(entries: Iterable[JournalEntry]) -> list[PackedBlock]:
    """The entries (in date order) as per-(column, year, code) blocks, an entry's block appended to the
    previous entry's of the same key. Consecutive entries of the same codes (the daily case) are packed as one
    panel: one block per key built once instead of once per entry."""
    found: dict[BlockKey, PackedBlock] = {}
    for column, codes, days, values in _runs(entries):
        for block in panel_blocks(column, codes, days, values.T):
            before = found.get(key(block))
            found[key(block)] = block if before is None else before.followed_by(block)
    return list(found.values())


def _runs(entries: Iterable[JournalEntry]) -> Iterator[tuple[str, tuple[str, ...], np.ndarray, np.ndarray]]:
    """(column, codes, days, values codes × dates) of each run of consecutive entries sharing column and codes."""
    for (column, codes), run in itertools.groupby(entries, key=lambda entry: (entry.column, entry.codes)):
        parts = list(run)
        days = np.concatenate([entry.days() for entry in parts])
        yield column, codes, days, np.hstack([entry.values() for entry in parts])
