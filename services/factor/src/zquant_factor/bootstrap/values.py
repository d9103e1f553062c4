"""values area wiring: the value and indicator-state stores (writes store packed blocks directly, so nothing
runs in the background)."""

from __future__ import annotations

from dataclasses import dataclass

from zquant_factor.adapters.sqlalchemy.state_store import SqlAlchemyIndicatorStateStore
from zquant_factor.adapters.sqlalchemy.value_store import BlockValueStore
from zquant_factor.adapters.sqlalchemy.value_store_postgres import factor_value_store
from zquant_kit.infrastructure import Infrastructure


@dataclass
class ValueComponents:
    values: BlockValueStore
    states: SqlAlchemyIndicatorStateStore


def wire(infra: Infrastructure) -> ValueComponents:
    return ValueComponents(
        factor_value_store(infra.engine, infra.config.database_url),
        SqlAlchemyIndicatorStateStore(infra.engine),
    )
