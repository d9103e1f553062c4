"""Login throttling that slows a guesser without locking anyone else out.

Failures count per (account, client address): five wrong guesses from one address slow that address down for that
account only, with a backoff that doubles from 1 s up to 15 min. On top, one address may fail only so many logins a
minute across all accounts, so spraying many usernames from one place is slow too.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass

from zquant_kit.clock import as_utc

FREE_FAILURES = 5
FIRST_BACKOFF = dt.timedelta(seconds=1)
MAX_BACKOFF = dt.timedelta(minutes=15)
FAILURE_MEMORY = dt.timedelta(hours=24)
ADDRESS_FAILURES_PER_MINUTE = 20
ADDRESS_WINDOW = dt.timedelta(minutes=1)
MAX_TRACKED_ADDRESSES = 10_000


def throttle_key(username: str) -> str:
    """Usernames are unique ignoring case, so `Admin` and `admin` share one count; none is longer than 64."""
    return username.lower()[:64]


@dataclass(eq=False)
class LoginThrottle:
    """Failed logins of one account (or unknown username) from one client address."""

    username: str
    address: str
    failures: int = 0
    blocked_until: dt.datetime | None = None
    last_failure_at: dt.datetime | None = None

    def retry_after(self, now: dt.datetime) -> dt.timedelta | None:
        """How long this pair must still wait, or None when it may try now."""
        if self.blocked_until is None or as_utc(self.blocked_until) <= now:
            return None
        wait: dt.timedelta = as_utc(self.blocked_until) - now
        return wait

    def record_failure(self, now: dt.datetime) -> None:
        """From the fifth failure on, each one blocks the pair for twice as long as the last (1 s … 15 min)."""
        if self.last_failure_at is not None and now - as_utc(self.last_failure_at) > FAILURE_MEMORY:
            self.failures = 0
        self.failures += 1
        self.last_failure_at = now
        if self.failures >= FREE_FAILURES:
            doublings = min(self.failures - FREE_FAILURES, 20)  # 2**20 s is far past the cap already
            self.blocked_until = now + min(FIRST_BACKOFF * 2**doublings, MAX_BACKOFF)


class AddressFailureLimit:
    """Per-process sliding window of failed logins per client address (memory bounded by MAX_TRACKED_ADDRESSES)."""

    def __init__(
        self, limit: int = ADDRESS_FAILURES_PER_MINUTE, window: dt.timedelta = ADDRESS_WINDOW
    ) -> None:
        self._limit = limit
        self._window = window
        self._failures: dict[str, deque[dt.datetime]] = {}

    def _recent(self, address: str, now: dt.datetime) -> deque[dt.datetime]:
        seen = self._failures.get(address)
        if seen is None:
            return deque()
        while seen and seen[0] <= now - self._window:
            seen.popleft()
        if not seen:
            del self._failures[address]
        return seen

    def retry_after(self, address: str, now: dt.datetime) -> dt.timedelta | None:
        seen = self._recent(address, now)
        if len(seen) < self._limit:
            return None
        return seen[-self._limit] + self._window - now

    def record_failure(self, address: str, now: dt.datetime) -> None:
        seen = self._recent(address, now)
        if address not in self._failures:
            if len(self._failures) >= MAX_TRACKED_ADDRESSES:
                self._failures.pop(next(iter(self._failures)))  # the address tracked longest goes first
            self._failures[address] = seen
        seen.append(now)
