"""The vectorised API user code sees: `targets(context)` is called once and returns dates x codes weights.

`context.close` and `context.factor(name)` are DataFrames (dates x codes) of everything the run covers.
A factor's row t was computed from data up to t; the engine fills row t's weights at t + 1's bar.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


class TargetsContext:
    """What `targets(context)` receives; users may hang their own attributes on it."""

    def __init__(self, codes: list[str], dates: list[str], params: dict[str, Any], factors: list[str],
                 block: np.ndarray) -> None:
        self.universe = list(codes)
        self.params = dict(params)
        self.dates = pd.DatetimeIndex(pd.to_datetime(dates), name="date")
        columns = pd.Index(codes, name="code")
        self.close = pd.DataFrame(block[0], index=self.dates, columns=columns)
        self._factors = {name: pd.DataFrame(block[1 + k], index=self.dates, columns=columns)
                         for k, name in enumerate(factors)}

    def factor(self, name: str) -> pd.DataFrame:
        """A factor declared in FACTORS, dates x codes (NaN where missing)."""
        if name not in self._factors:
            raise KeyError(f"factor '{name}' is not declared in FACTORS (declared: {', '.join(self._factors)})")
        return self._factors[name]


def weights_of(result: Any, shape: tuple[int, int]) -> bytes:
    """targets()'s result as raw little-endian float64 (the parent validates the values)."""
    values = np.asarray(result.to_numpy() if isinstance(result, pd.DataFrame) else result, dtype="<f8")
    if values.shape != shape:
        raise ValueError(f"targets() returned shape {values.shape}, expected {shape} (dates x codes)")
    return np.ascontiguousarray(values).tobytes()


def user_globals() -> dict[str, Any]:
    """The names a vectorised strategy module starts with."""
    return {"np": np, "pd": pd}
