"""Shared arrays: the round trip of any plain array, and every segment released whatever becomes of the call."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from libs.kit.tests.unit.shared_array_calls import CALLS_MODULE, dying, failing, slow, twice, workers
from zquant_kit import shared_arrays
from zquant_kit.shared_arrays import SEGMENTS, attach, call_shared, published

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[4]


def _arrays() -> dict[str, np.ndarray]:
    wide = np.arange(60.0).reshape(6, 10)
    return {
        "float": np.linspace(0.0, 1.0, 7),
        "int": np.arange(24, dtype=np.int32).reshape(2, 3, 4),
        "flag": np.array([True, False, True]),
        "day": np.arange("2024-01-01", "2024-01-09", dtype="datetime64[D]"),
        "big_endian": np.arange(5, dtype=">f4"),
        "scalar": np.array(3.5),
        "none": np.empty((0,)),
        "no_codes": np.empty((4, 0)),
        "transposed": wide.T,
        "strided": wide[::2, 1::3],
    }


async def _inline(function: Callable[..., Any], *args: Any) -> Any:
    return function(*args)


@pytest.fixture
def reserved(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the segments reserved during the test."""
    names: list[str] = []
    reserve = shared_arrays.reserve

    def recorded() -> str:
        names.append(reserve())
        return names[-1]

    monkeypatch.setattr(shared_arrays, "reserve", recorded)
    return names


def _left(names: list[str]) -> list[str]:
    return [name for name in names if (SEGMENTS / name).exists()]


def test_every_plain_array_comes_back_equal_read_only_and_contiguous(reserved: list[str]) -> None:
    arrays = _arrays()
    with published(arrays) as shared:
        mapped = attach(shared)
    assert _left(reserved) == []  # released: the views keep the mapping, not the name
    assert mapped.keys() == arrays.keys()
    for name, array in arrays.items():
        assert mapped[name].dtype == array.dtype and mapped[name].shape == array.shape, name
        np.testing.assert_array_equal(mapped[name], array)
        assert mapped[name].flags.c_contiguous and not mapped[name].flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        mapped["float"][0] = 1.0


def test_writable_views_are_copies_on_write() -> None:
    with published({"close": np.ones(4)}) as shared:
        mine = attach(shared, writable=True)
        mine["close"][:] = 7.0
        assert attach(shared)["close"].tolist() == [1.0] * 4


def test_only_empty_arrays_take_no_mapping() -> None:
    arrays = {"none": np.empty((0, 3), dtype=np.int64), "also": np.empty(0)}
    with published(arrays) as shared:
        assert shared.size == 0
        mapped = attach(shared, writable=True)
    assert mapped["none"].shape == (0, 3) and mapped["none"].dtype == np.int64


def test_object_arrays_are_refused_and_their_segment_released(reserved: list[str]) -> None:
    with pytest.raises(TypeError, match="objects"), published({"names": np.array(["a", None])}):
        pass
    assert len(reserved) == 1 and _left(reserved) == []


async def test_a_call_maps_its_inputs_and_outputs_and_releases_its_output_segment(
    reserved: list[str],
) -> None:
    with published(_arrays()) as shared:
        outputs, rest = await call_shared(_inline, twice, shared, "inline")
    assert rest == f"inline: {sorted(_arrays())}"
    for name, array in _arrays().items():
        np.testing.assert_array_equal(outputs[f"{name}2"], np.stack([array, array]))
    assert outputs["float2"].flags.writeable
    assert len(reserved) == 2 and _left(reserved) == []


async def test_inputs_published_once_serve_concurrent_worker_calls(reserved: list[str]) -> None:
    pool = workers()
    try:
        with published({"close": np.arange(6.0)}) as shared:
            results = await asyncio.gather(*(call_shared(pool.run, twice, shared, str(i)) for i in range(3)))
    finally:
        await pool.close()
    assert [rest for _, rest in results] == ["0: ['close']", "1: ['close']", "2: ['close']"]
    assert all(outputs["close2"][1].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0] for outputs, _ in results)
    assert len(reserved) == 4 and _left(reserved) == []


async def test_a_raising_worker_call_releases_its_output_segment(reserved: list[str]) -> None:
    pool = workers()
    try:
        with published({"close": np.arange(3.0)}) as shared, pytest.raises(ValueError, match="close"):
            await call_shared(pool.run, failing, shared)
    finally:
        await pool.close()
    assert len(reserved) == 2 and _left(reserved) == []


async def test_a_cancelled_call_leaves_nothing_even_when_its_worker_finishes_later(
    reserved: list[str],
) -> None:
    pool = workers()
    try:
        with published({"close": np.arange(3.0)}) as shared:
            call = asyncio.ensure_future(call_shared(pool.run, slow, shared, 0.5))
            await asyncio.sleep(0.2)  # the worker is running it
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            assert _left(reserved) == [shared.segment]
            await call_shared(pool.run, twice, shared, "next")  # one worker: runs once the slow call ended
    finally:
        await pool.close()
    assert len(reserved) == 3 and _left(reserved) == []  # the late worker found its output name gone


async def test_a_dead_worker_leaves_no_segment(reserved: list[str]) -> None:
    pool = workers()
    try:
        with published({"close": np.arange(3.0)}) as shared, pytest.raises(BrokenProcessPool):
            await call_shared(pool.run, dying, shared)
    finally:
        await pool.close()
    assert len(reserved) == 2 and _left(reserved) == []


def test_the_resource_tracker_reports_no_leak_after_every_outcome() -> None:
    script = f"import asyncio; from {CALLS_MODULE} import every_outcome; asyncio.run(every_outcome())"
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert run.returncode == 0, run.stderr
    assert "leaked" not in run.stderr and "resource_tracker" not in run.stderr, run.stderr
