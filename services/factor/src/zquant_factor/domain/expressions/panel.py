"""The array type expressions compute on: a float64 panel, dates down the rows, stocks across the columns."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Panel = npt.NDArray[np.float64]


def finite_or_nan(values: Panel) -> Panel:
    """`values` with every ±inf replaced by NaN, in place: a panel never carries an infinity."""
    values[np.isinf(values)] = np.nan
    return values
