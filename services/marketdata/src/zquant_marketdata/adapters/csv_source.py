"""`MarketDataSource` over a directory of CSVs in Tushare's schema, laid out like shared/data:

    a_share/daily.csv  a_share/adj_factor.csv  a_share/daily_basic.csv  a_share/stock_basic.csv
    a_share/stk_factor.csv (optional)          index/<ts_code>.csv (index_daily, one file per index)
    a_share/{stk_limit,suspend_d,namechange,dividend,index_weight}.csv (optional: the rule datasets)

Missing files are empty datasets. The trade calendar is open on every date present in any
file. `long/` (bars without pre_close or adjustment factors) is not a Tushare dataset and is
not read. A file has no transport failures, so an empty answer is never an error here.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from zquant_marketdata.adapters.sample_source import STOCK_BASIC_COLUMNS, InMemoryMarketSource
from zquant_marketdata.domain.rule_datasets import RECORD_DATASETS, RULE_DATASETS

STRING_COLUMNS = frozenset(
    {
        "ts_code", "symbol", "name", "area", "industry", "market", "exchange", "list_status",
        "list_date", "delist_date", "trade_date", "cal_date", "pretrade_date",
        *(name for d in RULE_DATASETS.values() for name in (*d.date_columns, *d.text_columns)),
    }
)  # fmt: skip
"""Read as text: codes like 000001 and YYYYMMDD dates must not become numbers."""
BAR_FILES = ("daily", "adj_factor", "daily_basic", "stk_factor", "stk_limit")


DATE_COLUMNS = frozenset(
    {"trade_date", "list_date", "delist_date", *(name for d in RULE_DATASETS.values() for name in d.date_columns)}
)


def _read(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype={column: str for column in STRING_COLUMNS})
    for column in DATE_COLUMNS & set(frame.columns):
        frame[column] = frame[column].str.replace("-", "", regex=False)
    return frame


def read_tables(directory: Path, api_names: Iterable[str]) -> dict[str, pd.DataFrame]:
    """The `a_share/<api name>.csv` files present, and `index_daily` from `index/*.csv`, keyed by API name."""
    tables = {name: _read(path) for name in api_names if (path := directory / "a_share" / f"{name}.csv").exists()}
    index_files = sorted((directory / "index").glob("*.csv"))
    if index_files:
        tables["index_daily"] = pd.concat([_read(path) for path in index_files], ignore_index=True)
    return tables


class CsvDirectorySource(InMemoryMarketSource):
    def __init__(self, directory: Path | str) -> None:
        directory = Path(directory)
        if not directory.is_dir():
            raise FileNotFoundError(f"{directory} is not a directory")
        tables = read_tables(directory, BAR_FILES)
        if not tables:
            raise FileNotFoundError(f"{directory} holds no a_share/*.csv or index/*.csv in Tushare's schema")
        stock_path = directory / "a_share" / "stock_basic.csv"
        stock_basic = _read(stock_path) if stock_path.exists() else pd.DataFrame(columns=STOCK_BASIC_COLUMNS)
        if "list_status" not in stock_basic.columns or stock_basic["list_status"].isna().all():
            stock_basic["list_status"] = "L"
        open_days = {day for frame in tables.values() for day in frame["trade_date"].dropna()}
        paths = {name: directory / "a_share" / f"{name}.csv" for name in RECORD_DATASETS}
        records = {name: _read(path) for name, path in paths.items() if path.exists()}
        super().__init__(tables, stock_basic, open_days, strict=False, records=records)
        present = (*BAR_FILES, "index_daily", *RECORD_DATASETS)
        self.datasets = ("stock_basic", "trade_cal", *(name for name in present if name in tables or name in records))
        """What the directory can fill: the reference data and the datasets it has files for."""
