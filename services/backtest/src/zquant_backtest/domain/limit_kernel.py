"""``limits.price_limits`` per code, compiled with numba: on a day's few ordered codes the numpy version is dominated
by the overhead of its ~30 array calls. Same arithmetic in the same order (integer cents × basis points, as
``limits.scaled_price``), no fastmath, so every limit is bit-identical to the numpy formula."""

from __future__ import annotations

import numba
import numpy as np

from zquant_backtest.domain.arrays import BoolArray, CodeArray, FloatArray, IntArray, kernel_input


@numba.njit("float64(float64, float64, float64)", cache=True)
def _scaled(pre_close: float, pct: float, sign: float) -> float:
    basis_points = np.int64(np.rint((1.0 + sign * pct) * 10_000.0))
    cents = (np.int64(np.rint(pre_close * 100.0)) * basis_points + 5_000) // 10_000
    return cents / 100.0


@numba.njit(
    "void(int8[:], float64[:], boolean[:], int64[:], float64[:], float64[:], float64[:], float64[:], int64[:],"
    " float64[:], float64[:], float64[:], float64[:])",
    cache=True,
)
def _limits(
    boards: CodeArray,
    pre_close: FloatArray,
    is_st: BoolArray,
    list_days: IntArray,
    given_up: FloatArray,
    given_down: FloatArray,
    limit_pct: FloatArray,
    st_limit_pct: FloatArray,
    no_limit_days: IntArray,
    first_day_up: FloatArray,
    first_day_down: FloatArray,
    up: FloatArray,
    down: FloatArray,
) -> None:
    for i in range(boards.size):
        board = boards[i]
        pct = st_limit_pct[board] if is_st[i] else limit_pct[board]
        no_limit = list_days[i] <= no_limit_days[board] or not np.isfinite(pct)
        first_day_cap = list_days[i] == 1 and np.isfinite(first_day_up[board]) and not no_limit
        if no_limit or not np.isfinite(pre_close[i]):
            up[i], down[i] = np.inf, 0.0
        else:
            up[i] = _scaled(pre_close[i], first_day_up[board] if first_day_cap else pct, 1.0)
            down[i] = _scaled(pre_close[i], first_day_down[board] if first_day_cap else pct, -1.0)
        if given_up.size and np.isfinite(given_up[i]):
            up[i] = given_up[i]
        if given_down.size and np.isfinite(given_down[i]):
            down[i] = given_down[i]


def compiled_limits(
    boards: CodeArray,
    pre_close: FloatArray,
    is_st: BoolArray,
    list_days: IntArray,
    given: tuple[FloatArray | None, FloatArray | None],
    board_rules: tuple[FloatArray, FloatArray, IntArray, FloatArray, FloatArray],
) -> tuple[FloatArray, FloatArray]:
    """(up, down) per code; ``given`` are the published limits (None: none), ``board_rules`` the day's per-board
    limit pct, ST limit pct, no-limit days, first-day up and first-day down."""
    n = np.shape(boards)[0]
    out = np.empty((2, n))
    none = np.zeros(0)
    limit_pct, st_limit_pct, no_limit_days, first_day_up, first_day_down = board_rules
    _limits(
        kernel_input(boards, np.int8),
        kernel_input(pre_close, np.float64),
        kernel_input(is_st, np.bool_),
        kernel_input(list_days, np.int64),
        none if given[0] is None else kernel_input(given[0], np.float64),
        none if given[1] is None else kernel_input(given[1], np.float64),
        kernel_input(limit_pct, np.float64),
        kernel_input(st_limit_pct, np.float64),
        kernel_input(no_limit_days, np.int64),
        kernel_input(first_day_up, np.float64),
        kernel_input(first_day_down, np.float64),
        out[0],
        out[1],
    )
    return out[0], out[1]
