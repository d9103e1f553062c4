"""A job's factor units: read bars with warm-up, compute in the workers, write values in bulk, save the state an
incremental run resumes from. Units that read the same bars share the read (a daily update reads once) and the
compute calls (the bars cross to the workers once per chunk, through shared memory, not once per unit).

Full: every unit reads from `warmup_start(start)` (its origin) and writes [start, end]. Incremental: dates after
the last stored one. A resumable unit continues its saved recursions from the next day, reading no warm-up; a
stateless one re-reads from its saved origin and recomputes, writing only the new dates. Either way the values
equal those of one full run over the whole range (≤ 1e-9). A unit whose saved state does not continue the
stored values (missing, another last date, codes it does not cover) is run in full instead.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import numpy as np

from zquant_factor.application.calculation_compute import UnitTask, output_key, run_units
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
from zquant_kit import shared_arrays
from zquant_kit.tasks import all_or_cancel, raise_if_cancelled

CODES_PER_CHUNK = 1000
"""Codes read, computed and written together over ten years: bounds memory (~1000 × 2500 days × 5 fields × 8 B
= 100 MB; two chunks are in flight at once). A shorter read takes proportionally more codes at once (an
incremental day takes every code), so a daily update is one read, one compute call per worker and one write per
unit instead of one per thousand codes."""
CHUNK_SPAN_DAYS = 3653
"""The calendar span `codes_per_chunk` is sized for."""
WRITES_AT_ONCE = 2
"""Unit writes of a chunk in flight together, each its own transaction on its own connection: the database
ingests two bulk COPY streams on two of its cores instead of one (the write is the pipeline's longest phase)."""

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
        """Chunk by chunk: read, compute every member in the workers, write. Chunk k is written while chunk k+1
        computes (at most two chunks in flight, so memory stays bounded); each write is still one bulk
        transaction per unit and chunk, and chunks finish in order, so progress and states follow the codes."""
        inputs = tuple(sorted({name for run, _ in members for name in run.unit.inputs}))
        size = max(self._chunk, self._chunk * self._span // ((end - read_from).days + 1))
        chunks = [codes[i : i + size] for i in range(0, len(codes), size)]
        written, last = 0, None
        states: list[list[dict[str, np.ndarray]]] = [[] for _ in members]
        computing: deque[asyncio.Future[ComputedChunk]] = deque()
        try:
            for number, chunk in enumerate(chunks, start=1):
                raise_if_cancelled()
                bars = await self._market.panel(
                    chunk, read_from, end, inputs, Adjust.HFQ, await credentials.current()
                )
                if bars.dates.size == 0:
                    return 0
                computing.append(asyncio.ensure_future(self._compute(members, number, chunk, bars)))
                while len(computing) > 1 or (computing and number == len(chunks)):
                    computed = await computing.popleft()
                    written += await self._write(members, computed, states)
                    last = computed.dates[-1].astype(dt.date)
                    for run, _ in members:
                        await run.advance(computed.number / len(chunks))
        finally:
            for pending in computing:
                pending.cancel()
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
        self, members: list[tuple[UnitRun, RunWindow]], number: int, chunk: tuple[str, ...], bars: BarPanel
    ) -> ComputedChunk:
        """Every member over the chunk's bars, the members split over the workers: one call per worker, the bars
        in one shared-memory segment all of them map (copied there once, off the event loop)."""
        tasks = [_task(run.unit, window, chunk, bars) for run, window in members]
        batches = [
            list(range(i, len(tasks), self._pool.size)) for i in range(min(self._pool.size, len(tasks)))
        ]
        segment = shared_arrays.reserve()
        try:
            shared = await asyncio.to_thread(shared_arrays.write, bars.fields, segment)
            results = await all_or_cancel(
                [self._run_batch([tasks[i] for i in batch], shared) for batch in batches]
            )
        finally:
            shared_arrays.release(segment)
        outputs: list[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]] = [({}, {})] * len(tasks)
        for batch, batch_results in zip(batches, results, strict=True):
            for i, (values, state) in zip(batch, batch_results, strict=True):
                resumed = (
                    state_from_bytes(state) if members[i][0].unit.resumable and state is not None else {}
                )
                outputs[i] = values, resumed
        return ComputedChunk(number, chunk, bars.dates, [t.first for t in tasks], outputs)

    async def _run_batch(
        self, tasks: list[UnitTask], bars: shared_arrays.SharedArrays
    ) -> list[tuple[dict[str, np.ndarray], bytes | None]]:
        """The tasks in one worker call: its outputs come back through a segment of their own, mapped, not
        copied (the views keep it until the chunk is written)."""
        values, states = await shared_arrays.call_shared(self._pool.run, run_units, bars, tasks)
        return [
            ({column: values[output_key(index, column)] for column in task.columns}, state)
            for index, (task, state) in enumerate(zip(tasks, states, strict=True))
        ]

    async def _write(
        self,
        members: list[tuple[UnitRun, RunWindow]],
        computed: ComputedChunk,
        states: list[list[dict[str, np.ndarray]]],
    ) -> int:
        """The chunk's values of every member, one bulk write each (`WRITES_AT_ONCE` in flight, a failing one
        cancelling the others' transactions), and their states kept for the save."""
        slots = asyncio.Semaphore(WRITES_AT_ONCE)

        async def write(factor_id: str, first: int, values: dict[str, np.ndarray]) -> int:
            async with slots:
                return await self._values.write_columns(
                    factor_id, computed.codes, computed.dates[first:], values
                )

        counts = await all_or_cancel(
            [
                write(run.factor_id, first, values)
                for (run, _), first, (values, _) in zip(
                    members, computed.firsts, computed.outputs, strict=True
                )
                if first < computed.dates.size
            ]
        )
        for (_, state), unit_states in zip(computed.outputs, states, strict=True):
            unit_states.append(state)
        return sum(counts)


@dataclass(frozen=True, slots=True)
class ComputedChunk:
    """A chunk's outputs (from each member's first written row) and states, in member order."""

    number: int
    codes: tuple[str, ...]
    dates: np.ndarray
    firsts: list[int]
    outputs: list[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]


def _task(unit: Unit, window: RunWindow, chunk: tuple[str, ...], bars: BarPanel) -> UnitTask:
    saved = None if window.state is None else window.state.for_codes(chunk)
    return UnitTask(
        expression=unit.expression,
        model_code=unit.model_code,
        params=unit.params,
        inputs=unit.inputs,
        columns=unit.columns,
        state=None if unit.expression or saved is None else state_to_bytes(saved),
        first=int(np.searchsorted(bars.dates, np.datetime64(window.write_from, "D"))),
    )
