"""Walking a List RPC's pages the way a client does: from the first page token to the last."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, TypeVar


class PagedReply(Protocol):
    @property
    def next_page_token(self) -> str: ...


P = TypeVar("P", bound=PagedReply)
T = TypeVar("T")


async def walk_pages(
    fetch: Callable[[str], Awaitable[P]], items: Callable[[P], Sequence[T]], page_size: int | None = None
) -> tuple[list[T], int]:
    """Calls `fetch(page_token)` from "" until a reply has no next token; returns every item in order and the
    number of pages. With `page_size`, asserts that no page holds more items than that."""
    seen: list[T] = []
    pages, token = 0, ""
    while True:
        page = await fetch(token)
        found = items(page)
        if page_size is not None:
            assert len(found) <= page_size, f"{len(found)} items on a page of {page_size}"
        seen += found
        pages += 1
        token = page.next_page_token
        if not token:
            return seen, pages
