"""`make demo`: start the all-in-one stack on the embedded default and walk the main flow.

Each step is a real gRPC call over loopback; the data directory is fresh unless ZQUANT_DATA_DIR is set.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
import tempfile

import grpc

from zquant.identity.v1 import (
    api_key_pb2,
    api_key_pb2_grpc,
    audit_pb2,
    audit_pb2_grpc,
    auth_pb2,
    auth_pb2_grpc,
    events_pb2,
    user_pb2,
    user_pb2_grpc,
)
from zquant.marketdata.v1 import (
    common_pb2,
    market_data_pb2,
    market_data_pb2_grpc,
    sync_pb2,
    sync_pb2_grpc,
    watchlist_pb2,
    watchlist_pb2_grpc,
)
from zquant_demo.backtest_tour import backtest_tour
from zquant_demo.factor_tour import factor_tour, factors_left
from zquant_demo.output import step as _step
from zquant_demo.scheduler_tour import scheduler_tour
from zquant_kit.client_cli import progress_bar
from zquant_kit.events.inprocess import InProcessEventBus
from zquant_kit.events.model import Event
from zquant_kit.grpc.client import bearer, call_with_api_key, insecure_channel
from zquant_kit.principal import Principal
from zquant_kit.runner import start_stack, upgrade_all
from zquant_kit.service import ServiceDefinition
from zquant_kit.settings import Settings
from zquant_marketdata.application.watchlist import READ_PERMISSION


def _summary(logs: list) -> list[tuple]:
    """One row per dataset: what a loaded dataset skipped (an index the source lacks) is its note, not a row."""
    loaded = {log.dataset for log in logs if log.result != "skipped"}
    notes: dict[str, list[str]] = {}
    for log in logs:
        if log.result == "skipped" and log.dataset in loaded:
            notes.setdefault(log.dataset, []).append(log.error)
    rows = [log for log in logs if log.result != "skipped" or log.dataset not in loaded]
    return [(log, "; ".join(notes.pop(log.dataset, [])) or log.error) for log in rows]


async def _rows_owned(app, user_id: str) -> int:
    """Asks marketdata's watchlist use cases (the demo runs in-process) for what the user still owns."""
    owner = Principal(user_id=user_id, username="demo-check", role="researcher", permissions=frozenset({READ_PERMISSION}))
    favorites, more_favorites = await app.watchlist.list_favorites(owner, None, 100)
    positions, more_positions = await app.watchlist.list_positions(owner, None, 100)
    return len(favorites) + len(positions) + int(more_favorites) + int(more_positions)


async def _market_data_tour(address: str, admin: list, *, alice_key) -> tuple[str, str]:
    """Returns the last year of the synced daily bars (start, end) for the factor section."""
    async with insecure_channel(address) as channel:
        sync = sync_pb2_grpc.SyncServiceStub(channel)
        market = market_data_pb2_grpc.MarketDataServiceStub(channel)
        watchlist = watchlist_pb2_grpc.WatchlistServiceStub(channel)
        source = await sync.GetSourceConfig(sync_pb2.GetSourceConfigRequest(), metadata=admin)
        _step(f"admin syncs market data ({'Tushare' if source.token_set else 'deterministic sample market, no token needed'})")
        last = None
        shown: tuple[str | None, float] = (None, -10.0)
        live = sys.stdout.isatty()
        async for reply in sync.StartSync(sync_pb2.StartSyncRequest(mode=sync_pb2.SYNC_MODE_FULL), metadata=admin):
            last = reply.progress
            line = (
                f"    {progress_bar(last.percent)} {last.percent:5.1f}% {last.dataset:<12} {last.current_date:<8} "
                f"rows {last.rows_fetched:>9,}"
            )
            if live:
                print("\r" + line, end="", flush=True)
            elif last.dataset != shown[0] or last.percent - shown[1] >= 10:
                print(line, flush=True)  # a log, not a terminal: one line per dataset or 10 %
                shown = (last.dataset, last.percent)
        if live:
            print()
        elif last is not None and shown[1] != last.percent:
            print(line, flush=True)
        if last is None or last.state != "succeeded":
            raise SystemExit(f"demo failed: sync ended {last.state if last else 'without progress'}: {last.error if last else ''}")
        stats = await sync.GetTableStatistics(
            sync_pb2.GetTableStatisticsRequest(dataset="daily", page_size=3), metadata=admin
        )
        logs = await sync.ListSyncLogs(sync_pb2.ListSyncLogsRequest(page_size=20), metadata=admin)
        for log, note in _summary(list(reversed(logs.logs))):
            print(
                f"    {log.dataset:<12} {log.result:<9} fetched {log.rows_fetched:>9,}  inserted {log.inserted:>9,}"
                f"  updated {log.updated:>6,}  unchanged {log.unchanged:>9,}  {log.duration_seconds:6.2f}s  {note}"
            )
        for row in stats.statistics:
            print(f"    daily on {row.stat_date}: {row.rows_on_date:,} rows (table total {row.total_rows:,})")

        _step("alice (API key) lists stocks and reads qfq bars")
        method = "/zquant.marketdata.v1.MarketDataService/ListStocks"
        listed = await call_with_api_key(
            market.ListStocks, market_data_pb2.ListStocksRequest(page_size=3),
            key_id=alice_key.api_key.id, secret=alice_key.secret, method=method,
        )
        code = listed.stocks[0].ts_code
        print(f"    first stocks: {', '.join(f'{s.ts_code} {s.name}' for s in listed.stocks)}")
        status = await sync.GetSyncStatus(sync_pb2.GetSyncStatusRequest(), metadata=admin)
        end = next(d.last_trade_date for d in status.datasets if d.dataset == "daily")
        start = f"{int(end[:4]) - 1}{end[4:]}"
        bars = await call_with_api_key(
            market.GetBars,
            market_data_pb2.GetBarsRequest(ts_codes=[code], start_date=start, end_date=end, adjust=common_pb2.ADJUST_QFQ),
            key_id=alice_key.api_key.id, secret=alice_key.secret,
            method="/zquant.marketdata.v1.MarketDataService/GetBars",
        )
        print(
            f"    {code} {start}..{end}: {len(bars.bars)} qfq bars (base {end}),"
            f" last close {bars.bars[-1].close:.2f} on {bars.bars[-1].trade_date}"
        )

        _step("alice keeps a favorite and a position, valued from the latest close")
        for request, rpc, name in (
            (watchlist_pb2.AddFavoriteRequest(ts_code=code, comment="demo"), watchlist.AddFavorite, "AddFavorite"),
            (
                watchlist_pb2.AddPositionRequest(ts_code=code, quantity=1000, average_cost=bars.bars[0].close),
                watchlist.AddPosition,
                "AddPosition",
            ),
        ):
            await call_with_api_key(
                rpc, request, key_id=alice_key.api_key.id, secret=alice_key.secret,
                method=f"/zquant.marketdata.v1.WatchlistService/{name}",
            )
        positions = await call_with_api_key(
            watchlist.ListPositions, watchlist_pb2.ListPositionsRequest(),
            key_id=alice_key.api_key.id, secret=alice_key.secret,
            method="/zquant.marketdata.v1.WatchlistService/ListPositions",
        )
        for p in positions.positions:
            print(
                f"    {p.ts_code} qty {p.quantity:,.0f} cost {p.average_cost:.2f} close {p.last_close:.2f}"
                f" value {p.market_value:,.2f} profit {p.profit:,.2f} ({p.profit_pct:+.2%})"
            )
        return start, end


async def run_demo(settings: Settings, known: dict[str, ServiceDefinition]) -> None:
    overrides = {"ZQUANT_EVENT_BUS": "inprocess"}
    if not settings.get("ZQUANT_DATA_DIR"):
        overrides["ZQUANT_DATA_DIR"] = tempfile.mkdtemp(prefix="zquant-demo-")
    admin_password = settings.get("ZQUANT_ADMIN_PASSWORD") or secrets.token_urlsafe(12) + "-Aa1"
    overrides["ZQUANT_ADMIN_PASSWORD"] = admin_password
    settings = settings.with_overrides(**overrides)
    definitions = list(known.values())
    _step(f"all-in-one on SQLite in {settings.data_dir} with the in-process event bus")
    await upgrade_all(definitions, settings)
    for definition in definitions:
        print(f"    migrated {definition.name} → {settings.database_url(definition.name)}")

    bus = InProcessEventBus()
    deleted: list[str] = []

    async def observe_user_deleted(event: Event) -> None:
        deleted.append(event.decode(events_pb2.UserDeletedEvent).user_id)

    await bus.subscribe("demo-observer", "identity.user.deleted.v1", observe_user_deleted)
    stack = await start_stack(definitions, settings, bus=bus, ephemeral_ports=True)
    try:
        for name in stack.servers:
            print(f"    {name} serving gRPC on {stack.address(name)} (health + reflection on)")
        async with insecure_channel(stack.address("identity")) as channel:
            auth = auth_pb2_grpc.AuthServiceStub(channel)
            users = user_pb2_grpc.UserServiceStub(channel)
            keys = api_key_pb2_grpc.ApiKeyServiceStub(channel)
            audit = audit_pb2_grpc.AuditServiceStub(channel)

            _step("admin logs in")
            admin = (await auth.Login(auth_pb2.LoginRequest(username="admin", password=admin_password))).tokens
            print(f"    access token (EdDSA JWT, 15 min): {admin.access_token[:32]}…")

            _step("admin creates researcher 'alice'")
            alice_password = "Alice-" + secrets.token_urlsafe(9)
            created = await users.CreateUser(
                user_pb2.CreateUserRequest(
                    username="alice", email="alice@example.com", password=alice_password, role="researcher"
                ),
                metadata=bearer(admin.access_token),
            )
            print(f"    user id {created.user.id}, role {created.user.role}")

            _step("alice logs in and calls GetMe")
            alice = (await auth.Login(auth_pb2.LoginRequest(username="alice", password=alice_password))).tokens
            me = await users.GetMe(user_pb2.GetMeRequest(), metadata=bearer(alice.access_token))
            print(f"    GetMe → {me.user.username} ({me.user.role}), {len(me.user.permissions)} permissions")

            _step("alice creates an API key and calls GetMe with an HMAC-signed request")
            key = await keys.CreateApiKey(
                api_key_pb2.CreateApiKeyRequest(name="notebook"), metadata=bearer(alice.access_token)
            )
            print(f"    key {key.api_key.id} (secret shown once: {key.secret[:10]}…)")
            via_key = await call_with_api_key(
                users.GetMe,
                user_pb2.GetMeRequest(),
                key_id=key.api_key.id,
                secret=key.secret,
                method="/zquant.identity.v1.UserService/GetMe",
            )
            print(f"    GetMe via API key → {via_key.user.username}")

            if "marketdata" in stack.servers:
                span = await _market_data_tour(stack.address("marketdata"), bearer(admin.access_token), alice_key=key)
                if "factor" in stack.servers:
                    await factor_tour(stack.address("factor"), bearer(alice.access_token), *span)
                if "backtest" in stack.servers:
                    codes = await backtest_tour(
                        stack.address("backtest"), stack.address("marketdata"), bearer(alice.access_token), *span,
                        settings.data_dir,
                    )
                    if "scheduler" in stack.servers:
                        await scheduler_tour(
                            stack.address("scheduler"), stack.address("factor"), bearer(admin.access_token), codes,
                            *span,
                        )

            _step("admin deletes alice; identity.user.deleted.v1 goes out through the outbox")
            await users.DeleteUser(
                user_pb2.DeleteUserRequest(user_id=created.user.id), metadata=bearer(admin.access_token)
            )
            for _ in range(100):
                if created.user.id in deleted:
                    break
                await asyncio.sleep(0.05)
            if created.user.id not in deleted:
                raise SystemExit("demo failed: user.deleted was not delivered")
            print(f"    consumer received user.deleted for {created.user.id}")
            if "marketdata" in stack.apps:
                left = await _rows_owned(stack.apps["marketdata"], created.user.id)
                print(f"    marketdata removed alice's favorites and positions: {left} rows left")
                if left:
                    raise SystemExit("demo failed: marketdata kept rows of a deleted user")
            if "factor" in stack.apps and "marketdata" in stack.apps:
                kept = await factors_left(stack.apps["factor"], created.user.id)
                print(f"    factor removed alice's private factors and their values: {kept} factors left")
                if kept:
                    raise SystemExit("demo failed: factor kept a deleted user's factors")
            try:
                await call_with_api_key(
                    users.GetMe,
                    user_pb2.GetMeRequest(),
                    key_id=key.api_key.id,
                    secret=key.secret,
                    method="/zquant.identity.v1.UserService/GetMe",
                )
                raise SystemExit("demo failed: a deleted user's API key still works")
            except grpc.aio.AioRpcError as exc:
                print(f"    alice's API key now fails: {exc.code().name}")

            _step("audit log (admin only)")
            await asyncio.sleep(0.2)
            entries = await audit.ListAuditEntries(
                audit_pb2.ListAuditEntriesRequest(page_size=10), metadata=bearer(admin.access_token)
            )
            for entry in reversed(entries.entries):
                print(f"    {entry.result_code:<16} {entry.method.rsplit('/', 1)[-1]:<14} {entry.target}")
        _step("demo finished OK")
    finally:
        await stack.stop(1)
