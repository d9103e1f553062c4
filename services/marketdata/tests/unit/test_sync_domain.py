"""Sync request validation, windows, batching and per-date statistics."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from zquant_kit.errors import InvalidArgument
from zquant_marketdata.application.sync_statistics import per_date_statistics
from zquant_marketdata.domain.sync import DATASETS, SyncMode, SyncRequest, batches, date_windows, window_for

pytestmark = pytest.mark.unit

D = dt.date


def test_request_defaults_to_every_dataset_in_processing_order() -> None:
    request = SyncRequest.parse([], SyncMode.FULL, "", "")
    assert request.datasets == DATASETS
    assert SyncRequest.parse(["daily", "stock_basic", "daily"], SyncMode.FULL, "", "").datasets == ("stock_basic", "daily")


@pytest.mark.parametrize(
    ("datasets", "start", "end", "field"),
    [
        (["dialy"], "", "", "datasets"),
        ([], "2023-01-01", "", "start_date"),
        ([], "20230231", "", "start_date"),
        ([], "", "2023", "end_date"),
        ([], "20230301", "20230201", "start_date"),
    ],
)
def test_bad_requests_name_the_field(datasets, start, end, field) -> None:
    with pytest.raises(InvalidArgument) as error:
        SyncRequest.parse(datasets, SyncMode.INCREMENTAL, start, end)
    assert error.value.field == field


def test_incremental_resumes_after_the_checkpoint_and_full_covers_the_range() -> None:
    end = D(2024, 1, 31)
    assert window_for("daily", SyncMode.INCREMENTAL, None, D(2019, 1, 1), end, D(2024, 1, 10)).start == D(2024, 1, 11)
    assert window_for("daily", SyncMode.INCREMENTAL, D(2023, 1, 1), D(2019, 1, 1), end, None).start == D(2023, 1, 1)
    assert window_for("daily", SyncMode.FULL, None, D(2019, 1, 1), end, D(2024, 1, 10)).start == D(2019, 1, 1)
    assert window_for("daily", SyncMode.INCREMENTAL, None, D(2019, 1, 1), end, end).empty


def test_batches_and_windows() -> None:
    assert [list(b) for b in batches([1, 2, 3, 4, 5], 2)] == [[1, 2], [3, 4], [5]]
    windows = date_windows(D(2010, 1, 1), D(2024, 12, 31))
    assert windows[0][0] == D(2010, 1, 1) and windows[-1][1] == D(2024, 12, 31)
    assert all((b - a).days < 5 * 366 for a, b in windows)
    assert all(windows[i][1] + dt.timedelta(days=1) == windows[i + 1][0] for i in range(len(windows) - 1))


def test_per_date_statistics_split_inserted_updated_and_unchanged() -> None:
    frame = pd.DataFrame(
        {"ts_code": ["A", "B", "A", "B"], "trade_date": ["20240102", "20240102", "20240103", "20240103"],
         "close": [1.0, 2.0, 3.0, 4.5]}  # fmt: skip
    )
    stored = pd.DataFrame(
        {"ts_code": ["A", "B", "C"], "trade_date": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-03"]),
         "close": [1.0, 4.0, 9.0]}  # fmt: skip
    )
    stats, total = per_date_statistics("daily", frame, stored, total_before=10)
    assert [(s.stat_date, s.inserted, s.updated, s.rows_on_date, s.total_rows) for s in stats] == [
        (D(2024, 1, 2), 1, 0, 2, 11),
        (D(2024, 1, 3), 1, 1, 3, 12),
    ]
    assert total == 12
    first_load, _ = per_date_statistics("daily", frame, stored.iloc[0:0], total_before=0)
    assert [(s.inserted, s.rows_on_date) for s in first_load] == [(2, 2), (2, 2)]


def test_the_run_summary_shows_no_skipped_row_for_a_dataset_it_loaded() -> None:
    import datetime as dt

    from zquant_marketdata.cli import summary_rows
    from zquant_marketdata.domain.sync import LogResult, SyncLogEntry

    def entry(dataset: str, result: LogResult, error: str | None = None) -> SyncLogEntry:
        return SyncLogEntry(
            id=dataset + result, run_id="r", dataset=dataset, api_name=dataset, start=None, end=None,
            started_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC), result=result, error=error,
        )  # fmt: skip

    rows = summary_rows(
        [
            entry("index_daily", LogResult.SUCCEEDED),
            entry("index_daily", LogResult.SKIPPED, "000905.SH skipped: no rows"),
            entry("index_daily", LogResult.SKIPPED, "399006.SZ skipped: no rows"),
            entry("stk_factor", LogResult.SKIPPED, "source cannot serve stk_factor"),
        ]
    )
    assert [(e.dataset, e.result, note) for e, note in rows] == [
        ("index_daily", LogResult.SUCCEEDED, "000905.SH skipped: no rows; 399006.SZ skipped: no rows"),
        ("stk_factor", LogResult.SKIPPED, "source cannot serve stk_factor"),
    ]
