"""Errors a market-data source raises, whatever vendor sits behind it.

Pure Python on purpose: sync use cases decide from the type alone whether to
retry later, stop the run, or ask an operator to fix the token or subscription.
"""

from __future__ import annotations

from typing import ClassVar


class SourceError(Exception):
    """A call to the market-data vendor failed; `retryable` says whether waiting can help."""

    retryable: ClassVar[bool] = False

    def __init__(self, api_name: str, detail: str) -> None:
        super().__init__(f"{api_name}: {detail}")
        self.api_name = api_name
        self.detail = detail


class SourceAuthError(SourceError):
    """The vendor rejected the token: fix the configuration, retrying cannot help."""


class SourcePermissionError(SourceError):
    """The account lacks the points or subscription for this API (or its daily quota is spent)."""


class SourceRateLimitError(SourceError):
    """The per-minute call limit was hit; the same call succeeds once the window passes."""

    retryable = True


class SourceUnavailableError(SourceError):
    """Network or HTTP failure, a malformed answer, or no rows where rows were expected."""

    retryable = True
