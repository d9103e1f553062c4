"""The factor contract tests' market: marketdata's own contract fixtures (identity + marketdata on a throw-away
PostgreSQL database, the real bank market loaded)."""

from services.marketdata.tests.conftest import (  # noqa: F401  (fixtures)
    marketdata,
    marketdata_extra_settings,
    marketdata_settings,
)
from services.marketdata.tests.contract.conftest import market  # noqa: F401  (fixture)
