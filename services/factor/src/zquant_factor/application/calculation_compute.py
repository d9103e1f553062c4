"""The CPU step of a calculation, run in a worker process: plain arrays and bytes in, plain arrays and bytes out.

Module-level functions of primitive arguments (a `UnitTask` is a tuple of them), so they pickle to
`zquant_kit.workers.WorkerProcesses` without any service object crossing the process boundary; the state travels
as the engine's `.npz` bytes. A chunk's bars and outputs cross through shared memory (`run_units` is called by
`zquant_kit.shared_arrays.run_shared` in the worker), not the pool's pipe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

from zquant_factor.domain.expressions.expression import CheckedExpression
from zquant_factor.domain.indicators.registry import CALCULATORS, calculator
from zquant_factor.domain.indicators.state import state_from_bytes, state_to_bytes

Arrays = dict[str, np.ndarray]

WARM_UP_SHAPE = (64, 4)
"""The tiny (dates × codes) panel `warm_up` runs every calculator over."""


class UnitTask(NamedTuple):
    """One unit of a chunk's batch: an expression's text, or a calculator's code, params and state; the inputs
    it reads; the columns it writes, from its `first` row (the rows before are warm-up, not sent back)."""

    expression: str
    model_code: str
    params: Mapping[str, object]
    inputs: tuple[str, ...]
    columns: tuple[str, ...]
    state: bytes | None
    first: int


def run_calculator(
    model_code: str, params: Mapping[str, object], bars: Mapping[str, np.ndarray], state: bytes | None
) -> tuple[Arrays, bytes]:
    """The calculator's outputs (dates × codes) over `bars`, continuing `state`, and its state after the last row."""
    result = calculator(model_code).run(bars, params, None if state is None else state_from_bytes(state))
    return dict(result.values), state_to_bytes(result.state)


def run_expression(text: str, bars: Mapping[str, np.ndarray]) -> np.ndarray:
    """The custom expression over `bars` (parsed again here: only its text crosses the process boundary)."""
    return np.asarray(CheckedExpression.parse(text).evaluate(bars), dtype=np.float64)


def run_units(bars: Mapping[str, np.ndarray], tasks: Sequence[UnitTask]) -> tuple[Arrays, list[bytes | None]]:
    """Every task over the same bars, in one call (`zquant_kit.shared_arrays.call_shared` maps them once for all):
    each task's columns from its `first` row, under `output_key(task's index, column)`, and each task's state
    (None for an expression)."""
    values: Arrays = {}
    states: list[bytes | None] = []
    for index, task in enumerate(tasks):
        inputs = {name: bars[name] for name in task.inputs}
        if task.expression:
            outputs: Mapping[str, np.ndarray] = {task.columns[0]: run_expression(task.expression, inputs)}
            state: bytes | None = None
        else:
            outputs, state = run_calculator(task.model_code, task.params, inputs, task.state)
        values.update({output_key(index, column): outputs[column][task.first :] for column in task.columns})
        states.append(state)
    return values, states


def output_key(index: int, column: str) -> str:
    """Where `run_units` puts the `index`th task's `column`: one flat dict of arrays for all the call's tasks."""
    return f"{index}:{column}"


def warm_up() -> None:
    """Runs every calculator once over a tiny panel, so a worker loads its compiled kernels as it starts, not
    during the first chunk of a job."""
    rows = np.linspace(10.0, 11.0, WARM_UP_SHAPE[0] * WARM_UP_SHAPE[1]).reshape(WARM_UP_SHAPE)
    spread = {"high": rows + 0.5, "low": rows - 0.5}
    for code, calc in CALCULATORS.items():
        run_calculator(code, {}, {name: spread.get(name, rows) for name in calc.inputs}, None)
