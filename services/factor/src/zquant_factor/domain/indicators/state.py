"""Resumable indicator state: named numpy arrays, one value (or window tail) per stock, never pickled.

A recursive indicator returns its state with its values; passing that state to the next chunk continues the
run exactly where it stopped. `state_to_bytes` / `state_from_bytes` store it as an `.npz` archive of plain
float64 arrays (`allow_pickle=False` on the way back), small enough to keep next to the stored values.
"""

from __future__ import annotations

import io
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from zquant_factor.domain.indicators.errors import InvalidIndicatorParameter

Panel = NDArray[np.float64]
State = dict[str, NDArray[np.float64]]


class Computed(NamedTuple):
    """An indicator's output panels by name, and the state to resume from after the last row."""

    values: dict[str, Panel]
    state: State


def state_to_bytes(state: State) -> bytes:
    out = io.BytesIO()
    np.savez(
        out, allow_pickle=False, **{name: np.asarray(arr, dtype=np.float64) for name, arr in state.items()}
    )
    return out.getvalue()


def state_from_bytes(data: bytes) -> State:
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        return {name: np.array(archive[name], dtype=np.float64) for name in archive.files}


def vector(state: State | None, name: str, cols: int) -> NDArray[np.float64]:
    """A writable copy of the per-stock vector `name` (NaN = nothing seen yet when starting afresh)."""
    if state is None:
        return np.full(cols, np.nan)
    arr = entry(state, name)
    if arr.shape != (cols,):
        raise InvalidIndicatorParameter(
            "state", f"'{name}' must hold one value per stock ({cols}), got {arr.shape}"
        )
    return np.array(arr, dtype=np.float64, copy=True)


def entry(state: State, name: str) -> NDArray[np.float64]:
    """The saved array `name`; a state missing it belongs to another indicator."""
    if name not in state:
        raise InvalidIndicatorParameter(
            "state", f"missing '{name}' (state of another indicator or parameters?)"
        )
    return state[name]


def tail(state: State | None, name: str, n: int, cols: int) -> NDArray[np.float64]:
    """A writable copy of the width-n window's saved tail `name`: each stock's last n − 1 valid values,
    (n − 1, stocks), oldest first, NaN-padded in front (all NaN when starting afresh)."""
    if state is None:
        return np.full((n - 1, cols), np.nan)
    saved = entry(state, name)
    if saved.shape != (n - 1, cols):
        raise InvalidIndicatorParameter("state", f"'{name}' must be ({n - 1} × {cols}), got {saved.shape}")
    return np.array(saved, dtype=np.float64, order="C", copy=True)


def computed(values: dict[str, Panel], state: State, *, like: NDArray[np.floating]) -> Computed:
    """The result, with 1-D outputs when the input was one stock's 1-D series."""
    if np.ndim(like) == 1:
        values = {name: panel.reshape(-1) for name, panel in values.items()}
    return Computed(values, state)
