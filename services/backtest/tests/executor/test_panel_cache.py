"""The on-disk panel cache: a whole panel comes back (read-only maps, same dtypes), the key follows the data
version, universe, dates and fields, concurrent writers of one key are harmless, the size bound evicts the least
recently used entry."""

from __future__ import annotations

import os
import time
from dataclasses import fields, replace
from datetime import date

import numpy as np
import pytest

from services.backtest.tests.executor.runs import synthetic_panel
from zquant_backtest.adapters.panel_cache import PanelCache, panel_key
from zquant_backtest.application.panel_ports import PANEL_FIELDS
from zquant_backtest.application.run_ports import RunConfig

pytestmark = pytest.mark.unit

CODES = ("600000.SH", "000001.SZ")
PANEL = synthetic_panel(CODES, date(2024, 1, 2), 30)
CONFIG = RunConfig(start=date(2024, 1, 2), end=date(2024, 2, 9), initial_cash=1e6, codes=CODES)


def test_a_cached_panel_comes_back_whole_and_read_only(tmp_path) -> None:
    cache = PanelCache(tmp_path, 1 << 30)
    key = panel_key("v1", CONFIG, PANEL_FIELDS)
    assert cache.open(key) is None and not cache.contains(key)
    cache.put(key, PANEL)
    back = cache.open(key)
    assert back is not None and cache.contains(key) and back.codes == PANEL.codes
    for item in fields(PANEL):
        ours, theirs = getattr(back, item.name), getattr(PANEL, item.name)
        if isinstance(theirs, np.ndarray):
            assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs, equal_nan=True), item.name
    assert isinstance(back.close, np.memmap) and not back.close.flags.writeable
    assert back.days == PANEL.days and back.members is None
    assert [p.name for p in tmp_path.iterdir()] == [key]  # no staging left behind


def test_the_key_names_version_universe_dates_benchmark_and_fields() -> None:
    base = panel_key("v1", CONFIG, PANEL_FIELDS)
    others = [
        panel_key("v2", CONFIG, PANEL_FIELDS),
        panel_key("v1", replace(CONFIG, codes=CODES[:1]), PANEL_FIELDS),
        panel_key("v1", replace(CONFIG, end=date(2024, 2, 8)), PANEL_FIELDS),
        panel_key("v1", replace(CONFIG, benchmark="000300.SH"), PANEL_FIELDS),
        panel_key("v1", CONFIG, PANEL_FIELDS[:-1]),
    ]
    assert len({base, *others}) == 6
    assert panel_key("v1", replace(CONFIG, initial_cash=5.0, params={"a": 1}), PANEL_FIELDS) == base


def test_a_second_writer_of_the_same_key_keeps_the_first_entry(tmp_path) -> None:
    cache = PanelCache(tmp_path, 1 << 30)
    cache.put("k", PANEL)
    cache.put("k", PANEL)
    assert [p.name for p in tmp_path.iterdir()] == ["k"] and cache.open("k") is not None


def test_the_size_bound_evicts_the_least_recently_used(tmp_path) -> None:
    probe = PanelCache(tmp_path / "probe", 1 << 30)
    probe.put("one", PANEL)
    entry = probe.size()
    cache = PanelCache(tmp_path / "cache", 2 * entry)
    cache.put("a", PANEL)
    cache.put("b", PANEL)
    past = time.time() - 100
    os.utime(tmp_path / "cache" / "b" / "meta.json", (past, past))
    os.utime(tmp_path / "cache" / "a" / "meta.json", (past - 50, past - 50))
    assert cache.contains("a")  # a hit: "a" is now the most recent
    mapped = cache.open("b")
    cache.put("c", PANEL)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["a", "c"]
    assert cache.size() <= 2 * entry
    assert mapped is not None and float(mapped.close[-1, 0]) == float(
        PANEL.close[-1, 0]
    )  # maps outlive eviction
    small = PanelCache(tmp_path / "small", 1)
    small.put("only", PANEL)
    assert small.open("only") is not None  # the entry just written stays even above the bound
