"""The rule-field grids of GetPanel and the completion record of a run, on hand-built cases."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from zquant_marketdata.domain import panel_rules as rules
from zquant_marketdata.domain.rule_datasets import is_st_name
from zquant_marketdata.domain.sync import RunState, completed_of

pytestmark = pytest.mark.unit

D = dt.date
AXIS = np.array(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"], dtype="datetime64[D]")
LIVES = [(D(2024, 1, 3), None), (None, D(2024, 1, 5)), (D(2023, 12, 28), None)]
CALENDAR = np.array(["2023-12-28", "2023-12-29", *AXIS.astype(str)], dtype="datetime64[D]")


def test_st_names() -> None:
    assert all(map(is_st_name, ["ST平安", "*ST海润", "S*ST长岭", "SST华新", " st康美"]))
    assert not any(map(is_st_name, ["平安银行", "万科A", "国药一致"]))


def test_listed_mask_and_list_days() -> None:
    listed = rules.listed_mask(AXIS, LIVES)
    assert listed.tolist() == [[False, True, True, True, True], [True, True, True, False, False], [True] * 5]
    counts = rules.list_days(AXIS, LIVES, CALENDAR)
    assert np.isnan(counts[0, 0]) and counts[0, 1:].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert np.isnan(counts[1]).all()  # list_date unknown
    assert counts[2].tolist() == [3.0, 4.0, 5.0, 6.0, 7.0]  # 12-28, 12-29, then the axis


def test_st_and_suspension_flags() -> None:
    codes = ["A", "B", "C"]
    spans = [("A", D(2024, 1, 4), D(2024, 1, 5), "ST甲"), ("A", D(2024, 1, 6), None, "甲"), ("C", D(2024, 1, 8), None, "*ST丙")]
    listed = rules.listed_mask(AXIS, LIVES)
    st = rules.as_flags(rules.st_marks(AXIS, codes, spans), listed)
    assert np.isnan(st[0, 0]) and st[0, 1:].tolist() == [0.0, 1.0, 1.0, 0.0]
    assert st[2].tolist() == [0.0, 0.0, 0.0, 0.0, 1.0]
    bars = np.ones((3, 5))
    bars[2, 1] = np.nan  # no bar on an open day
    suspended = rules.as_flags(rules.suspended_marks(AXIS, codes, [("B", D(2024, 1, 3)), ("Z", D(2024, 1, 3))], bars), listed)
    assert suspended[1, :3].tolist() == [0.0, 1.0, 0.0] and np.isnan(suspended[1, 3:]).all()
    assert suspended[2].tolist() == [0.0, 1.0, 0.0, 0.0, 0.0]


def test_completion_record_of_a_run() -> None:
    written = {"dividend": (D(2024, 1, 2), D(2024, 1, 8)), "stk_limit": (D(2023, 12, 1), D(2024, 1, 5))}
    done = completed_of("r1", RunState.SUCCEEDED, written)
    assert done is not None and done.datasets == ("stk_limit", "dividend")
    assert (done.start, done.end) == (D(2023, 12, 1), D(2024, 1, 8))
    assert completed_of("r2", RunState.FAILED, {}) is None  # nothing written: nothing to announce
    nothing = completed_of("r3", RunState.SUCCEEDED, {})
    assert nothing is not None and nothing.datasets == () and nothing.start is None
