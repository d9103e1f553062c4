"""The CPU step of a calculation, run in a worker process: plain arrays and bytes in, plain arrays and bytes out.

Module-level functions of primitive arguments, so they pickle to `zquant_kit.workers.WorkerProcesses` without
any object of ours crossing the process boundary; the state travels as the engine's `.npz` bytes.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from zquant_factor.domain.expressions.expression import CheckedExpression
from zquant_factor.domain.indicators.registry import calculator
from zquant_factor.domain.indicators.state import state_from_bytes, state_to_bytes

Arrays = dict[str, np.ndarray]


def run_calculator(
    model_code: str, params: Mapping[str, object], bars: Mapping[str, np.ndarray], state: bytes | None
) -> tuple[Arrays, bytes]:
    """The calculator's outputs (dates × codes) over `bars`, continuing `state`, and its state after the last row."""
    result = calculator(model_code).run(bars, params, None if state is None else state_from_bytes(state))
    return dict(result.values), state_to_bytes(result.state)


def run_expression(text: str, bars: Mapping[str, np.ndarray]) -> np.ndarray:
    """The custom expression over `bars` (parsed again here: only its text crosses the process boundary)."""
    return np.asarray(CheckedExpression.parse(text).evaluate(bars), dtype=np.float64)
