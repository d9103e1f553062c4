"""Factor definition records for the tests of the pure rules, built per test, not at import: a record made before
another test maps the class (SQLAlchemy imperative mapping, once per process) would lack its instance state."""

from __future__ import annotations

import datetime as dt

from zquant_factor.domain.definitions.records import FactorDefinition, FactorKind, Visibility

T0 = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)


def definition(
    factor_name: str = "f",
    owner_id: str | None = None,
    visibility: Visibility = Visibility.SHARED,
    *,
    owner_deleted: bool = False,
) -> FactorDefinition:
    """A built-in indicator's definition `f1` named `factor_name` (also its column), created and updated at T0."""
    return FactorDefinition(
        id="f1",
        factor_name=factor_name,
        cn_name="因子",
        en_name=factor_name,
        column_name=factor_name,
        description="",
        kind=FactorKind.BUILTIN_INDICATOR,
        owner_id=owner_id,
        visibility=visibility,
        created_at=T0,
        updated_at=T0,
        owner_deleted=owner_deleted,
    )
