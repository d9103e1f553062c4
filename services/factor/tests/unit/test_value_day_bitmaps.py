"""A block's dates as a bitmap of its year's days: any set of a year's days (leap days and 31 December
included) comes back as it went in, a date of another year is refused, two bitmaps unite."""

from __future__ import annotations

import numpy as np
import pytest

from zquant_factor.adapters.sqlalchemy.value_days import (
    BITMAP_BYTES,
    bitmap_days,
    days_bitmap,
    new_year_day,
    united_bitmaps,
)


@pytest.mark.parametrize("year", [2023, 2024])
def test_any_set_of_a_years_days_round_trips(year):
    length = 366 if year % 4 == 0 else 365
    rng = np.random.default_rng(year)
    for size in (0, 1, 5, 250, length):
        days = np.sort(rng.choice(length, size=size, replace=False)) + new_year_day(year)
        bitmap = days_bitmap(year, days)
        assert len(bitmap) == BITMAP_BYTES
        np.testing.assert_array_equal(bitmap_days(year, bitmap), days)
    last = np.array([new_year_day(year + 1) - 1])
    np.testing.assert_array_equal(bitmap_days(year, days_bitmap(year, last)), last)


def test_a_date_of_another_year_is_refused():
    with pytest.raises(ValueError, match="outside 2024"):
        days_bitmap(2024, np.array([new_year_day(2025)]))
    with pytest.raises(ValueError, match="outside 2024"):
        days_bitmap(2024, np.array([new_year_day(2024) - 1]))


def test_decoded_days_are_read_only_and_bitmaps_unite():
    first = np.arange(3) + new_year_day(2024)
    second = np.arange(200, 203) + new_year_day(2024)
    decoded = bitmap_days(2024, days_bitmap(2024, first))
    assert not decoded.flags.writeable
    united = united_bitmaps(days_bitmap(2024, first), days_bitmap(2024, second))
    np.testing.assert_array_equal(bitmap_days(2024, united), np.concatenate([first, second]))
