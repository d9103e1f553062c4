"""SQLAlchemy repositories and unit of work of the watchlist: favorites, valued positions, stock lookups."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, Table, and_, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import registry

from zquant_kit.errors import AlreadyExists
from zquant_kit.persistence.statements import affected_rows
from zquant_kit.persistence.tombstones import DeletedUserRows
from zquant_kit.persistence.unit_of_work import SqlAlchemyUnitOfWork
from zquant_marketdata.adapters.sqlalchemy import tables as t
from zquant_marketdata.adapters.sqlalchemy.bar_tables import daily
from zquant_marketdata.application.watchlist_ports import DeletedUsers, WatchlistUnitOfWork
from zquant_marketdata.domain.watchlist import Favorite, Position, ValuedPosition

mapper_registry = registry()


def map_watchlist() -> None:
    """Idempotent: the watchlist classes are mapped once per process."""
    if mapper_registry.mappers:
        return
    mapper_registry.map_imperatively(Favorite, t.favorites)
    mapper_registry.map_imperatively(Position, t.positions)


class _UserOwnedRows:
    """Rows of `_table`, each owned by one user: removed one at a time, or all of a user's at once."""

    _table: Table

    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def delete(self, row: object) -> None:
        await self._s.delete(row)
        await self._s.flush()

    async def delete_for_user(self, user_id: str) -> int:
        result = await self._s.execute(delete(self._table).where(self._table.c.user_id == user_id))
        return affected_rows(result)


class SqlAlchemyFavoriteRepository(_UserOwnedRows):
    _table = t.favorites

    async def add(self, favorite: Favorite) -> None:
        self._s.add(favorite)
        try:
            await self._s.flush()
        except IntegrityError:  # a concurrent add of the same (user, code) committed first
            raise AlreadyExists("favorite", favorite.ts_code, "ts_code") from None

    async def get(self, user_id: str, ts_code: str) -> Favorite | None:
        return await self._s.get(Favorite, (user_id, ts_code))

    async def list_for_user(self, user_id: str, after: str | None, limit: int) -> Sequence[Favorite]:
        c = t.favorites.c
        query = select(Favorite).where(c.user_id == user_id).order_by(c.ts_code).limit(limit)
        if after is not None:
            query = query.where(c.ts_code > after)
        return (await self._s.execute(query)).scalars().all()



def _valued_positions() -> Select:
    """Positions joined to the bar of their latest trade date: one statement, whatever the page size.

    The correlated max() is answered from daily's (ts_code, trade_date) primary key on PostgreSQL
    (per partition) and on SQLite alike; a code without bars keeps NULL close and date.
    """
    p = t.positions.c
    newest = daily.alias("newest")
    latest_date = (
        select(func.max(newest.c.trade_date))
        .where(newest.c.ts_code == p.ts_code)
        .correlate(t.positions)
        .scalar_subquery()
    )
    joined = t.positions.outerjoin(daily, and_(daily.c.ts_code == p.ts_code, daily.c.trade_date == latest_date))
    return select(Position, daily.c.close, daily.c.trade_date).select_from(joined)


class SqlAlchemyPositionRepository(_UserOwnedRows):
    _table = t.positions

    async def add(self, position: Position) -> None:
        self._s.add(position)
        await self._s.flush()

    async def get(self, position_id: str) -> Position | None:
        return await self._s.get(Position, position_id)

    async def valued(self, position_id: str) -> ValuedPosition | None:
        await self._s.flush()
        query = _valued_positions().where(t.positions.c.id == position_id)
        row = (await self._s.execute(query)).first()
        return None if row is None else ValuedPosition(row[0], row[1], row[2])

    async def list_valued(
        self, user_id: str, after: tuple[str, str] | None, limit: int
    ) -> Sequence[ValuedPosition]:
        p = t.positions.c
        query = _valued_positions().where(p.user_id == user_id).order_by(p.ts_code, p.id).limit(limit)
        if after is not None:
            code, position_id = after
            query = query.where(or_(p.ts_code > code, and_(p.ts_code == code, p.id > position_id)))
        rows = (await self._s.execute(query)).all()
        return [ValuedPosition(position, close, trade_date) for position, close, trade_date in rows]


class SqlAlchemyStockCatalog:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def exists(self, ts_code: str) -> bool:
        query = select(t.stock_basic.c.ts_code).where(t.stock_basic.c.ts_code == ts_code)
        return (await self._s.execute(query)).first() is not None


class SqlAlchemyDeletedUsers(DeletedUserRows, DeletedUsers):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, t.deleted_users)


class SqlAlchemyWatchlistUnitOfWork(SqlAlchemyUnitOfWork, WatchlistUnitOfWork):
    processed_messages = t.processed_messages

    def _enter(self) -> None:
        self.favorites = SqlAlchemyFavoriteRepository(self.session)
        self.positions = SqlAlchemyPositionRepository(self.session)
        self.stocks = SqlAlchemyStockCatalog(self.session)
        self.deleted_users = SqlAlchemyDeletedUsers(self.session)
