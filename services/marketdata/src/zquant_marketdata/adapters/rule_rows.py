"""Answering a rule dataset's call from a frame of its rows, the way Tushare filters: start_date /
end_date bound the dataset's range column, any other param naming a column must match one of its
comma-separated values. Shared by the in-memory sources and the fake Tushare server."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from zquant_marketdata.domain.rule_datasets import RULE_DATASETS


def empty_frame(api_name: str) -> pd.DataFrame:
    return pd.DataFrame(columns=list(RULE_DATASETS[api_name].columns))


def select_rows(api_name: str, table: pd.DataFrame | None, params: Mapping[str, str]) -> pd.DataFrame:
    """The rows of `table` (None: the source has none) a call with `params` answers, Tushare's columns."""
    dataset = RULE_DATASETS[api_name]
    if table is None:
        return empty_frame(api_name)
    keep = pd.Series(True, index=table.index)
    dates = table[dataset.range_column].astype(str)
    for name, value in params.items():
        if not value:
            continue
        if name == "start_date":
            keep &= dates >= str(value)
        elif name == "end_date":
            keep &= dates <= str(value)
        elif name in table.columns:
            keep &= table[name].astype(str).isin(str(value).split(","))
    return table.loc[keep].reindex(columns=list(dataset.columns)).reset_index(drop=True)
