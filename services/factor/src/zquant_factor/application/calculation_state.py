"""The saved state of one (factor, model) run: the codes it covers, its origin, the recursions' arrays.

A resumable calculator continues from `arrays` (one column per code, along the last axis). A stateless
computation (window calculators, custom expressions) instead recomputes from `origin`, the first day the full
run read, so its incremental result is the full one by construction. Stored as an `.npz` of plain arrays
(codes as fixed-width unicode), read back with `allow_pickle=False`.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zquant_factor.domain.indicators.state import State

_PREFIX = "state__"


@dataclass(frozen=True, slots=True)
class SavedState:
    codes: tuple[str, ...]
    origin: dt.date
    arrays: State

    def covers(self, codes: Sequence[str]) -> bool:
        return set(codes) <= set(self.codes)

    def for_codes(self, codes: Sequence[str]) -> State | None:
        """The arrays of `codes` in that order (None for a stateless computation)."""
        if not self.arrays:
            return None
        position = {code: i for i, code in enumerate(self.codes)}
        index = np.array([position[code] for code in codes], dtype=np.int64)
        return {name: np.ascontiguousarray(arr[..., index]) for name, arr in self.arrays.items()}


def merged(parts: Sequence[State]) -> State:
    """The states of consecutive code chunks as one, columns in chunk order."""
    if not parts or not parts[0]:
        return {}
    return {name: np.concatenate([part[name] for part in parts], axis=-1) for name in parts[0]}


def encode_state(saved: SavedState) -> bytes:
    out = io.BytesIO()
    arrays = {f"{_PREFIX}{name}": np.asarray(arr, dtype=np.float64) for name, arr in saved.arrays.items()}
    np.savez(
        out,
        allow_pickle=False,
        codes=np.array(saved.codes, dtype="U16"),
        origin=np.array([saved.origin.toordinal()], dtype=np.int64),
        **arrays,
    )
    return out.getvalue()


def decode_state(data: bytes) -> SavedState:
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        codes = tuple(str(code) for code in archive["codes"])
        origin = dt.date.fromordinal(int(archive["origin"][0]))
        arrays = {
            name.removeprefix(_PREFIX): np.array(archive[name], dtype=np.float64)
            for name in archive.files
            if name.startswith(_PREFIX)
        }
    return SavedState(codes, origin, arrays)
