"""The `SourceProvider` of the running service: resolves the source at the start of each run, so SetSourceConfig
takes effect without a restart. Sources are cached per configuration (the sample is generated once)."""

from __future__ import annotations

import hashlib

from zquant_kit.dates import parse_optional_yyyymmdd, parse_yyyymmdd
from zquant_kit.errors import FailedPrecondition
from zquant_marketdata.adapters.csv_source import CsvDirectorySource
from zquant_marketdata.adapters.sample_source import SampleMarketSource
from zquant_marketdata.adapters.tushare.source import TushareMarketDataSource, TushareSettings
from zquant_marketdata.application.source_config import SourceConfigUseCases
from zquant_marketdata.application.source_selection import choose_kind, configured_kind, needs_token
from zquant_marketdata.application.sync_engine import DEFAULT_START
from zquant_marketdata.application.sync_ports import SourceChoice, SourceProvider
from zquant_marketdata.domain.sample_market import SampleSpec
from zquant_marketdata.domain.sync import parse_date


class SourceSelector(SourceProvider):
    """`source`, `sample`, `csv_dir`, `sync_start_date`: ZQUANT_MARKETDATA_SOURCE, the sample market's size,
    ZQUANT_MARKETDATA_CSV_DIR and ZQUANT_SYNC_START_DATE, as the service's config read them."""

    def __init__(
        self, config: SourceConfigUseCases, *, source: str, sample: SampleSpec, csv_dir: str, sync_start_date: str
    ) -> None:
        self._config = config
        self._sample_spec = sample
        self._csv_dir = csv_dir
        self._sync_start_date = sync_start_date
        self._sample: SampleMarketSource | None = None
        self._csv: CsvDirectorySource | None = None
        self._tushare: tuple[str, TushareMarketDataSource] | None = None
        self._kind = configured_kind(source)

    async def current(self) -> SourceChoice:
        token = await self._config.token() if needs_token(self._kind) else ""
        kind = choose_kind(self._kind, token)
        if kind == "sample":
            if self._sample is None:
                self._sample = SampleMarketSource(self._sample_spec)
            first = parse_yyyymmdd(self._sample.first_day)
            return SourceChoice(self._sample, "sample", first)
        if kind == "csv":
            if self._csv is None:
                directory = self._csv_dir
                if not directory:
                    raise FailedPrecondition("ZQUANT_MARKETDATA_SOURCE=csv needs ZQUANT_MARKETDATA_CSV_DIR")
                self._csv = CsvDirectorySource(directory)
            return SourceChoice(self._csv, "csv", parse_optional_yyyymmdd(self._csv.first_day))
        config = await self._config.get()
        fingerprint = hashlib.sha256(f"{token}\n{config.base_url}\n{config.calls_per_minute}".encode()).hexdigest()
        if self._tushare is None or self._tushare[0] != fingerprint:
            source = TushareMarketDataSource(
                TushareSettings(token=token, base_url=config.base_url, calls_per_minute=config.calls_per_minute)
            )
            self._tushare = (fingerprint, source)
        tushare_start = parse_date(self._sync_start_date, "ZQUANT_SYNC_START_DATE") or DEFAULT_START
        return SourceChoice(self._tushare[1], "tushare", tushare_start)
