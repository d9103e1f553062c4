"""The unit-of-work port: what every service's application layer asks of a transaction.

Pure (no SQLAlchemy), so application packages may import it; `zquant_kit.persistence.unit_of_work` holds the
SQLAlchemy implementation. A service's own port adds its repositories:

    class ShopUnitOfWork(UnitOfWork, Protocol):
        orders: OrderRepository

    UnitOfWorkFactory = kit_uow.UnitOfWorkFactory[ShopUnitOfWork]
"""

from __future__ import annotations

from typing import Protocol, Self, TypeVar

from zquant_kit.events.model import Event


class UnitOfWork(Protocol):
    """One transaction: nothing it wrote, and none of the events it emitted, exists before `commit()`;
    leaving the `async with` block without committing rolls everything back."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc_info: object) -> None: ...

    def emit(self, event: Event) -> None:
        """Queues `event` for the outbox; it is written in the same transaction as the changes."""
        ...

    async def claim(self, consumer: str, event_id: str) -> bool:
        """True the first time this consumer sees the event; the mark commits with the effect."""
        ...

    async def commit(self) -> None: ...


UnitOfWorkT_co = TypeVar("UnitOfWorkT_co", bound=UnitOfWork, covariant=True)


class UnitOfWorkFactory(Protocol[UnitOfWorkT_co]):
    """Opens a fresh unit of work per call; use cases hold one of these, not a unit of work."""

    def __call__(self) -> UnitOfWorkT_co: ...
