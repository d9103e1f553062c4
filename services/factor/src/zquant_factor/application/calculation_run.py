"""A job's factor units: read bars with warm-up, compute in a worker, write values in bulk, save the state an
incremental run resumes from. Units that read the same bars share the read (a daily update reads once).

Full: every unit reads from `warmup_start(start)` (its origin) and writes [start, end]. Incremental: dates after
the last stored one. A resumable unit continues its saved recursions from the next day, reading no warm-up; a
stateless one re-reads from its saved origin and recomputes, writing only the new dates. Either way the values
equal those of one full run over the whole range (≤ 1e-9). A unit whose saved state does not continue the
stored values (missing, another last date, codes it does not cover) is run in full instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import numpy as np

from zquant_factor.application.calculation_compute import run_calculator, run_expression
from zquant_factor.application.calculation_credentials import CredentialSource
from zquant_factor.application.calculation_plan import Unit
from zquant_factor.application.calculation_ports import ComputePool, RunMode
from zquant_factor.application.calculation_state import SavedState, decode_state, encode_state, merged
from zquant_factor.application.market_ports import (
    Adjust,
    BarPanel,
    Credentials,
    MarketDataReader,
    warmup_start,
)
from zquant_factor.application.value_ports import FactorValueStore, IndicatorStateStore
from zquant_factor.domain.indicators.state import state_from_bytes, state_to_bytes
from zquant_kit.tasks import raise_if_cancelled

CODES_PER_CHUNK = 1000
"""Codes read, computed and written together over ten years: bounds memory (~1000 × 2500 days × 5 fields × 8 B
= 100 MB). A shorter read takes proportionally more codes at once (an incremental day takes every code), so a
daily update is one read, one compute and one write per unit instead of one per thousand codes."""
CHUNK_SPAN_DAYS = 3653
"""The calendar span `codes_per_chunk` is sized for."""

Advance = Callable[[float], Awaitable[None]]
"""Reports the fraction in [0, 1] of the current unit done."""


@dataclass(frozen=True, slots=True)
class RunWindow:
    """Where a unit reads from, what it writes, and what it continues."""

    read_from: dt.date
    write_from: dt.date
    origin: dt.date
    state: SavedState | None


@dataclass(frozen=True, slots=True)
class UnitRun:
    """One unit of a job and the callback reporting its progress."""

    factor_id: str
    unit: Unit
    advance: Advance


class FactorCalculation:
    def __init__(
        self,
        market: MarketDataReader,
        values: FactorValueStore,
        states: IndicatorStateStore,
        pool: ComputePool,
        codes_per_chunk: int = CODES_PER_CHUNK,
        chunk_span_days: int = CHUNK_SPAN_DAYS,
    ) -> None:
        self._market = market
        self._values = values
        self._states = states
        self._pool = pool
        self._chunk = max(1, codes_per_chunk)
        self._span = max(1, chunk_span_days)

    async def run_units(
        self,
        runs: Sequence[UnitRun],
        mode: RunMode,
        span: tuple[dt.date, dt.date],
        credentials: CredentialSource,
    ) -> int:
        """Values written for these units (0 for one already up to date). Every window is settled before
        anything is written, then units reading the same bars (same codes from the same first day: every
        resumed unit of a daily update) share one panel read per chunk, of their inputs' union."""
        end = span[1]
        groups: dict[tuple[tuple[str, ...], dt.date], list[tuple[UnitRun, RunWindow]]] = {}
        for run in runs:
            window = await self._window(run.factor_id, run.unit, mode, span, await credentials.current())
            if window is not None and window.write_from <= end:
                groups.setdefault((run.unit.codes, window.read_from), []).append((run, window))
        written = 0
        for (codes, read_from), members in groups.items():
            written += await self._run_group(codes, read_from, end, members, credentials)
        return written

    async def _run_group(
        self,
        codes: tuple[str, ...],
        read_from: dt.date,
        end: dt.date,
        members: list[tuple[UnitRun, RunWindow]],
        credentials: CredentialSource,
    ) -> int:
        inputs = tuple(sorted({name for run, _ in members for name in run.unit.inputs}))
        size = max(self._chunk, self._chunk * self._span // ((end - read_from).days + 1))
        chunks = [codes[i : i + size] for i in range(0, len(codes), size)]
        written, last = 0, None
        states: list[list[dict[str, np.ndarray]]] = [[] for _ in members]
        for done, chunk in enumerate(chunks, start=1):
            raise_if_cancelled()
            bars = await self._market.panel(chunk, read_from, end, inputs, Adjust.HFQ, await credentials.current())
            if bars.dates.size == 0:
                return 0
            for (run, window), unit_states in zip(members, states, strict=True):
                saved = None if window.state is None else window.state.for_codes(chunk)
                outputs, state = await self._compute(run.unit, bars, saved)
                written += await self._write(run.factor_id, run.unit, chunk, bars, outputs, window.write_from)
                unit_states.append(state)
            last = bars.dates[-1].astype(dt.date)
            for run, _ in members:
                await run.advance(done / len(chunks))
        assert last is not None
        for (run, window), unit_states in zip(members, states, strict=True):
            saved_state = SavedState(run.unit.codes, window.origin, merged(unit_states))
            await self._states.save(run.factor_id, run.unit.state_key, last, encode_state(saved_state))
        return written

    async def _window(
        self,
        factor_id: str,
        unit: Unit,
        mode: RunMode,
        span: tuple[dt.date, dt.date],
        credentials: Credentials,
    ) -> RunWindow | None:
        start, _ = span
        if mode is RunMode.INCREMENTAL:
            resumed = await self._resumed(factor_id, unit)
            if resumed is not None:
                return resumed
        origin = await warmup_start(self._market, start, unit.warmup, credentials)
        return RunWindow(read_from=origin, write_from=start, origin=origin, state=None)

    async def _resumed(self, factor_id: str, unit: Unit) -> RunWindow | None:
        last_stored = await self._values.last_date(factor_id, unit.columns[0])
        loaded = await self._states.load(factor_id, unit.state_key)
        if last_stored is None or loaded is None:
            return None
        as_of, data = loaded
        saved = decode_state(data)
        if as_of != last_stored or not saved.covers(unit.codes) or unit.resumable != bool(saved.arrays):
            return None
        next_day = last_stored + dt.timedelta(days=1)
        read_from = next_day if unit.resumable else saved.origin
        return RunWindow(read_from=read_from, write_from=next_day, origin=saved.origin, state=saved)

    async def _compute(
        self, unit: Unit, bars: BarPanel, state: dict[str, np.ndarray] | None
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        inputs = {name: bars.fields[name] for name in unit.inputs}
        if unit.expression:
            value = await self._pool.run(run_expression, unit.expression, inputs)
            return {unit.columns[0]: value}, {}
        state_bytes = None if state is None else state_to_bytes(state)
        outputs, new_state = await self._pool.run(
            run_calculator, unit.model_code, unit.params, inputs, state_bytes
        )
        return outputs, state_from_bytes(new_state) if unit.resumable else {}

    async def _write(
        self,
        factor_id: str,
        unit: Unit,
        codes: Sequence[str],
        bars: BarPanel,
        outputs: dict[str, np.ndarray],
        write_from: dt.date,
    ) -> int:
        first = int(np.searchsorted(bars.dates, np.datetime64(write_from, "D")))
        if first >= bars.dates.size:
            return 0
        panels = {column: outputs[column][first:] for column in unit.columns}
        return await self._values.write_columns(factor_id, codes, bars.dates[first:], panels)
