"""Plain keyed tables of the event-like rule datasets (suspend_d, namechange, dividend,
index_weight), one per dataset, columns as `domain.rule_datasets` names them."""

from __future__ import annotations

from sqlalchemy import Column, Date, Double, Index, Table, Text

from zquant_marketdata.adapters.sqlalchemy.bar_tables import metadata
from zquant_marketdata.domain.rule_datasets import RECORD_DATASETS, RULE_DATASETS, RuleDataset


def _column(dataset: RuleDataset, name: str) -> Column:
    kind = Date if name in dataset.date_columns else Text if name in dataset.text_columns else Double
    key = name in dataset.keys
    return Column(name, kind, primary_key=key, nullable=not key)


def _record_table(dataset: RuleDataset) -> Table:
    return Table(dataset.name, metadata, *(_column(dataset, name) for name in dataset.columns))


RECORD_TABLES: dict[str, Table] = {name: _record_table(RULE_DATASETS[name]) for name in RECORD_DATASETS}
Index("ix_suspend_d_trade_date", RECORD_TABLES["suspend_d"].c.trade_date)
Index("ix_dividend_ex_date", RECORD_TABLES["dividend"].c.ex_date)
Index("ix_index_weight_trade_date", RECORD_TABLES["index_weight"].c.index_code, RECORD_TABLES["index_weight"].c.trade_date)
