"""Marketdata's settings, read once from the environment into one frozen object.

Environment (all optional):

| variable | meaning |
|---|---|
| `ZQUANT_MARKETDATA_SOURCE` | `tushare`, `sample` or `csv`; default `tushare` when a token is configured (SetSourceConfig or `TUSHARE_TOKEN`), else `sample` |
| `TUSHARE_TOKEN` | Tushare token used when none was set through SetSourceConfig |
| `ZQUANT_TUSHARE_BASE_URL` / `ZQUANT_TUSHARE_CALLS_PER_MINUTE` | defaults of the source configuration |
| `ZQUANT_SAMPLE_STOCKS` / `ZQUANT_SAMPLE_YEARS` / `ZQUANT_SAMPLE_DAYS` / `ZQUANT_SAMPLE_SEED` | size of the sample market (300 stocks, 5 years ending 2024-12-31) |
| `ZQUANT_MARKETDATA_CSV_DIR` | directory of Tushare-schema CSVs for the `csv` source |
| `ZQUANT_MARKETDATA_SECRET_KEY` | Fernet key encrypting the token at rest; else `<ZQUANT_DATA_DIR>/marketdata.key` (0600) |
| `ZQUANT_SYNC_START_DATE` | where a first sync without start_date begins for Tushare (YYYYMMDD, default 20190101) |
| `ZQUANT_SYNC_BATCH_DAYS` | trade days per store write (default 20) |
| `ZQUANT_HEAVY_READS` / `ZQUANT_HEAVY_READ_QUEUE` / `ZQUANT_HEAVY_READ_WAIT_SECONDS` | bounds of heavy reads (kit `limits`) |
"""

from __future__ import annotations

from dataclasses import dataclass

from zquant_kit.infrastructure import ServiceConfig
from zquant_kit.limits import HeavyReadBounds
from zquant_kit.settings import Settings
from zquant_marketdata.adapters.secrets import KEY_ENV
from zquant_marketdata.adapters.tushare.source import DEFAULT_BASE_URL
from zquant_marketdata.domain.sample_market import DEFAULT_SEED, SampleSpec

NAME = "marketdata"


@dataclass(frozen=True)
class TushareDefaults:
    """What the source configuration falls back to until SetSourceConfig sets its own."""

    base_url: str
    calls_per_minute: float
    token: str


@dataclass(frozen=True)
class MarketDataConfig:
    kit: ServiceConfig
    source: str
    tushare: TushareDefaults
    sample: SampleSpec
    csv_dir: str
    token_key: str
    sync_start_date: str
    sync_batch_days: int
    heavy_reads: HeavyReadBounds

    @classmethod
    def from_settings(cls, settings: Settings) -> MarketDataConfig:
        days = settings.get("ZQUANT_SAMPLE_DAYS")
        return cls(
            kit=ServiceConfig.from_settings(NAME, settings),
            source=settings.get("ZQUANT_MARKETDATA_SOURCE"),
            tushare=TushareDefaults(
                base_url=settings.get("ZQUANT_TUSHARE_BASE_URL") or DEFAULT_BASE_URL,
                calls_per_minute=float(settings.get("ZQUANT_TUSHARE_CALLS_PER_MINUTE") or 200.0),
                token=settings.get("TUSHARE_TOKEN"),
            ),
            sample=SampleSpec(
                stocks=int(settings.get("ZQUANT_SAMPLE_STOCKS") or 300),
                years=float(settings.get("ZQUANT_SAMPLE_YEARS") or 5),
                days=int(days) if days else None,
                seed=int(settings.get("ZQUANT_SAMPLE_SEED") or DEFAULT_SEED),
            ),
            csv_dir=settings.get("ZQUANT_MARKETDATA_CSV_DIR"),
            token_key=settings.get(KEY_ENV),
            sync_start_date=settings.get("ZQUANT_SYNC_START_DATE"),
            sync_batch_days=int(settings.get("ZQUANT_SYNC_BATCH_DAYS") or 20),
            heavy_reads=HeavyReadBounds.from_settings(settings),
        )
