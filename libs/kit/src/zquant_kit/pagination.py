"""AIP-158 page tokens: opaque, URL-safe keyset cursors, and the page a keyset query returns.

A use case fetches one row more than it returns (`fetch_page`), which tells whether there is a next page
without a count; the servicer turns the last item into the next page token through its `Cursor`
(`Cursor.page` does a list RPC's whole round: size, token in, fetch, token out).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from zquant_kit.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
_BAD_TOKEN = "invalid or expired page token"

T = TypeVar("T")
K = TypeVar("K")


class Page(NamedTuple, Generic[T]):
    """At most `limit` items, and whether more follow them. Unpacks as `(items, more)`."""

    items: list[T]
    more: bool


class PageRequest(Protocol):
    """The two AIP-158 fields every list request carries."""

    @property
    def page_size(self) -> int: ...

    @property
    def page_token(self) -> str: ...


class ListedPage(NamedTuple, Generic[T]):
    """A page as a list response carries it: the items, and the token of the page after them ("" on the last)."""

    items: list[T]
    next_page_token: str


def page_of(rows: Sequence[T], limit: int) -> Page[T]:
    """The page from `limit + 1` fetched rows: the extra row only says that more follow."""
    return Page(list(rows[:limit]), len(rows) > limit)


async def fetch_page(fetch: Callable[[int], Awaitable[Sequence[T]]], limit: int) -> Page[T]:
    """Calls `fetch(n)` for `limit + 1` rows and keeps `limit` of them."""
    return page_of(await fetch(limit + 1), limit)


def page_size(requested: int, *, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE) -> int:
    if requested < 0:
        raise InvalidArgument("page_size", "must not be negative")
    if requested == 0:
        return default
    return min(requested, maximum)


def encode_cursor(kind: str, key: list[Any]) -> str:
    raw = json.dumps({"k": kind, "v": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, token: str) -> list[Any] | None:
    """`kind` ties a token to the list it came from, so tokens can't be replayed across RPCs."""
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if data["k"] != kind or not isinstance(data["v"], list):
            raise ValueError(kind)
        return data["v"]
    except (ValueError, KeyError, TypeError):
        raise InvalidArgument("page_token", _BAD_TOKEN) from None


def decode_string_cursor(kind: str, token: str, width: int) -> tuple[str, ...] | None:
    """A keyset cursor of `width` strings (e.g. (username,) or (created_at, id)); anything else is rejected."""
    key = decode_cursor(kind, token)
    if key is None:
        return None
    if len(key) != width or not all(isinstance(part, str) for part in key):
        raise InvalidArgument("page_token", _BAD_TOKEN)
    return tuple(key)


@dataclass(frozen=True)
class Cursor(Generic[T, K]):
    """The page tokens of one list: `key` writes an item's keyset position as strings, `parse` reads the
    strings back as the typed key the repository pages after (a ValueError there is a bad token)."""

    kind: str
    width: int
    key: Callable[[T], Sequence[str]]
    parse: Callable[[tuple[str, ...]], K]

    def after(self, token: str) -> K | None:
        """The key to page after, None for the first page; INVALID_ARGUMENT on `page_token` otherwise."""
        parts = decode_string_cursor(self.kind, token, self.width)
        if parts is None:
            return None
        try:
            return self.parse(parts)
        except ValueError:
            raise InvalidArgument("page_token", _BAD_TOKEN) from None

    def next_token(self, page: Page[T]) -> str:
        """The token of the page after `page`, or "" when it is the last."""
        return encode_cursor(self.kind, list(self.key(page.items[-1]))) if page.more else ""

    async def page(
        self, request: PageRequest, fetch: Callable[[K | None, int], Awaitable[Page[T]]]
    ) -> ListedPage[T]:
        """One list RPC's page: `fetch(after, limit)` with the request's size (defaulted and capped) and its
        token decoded, and the token of the page after the one fetched."""
        limit = page_size(request.page_size)
        found = await fetch(self.after(request.page_token), limit)
        return ListedPage(found.items, self.next_token(found))


def _first(parts: tuple[str, ...]) -> str:
    return parts[0]


def _pair(parts: tuple[str, ...]) -> tuple[str, str]:
    return parts[0], parts[1]


def single_cursor(kind: str, key: Callable[[T], str]) -> Cursor[T, str]:
    """A cursor on one string column (a name, a code, an id)."""
    return Cursor(kind, 1, lambda item: (key(item),), _first)


def pair_cursor(
    kind: str, key: Callable[[T], tuple[str, str]], check: Callable[[str], object] | None = None
) -> Cursor[T, tuple[str, str]]:
    """A cursor on two string columns; `check` validates the first (e.g. `datetime.fromisoformat`)."""

    def parse(parts: tuple[str, ...]) -> tuple[str, str]:
        if check is not None:
            check(parts[0])
        return _pair(parts)

    return Cursor(kind, 2, key, parse)
