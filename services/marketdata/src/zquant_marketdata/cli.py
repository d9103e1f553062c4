"""`zquant data ...`: load Tushare-schema CSVs and run syncs from the command line.

Both go through the same sync use case as the SyncService RPCs (same writes, checkpoints,
sync_logs and table_statistics), against the database in `ZQUANT_MARKETDATA_DATABASE_URL`,
which must be migrated (`zquant db upgrade marketdata`).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from zquant_kit.dates import parse_optional_yyyymmdd
from zquant_kit.service_commands import run_offline
from zquant_kit.settings import Settings
from zquant_marketdata.adapters.csv_source import CsvDirectorySource
from zquant_marketdata.application.sync import SyncUseCases
from zquant_marketdata.application.sync_ports import SourceChoice
from zquant_marketdata.application.sync_runs import RunHandle
from zquant_marketdata.domain.sync import LogResult, RunState, SyncLogEntry, SyncMode

CLI_USER = "cli"


class _FixedSource:
    def __init__(self, choice: SourceChoice) -> None:
        self._choice = choice

    async def current(self) -> SourceChoice:
        return self._choice


def register(subparsers) -> None:
    data = subparsers.add_parser("data", help="market data: load CSVs, run a sync")
    commands = data.add_subparsers(dest="data_command", required=True)
    load = commands.add_parser("load-csv", help="import a directory of Tushare-schema CSVs (a_share/, index/)")
    load.add_argument("directory", help="e.g. ../shared/data")
    load.add_argument("--quiet", action="store_true", help="no progress bar")
    load.set_defaults(handler=load_csv_command)
    sync = commands.add_parser("sync", help="sync from the configured source (Tushare or the sample market)")
    sync.add_argument("--datasets", default="", help="comma-separated, default every dataset")
    sync.add_argument("--full", action="store_true", help="the whole range again instead of from the checkpoints")
    sync.add_argument("--start", default="", help="YYYYMMDD")
    sync.add_argument("--end", default="", help="YYYYMMDD")
    sync.add_argument("--quiet", action="store_true", help="no progress bar")
    sync.set_defaults(handler=sync_command)


def load_csv_command(args, settings: Settings) -> None:
    sys.exit(asyncio.run(load_csv(Path(args.directory), settings, progress=not args.quiet)))


def sync_command(args, settings: Settings) -> None:
    datasets = [name for name in args.datasets.split(",") if name.strip()]
    mode = SyncMode.FULL if args.full else SyncMode.INCREMENTAL
    sys.exit(asyncio.run(sync(settings, datasets, mode, args.start, args.end, progress=not args.quiet)))


async def load_csv(directory: Path, settings: Settings, *, progress: bool = True) -> int:
    """Imports the CSVs as a full sync over their whole date range; returns the exit code."""
    try:
        source = CsvDirectorySource(directory)
    except FileNotFoundError as exc:
        print(f"load-csv: {exc}", file=sys.stderr)
        return 2
    first, last = source.first_day, source.last_day
    choice = SourceChoice(source, f"csv:{directory}", parse_optional_yyyymmdd(first))
    datasets = list(source.datasets)
    return await _run(settings, choice, datasets, SyncMode.FULL, first or "", last or "", progress=progress)


async def sync(
    settings: Settings, datasets: list[str], mode: SyncMode, start: str, end: str, *, progress: bool = True
) -> int:
    return await _run(settings, None, datasets, mode, start, end, progress=progress)


async def _run(
    settings: Settings,
    choice: SourceChoice | None,
    datasets: list[str],
    mode: SyncMode,
    start: str,
    end: str,
    *,
    progress: bool,
) -> int:
    from zquant_marketdata.bootstrap import SERVICE, MarketDataApp, MarketDataConfig, build

    config = MarketDataConfig.from_settings(settings)

    async def run(app: MarketDataApp) -> int:
        # The same wiring as the server's; only the sync use case runs (nothing is served, no relay starts).
        components = app.sync_components
        use_cases = components.sync
        if choice is not None:
            use_cases = SyncUseCases(
                components.repository, app.bar_store, _FixedSource(choice), app.clock, batch_days=120
            )
        handle = await use_cases.start(CLI_USER, datasets, mode, start, end)
        await _follow(handle, progress)
        final = await handle.wait()
        entries = await components.repository.list_logs(None, None, 1000, run_id=handle.run.id)
        print(f"{'dataset':<12} {'result':<10} {'fetched':>9} {'inserted':>9} {'updated':>8} {'unchanged':>9}  note")
        for entry, note in summary_rows(sorted(entries, key=lambda e: e.started_at)):
            print(
                f"{entry.dataset:<12} {entry.result.value:<10} {entry.rows_fetched:>9} {entry.inserted:>9} "
                f"{entry.updated:>8} {entry.unchanged:>9}  {note}"
            )
        print(
            f"run {handle.run.id} {final.state.value}: {final.rows_fetched} rows fetched, {final.inserted} inserted, "
            f"{final.updated} updated, {final.unchanged} unchanged" + (f" ({final.error})" if final.error else "")
        )
        return 0 if final.state is RunState.SUCCEEDED else 1

    return await run_offline("data", SERVICE, config.kit.database_url, lambda bus: build(config, bus), run)


def summary_rows(entries: list[SyncLogEntry]) -> list[tuple[SyncLogEntry, str]]:
    """One row per dataset: what a loaded dataset skipped (an index the source lacks) is its note, not a row."""
    loaded = {e.dataset for e in entries if e.result is not LogResult.SKIPPED}
    notes: dict[str, list[str]] = {}
    for entry in entries:
        if entry.result is LogResult.SKIPPED and entry.dataset in loaded:
            notes.setdefault(entry.dataset, []).append(entry.error or "skipped")
    rows = [e for e in entries if e.result is not LogResult.SKIPPED or e.dataset not in loaded]
    return [(e, "; ".join(notes.pop(e.dataset, [])) or e.error or "") for e in rows]


async def _follow(handle: RunHandle, progress: bool) -> None:
    width = 30
    async for snapshot in handle.watch():
        if not progress:
            continue
        filled = int(width * snapshot.percent / 100)
        bar = "#" * filled + "-" * (width - filled)
        print(
            f"\r[{bar}] {snapshot.percent:5.1f}% {snapshot.dataset:<12} {snapshot.current_date:<8} "
            f"{snapshot.rows_fetched:>10} rows",
            end="",
            file=sys.stderr,
            flush=True,
        )
    if progress:
        print(file=sys.stderr)
