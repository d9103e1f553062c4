"""A numpy vector over the panel's codes that can also be indexed by code: ``bars.close["600000.SH"]``."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt


class ByCode(np.ndarray[Any, np.dtype[Any]]):
    """Behaves as the numpy array it wraps; a code string (or a list of them) picks columns by code."""

    columns: dict[str, int]

    def __new__(cls, values: npt.NDArray[Any], columns: dict[str, int]) -> ByCode:
        wrapped = np.asarray(values).view(cls)
        wrapped.columns = columns
        return wrapped

    def __array_finalize__(self, obj: npt.NDArray[Any] | None) -> None:
        self.columns = getattr(obj, "columns", {})

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            key = self._column(key)
        elif isinstance(key, list) and key and all(isinstance(k, str) for k in key):
            key = [self._column(k) for k in key]
        return super().__getitem__(key)

    def _column(self, code: str) -> int:
        if code not in self.columns:
            raise KeyError(f"{code} is not in the universe")
        return self.columns[code]
