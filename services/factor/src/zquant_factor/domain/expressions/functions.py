"""The registry of functions an expression may call: what each takes, how far back it looks, what computes it.

A name not in `FUNCTIONS` cannot be called. Time-series functions end with an integer constant (a lag or a
window, in bars of the stock: suspended days are skipped, not counted); the others take panels only. Windows and
the EMA are the indicator engine's kernels, so `ma(close, 20)` here is the MA indicator's number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from zquant_factor.domain.expressions import cross_section, elementwise, timeseries, windows
from zquant_factor.domain.expressions.panel import Panel
from zquant_factor.domain.indicators import recursions


class WindowKind(Enum):
    """LAG looks back n bars (adds n to the warm-up); WINDOW spans n bars including today (adds n − 1)."""

    NONE = "none"
    LAG = "lag"
    WINDOW = "window"


@dataclass(frozen=True, slots=True)
class Signature:
    """`params` names the panel arguments; a LAG or WINDOW function takes one integer `n` after them."""

    name: str
    params: tuple[str, ...]
    kernel: Callable[..., Panel]
    window: WindowKind = WindowKind.NONE
    min_window: int = 1
    recursive: bool = False
    family: str = "element-wise"

    @property
    def arity(self) -> int:
        return len(self.params) + (self.window is not WindowKind.NONE)

    @property
    def usage(self) -> str:
        names = list(self.params) + (["n"] if self.window is not WindowKind.NONE else [])
        return f"{self.name}({', '.join(names)})"

    def lookback_of(self, n: int | None) -> int:
        if n is None or self.window is WindowKind.NONE:
            return 0
        return n if self.window is WindowKind.LAG else n - 1


def _series(
    name: str,
    kernel: Callable[..., Panel],
    window: WindowKind,
    min_window: int = 1,
    params: tuple[str, ...] = ("x",),
    recursive: bool = False,
) -> Signature:
    return Signature(name, params, kernel, window, min_window, recursive, "time-series")


FUNCTIONS: dict[str, Signature] = {
    signature.name: signature
    for signature in (
        _series("ref", windows.lag, WindowKind.LAG),
        _series("delta", timeseries.delta, WindowKind.LAG),
        _series("ma", recursions.rolling_mean, WindowKind.WINDOW),
        _series("ema", recursions.ema, WindowKind.WINDOW, recursive=True),
        _series("std", timeseries.sample_std, WindowKind.WINDOW, min_window=2),
        _series("sum", recursions.rolling_sum, WindowKind.WINDOW),
        _series("max", recursions.rolling_max, WindowKind.WINDOW),
        _series("min", recursions.rolling_min, WindowKind.WINDOW),
        _series("ts_rank", windows.rolling_rank, WindowKind.WINDOW),
        _series("ts_corr", windows.rolling_corr, WindowKind.WINDOW, min_window=2, params=("x", "y")),
        Signature("rank", ("x",), cross_section.rank, family="cross-sectional"),
        Signature("zscore", ("x",), cross_section.zscore, family="cross-sectional"),
        Signature("demean", ("x",), cross_section.demean, family="cross-sectional"),
        Signature("abs", ("x",), elementwise.absolute),
        Signature("sign", ("x",), elementwise.sign),
        Signature("log", ("x",), elementwise.log),
        Signature("where", ("condition", "if_true", "if_false"), elementwise.where),
    )
}
