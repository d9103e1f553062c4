"""Rows of one bar dataset as numpy columns: the one shape the read side, the panel and the
quality checks share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from zquant_marketdata.domain.panel import RunPart


@dataclass(frozen=True, slots=True)
class BarRows:
    """Rows as columns, in no particular order unless `sorted()`.

    ``codes`` is sorted and unique; ``code_index`` points into it per row; ``days`` is
    datetime64[D]; ``values`` holds float64 per column with NaN for NULL.
    """

    codes: list[str]
    code_index: np.ndarray
    days: np.ndarray
    values: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return int(self.code_index.size)

    def __len__(self) -> int:
        return self.size

    def code_of(self, row: int) -> str:
        return self.codes[int(self.code_index[row])]

    @staticmethod
    def empty(columns: Sequence[str]) -> BarRows:
        return BarRows(
            codes=[],
            code_index=np.empty(0, dtype=np.int64),
            days=np.empty(0, dtype="datetime64[D]"),
            values={name: np.empty(0) for name in columns},
        )

    @staticmethod
    def of_rows(codes: Sequence[str] | np.ndarray, days: Sequence[object] | np.ndarray,
                values: Mapping[str, Sequence[float] | np.ndarray]) -> BarRows:
        """From one code and one day per row (long format); values become float64."""
        unique, code_index = np.unique(np.asarray(codes, dtype=str), return_inverse=True)
        rows = BarRows(
            codes=[str(code) for code in unique],
            code_index=code_index.astype(np.int64).reshape(-1),
            days=np.asarray(days, dtype="datetime64[D]"),
            values={name: np.asarray(column, dtype=np.float64) for name, column in values.items()},
        )
        for name, column in rows.values.items():
            if len(column) != rows.size:
                raise ValueError(f"column {name!r} has {len(column)} values for {rows.size} rows")
        return rows

    def sorted(self) -> BarRows:
        """Ordered by ts_code, then trade_date."""
        order = np.lexsort((self.days, self.code_index))
        return BarRows(
            self.codes, self.code_index[order], self.days[order], {k: v[order] for k, v in self.values.items()}
        )


def reindex(codes: Sequence[str], target: Sequence[str]) -> np.ndarray:
    """Position in `target` of each of `codes` (-1 when absent)."""
    where = {code: position for position, code in enumerate(target)}
    return np.fromiter((where.get(code, -1) for code in codes), dtype=np.int64, count=len(codes))


def concat_rows(parts: Sequence[BarRows]) -> BarRows:
    """One `BarRows` of several (over the union of their codes); the columns of the first."""
    codes = sorted({code for part in parts for code in part.codes})
    return BarRows(
        codes=codes,
        code_index=np.concatenate(
            [reindex(part.codes, codes)[part.code_index] for part in parts if part.size] or [np.empty(0, np.int64)]
        ),
        days=np.concatenate([part.days for part in parts if part.size] or [np.empty(0, "datetime64[D]")]),
        values={
            name: np.concatenate([part.values[name] for part in parts if part.size] or [np.empty(0)])
            for name in parts[0].values
        },
    )


def rows_of_runs(parts: Sequence[RunPart], columns: Sequence[str]) -> BarRows:
    """`BarRows` (codes sorted) of run parts; a code may have runs in several parts."""
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
