"""The numpy array types the domain passes around, one slot per code (or per day)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
CodeArray = npt.NDArray[np.int8]
"""``Board`` or ``Exchange`` values per code."""
DateArray = npt.NDArray[np.datetime64]


def zero_nan(values: FloatArray) -> FloatArray:
    """NaN → 0, leaving every other value as it is (``np.nan_to_num`` is several times slower on hot paths)."""
    cleaned: FloatArray = np.where(np.isnan(values), 0.0, values)
    return cleaned


def kernel_input(values: npt.ArrayLike, dtype: type[np.generic]) -> npt.NDArray[Any]:
    """A contiguous, writable array of ``dtype``, as the compiled kernels' signatures take (the panel's rows are
    read-only; those are copied, anything else passes through uncopied when it already fits)."""
    array: npt.NDArray[Any] = np.ascontiguousarray(values, dtype=dtype)
    return array if array.flags.writeable else array.copy()
