"""The worker's side of a calculation: a chunk's units in one call, and the warm-up a worker runs as it starts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest

from services.factor.tests.unit.calculation.fakes import InlinePool
from services.factor.tests.unit.calculation.world import CalcWorld
from zquant_factor.application.calculation_compute import (
    UnitTask,
    output_key,
    run_calculator,
    run_expression,
    run_units,
    warm_up,
)
from zquant_factor.domain.indicators.state import state_from_bytes
from zquant_kit import shared_arrays
from zquant_kit.jobs import JobState

pytestmark = pytest.mark.unit


def _bars() -> dict[str, np.ndarray]:
    close = 10 + np.cumsum(np.random.default_rng(7).normal(0, 0.1, (60, 3)), axis=0)
    return {"close": close, "high": close + 0.2, "low": close - 0.2}


def test_run_units_equals_each_unit_alone_from_its_first_row() -> None:
    bars = _bars()
    macd = UnitTask("", "macd", {}, ("close",), ("dif", "dea", "macd"), None, 10)
    kdj = UnitTask("", "kdj", {}, ("high", "low", "close"), ("k", "d", "j"), None, 0)
    mom = UnitTask("close / ma(close, 5)", "", {}, ("close",), ("mom",), None, 30)

    values, (macd_state, kdj_state, mom_state) = run_units(bars, [macd, kdj, mom])

    alone, state = run_calculator("macd", {}, {"close": bars["close"]}, None)
    assert set(values) == {output_key(i, c) for i, task in enumerate([macd, kdj, mom]) for c in task.columns}
    for column in macd.columns:
        np.testing.assert_array_equal(values[output_key(0, column)], alone[column][10:])
    assert macd_state is not None and kdj_state is not None
    assert state_from_bytes(macd_state).keys() == state_from_bytes(state).keys()
    assert all(values[output_key(1, column)].shape == (60, 3) for column in kdj.columns)
    np.testing.assert_array_equal(values[output_key(2, "mom")], run_expression(mom.expression, bars)[30:])
    assert mom_state is None


def test_warm_up_runs_every_calculator() -> None:
    warm_up()


class FailingSecondChunk(InlinePool):
    """Computes inline, but fails the first attempt's second chunk (its one code): the two chunks copy their bars
    to shared memory in threads, so which of them calls first is not fixed."""

    def __init__(self) -> None:
        self.failed = False

    async def run(self, function: Callable[..., Any], *args: Any) -> Any:
        inputs: shared_arrays.SharedArrays = args[1]
        if inputs.slots[0].shape[1] == 1 and not self.failed:
            self.failed = True
            raise RuntimeError("worker lost")
        return await super().run(function, *args)


async def test_a_failed_chunk_ends_the_attempt_after_the_chunks_before_are_written() -> None:
    world = CalcWorld(pool=FailingSecondChunk())  # 4 banks in chunks of 3: two chunks, one call each
    clean = CalcWorld()
    macd = world.add_factor("macd", ("m-macd", "macd", {}))
    clean.add_factor("macd", ("m-macd", "macd", {}))

    record = await world.calculate([macd], "20230103", "20230630")
    expected = await clean.calculate([macd], "20230103", "20230630")

    # attempt 1: the first chunk's bulk write, then the failure (nothing of the failed chunk); the retry: both
    assert record.state is JobState.SUCCEEDED and world.values.writes == 1 + clean.values.writes == 3
    assert record.values_written == expected.values_written
    assert world.states.saved.keys() == clean.states.saved.keys()


async def test_a_chunks_bars_go_to_shared_memory_once_for_both_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    world = CalcWorld()  # 4 banks in chunks of 3; two units of one warm-up read the same bars, one call each
    written: list[tuple[str, set[str]]] = []
    write = shared_arrays.write

    def recorded(arrays: Mapping[str, np.ndarray], segment: str) -> shared_arrays.SharedArrays:
        written.append((segment, set(arrays)))
        return write(arrays, segment)

    monkeypatch.setattr(shared_arrays, "write", recorded)
    ids = [world.add_factor(name, (f"m-{name}", "macd", {})) for name in ("macd", "macd2")]

    record = await world.calculate(ids, "20230103", "20230630")

    assert record.state is JobState.SUCCEEDED
    bars = [segment for segment, names in written if names == {"close"}]
    assert len(bars) == 2 and len(written) == 2 * 3  # per chunk: the bars once, each call's outputs
    assert not [segment for segment, _ in written if (shared_arrays.SEGMENTS / segment).exists()]
