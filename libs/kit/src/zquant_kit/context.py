"""Context variables set for the length of a block, also in generators that end in another context."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")


@contextlib.contextmanager
def bound(var: contextvars.ContextVar[T], value: T) -> Iterator[None]:
    """`var` is `value` inside the block (and in the tasks it starts). A response stream the client cancelled
    is closed from another context, where the token is foreign and the binding moot: the reset is skipped."""
    token = var.set(value)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            var.reset(token)
