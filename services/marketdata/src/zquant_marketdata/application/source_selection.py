"""Which market source a sync run uses: the configured kind, else Tushare once a token is set, else the sample."""

from __future__ import annotations

from zquant_kit.errors import FailedPrecondition

SOURCES = ("tushare", "sample", "csv")


def configured_kind(raw: str) -> str:
    """The kind named by configuration ("" when none is): one of SOURCES, any case."""
    kind = raw.strip().lower()
    if kind and kind not in SOURCES:
        raise ValueError(f"ZQUANT_MARKETDATA_SOURCE must be one of {SOURCES}, not {kind!r}")
    return kind


def needs_token(kind: str) -> bool:
    """Whether choosing between `kind`'s sources asks for the Tushare token first."""
    return kind in ("", "tushare")


def choose_kind(kind: str, token: str) -> str:
    """The source of the next run; Tushare without a token is refused, naming how to configure one."""
    chosen = kind or ("tushare" if token else "sample")
    if chosen == "tushare" and not token:
        raise FailedPrecondition(
            "no Tushare token configured: call SetSourceConfig or set TUSHARE_TOKEN", reason="SOURCE_NOT_CONFIGURED"
        )
    return chosen
