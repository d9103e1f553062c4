"""Which board and exchange a ts_code trades on; the rules table is keyed by board."""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum

import numpy as np

from zquant_backtest.domain.arrays import CodeArray


class Board(IntEnum):
    """Listing boards whose trading rules differ (price limits, lots, new-listing days)."""

    MAIN = 0  # SSE main board and SZSE main board (002 former SME board merged into it on 2021-04-06)
    CHINEXT = 1  # SZSE 创业板
    STAR = 2  # SSE 科创板
    BSE = 3  # 北京证券交易所


class Exchange(IntEnum):
    SSE = 0
    SZSE = 1
    BSE = 2


_SH_MAIN = ("600", "601", "603", "605")
_SZ_MAIN = ("000", "001", "002", "003")
_CHINEXT = ("300", "301")
_STAR = ("688", "689")


def board_of(ts_code: str) -> Board:
    """Board from the code's prefix and suffix, e.g. ``688001.SH`` -> STAR; unknown codes raise ``ValueError``."""
    symbol, _, suffix = ts_code.upper().partition(".")
    if suffix == "SH" and symbol.startswith(_SH_MAIN):
        return Board.MAIN
    if suffix == "SH" and symbol.startswith(_STAR):
        return Board.STAR
    if suffix == "SZ" and symbol.startswith(_SZ_MAIN):
        return Board.MAIN
    if suffix == "SZ" and symbol.startswith(_CHINEXT):
        return Board.CHINEXT
    if suffix == "BJ" and (symbol.startswith(("4", "8")) or symbol.startswith("920")):
        return Board.BSE
    raise ValueError(f"not an A-share stock code: {ts_code!r}")


def exchange_of(ts_code: str) -> Exchange:
    suffix = ts_code.upper().partition(".")[2]
    return {"SH": Exchange.SSE, "SZ": Exchange.SZSE, "BJ": Exchange.BSE}[suffix]


def boards_of(codes: Sequence[str]) -> CodeArray:
    """Vector of ``Board`` values, one per code, for the fill kernel."""
    return np.array([board_of(code) for code in codes], dtype=np.int8)


def exchanges_of(codes: Sequence[str]) -> CodeArray:
    return np.array([exchange_of(code) for code in codes], dtype=np.int8)
