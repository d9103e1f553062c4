"""What each refusal reason code means, in the words the report shows a researcher."""

from __future__ import annotations

from zquant_backtest.domain.orders import Reason

REASON_TEXT: dict[Reason, str] = {
    Reason.LIMIT_UP_LOCKED: "locked at the up limit: no seller at the fill price",
    Reason.LIMIT_DOWN_LOCKED: "locked at the down limit: no buyer at the fill price",
    Reason.T1_NOT_SELLABLE: "T+1: shares bought today cannot be sold until the next trading day",
    Reason.LOT_SIZE: "rounded down to the board's trading lot",
    Reason.SUSPENDED: "suspended: no bar on the fill day",
    Reason.INSUFFICIENT_CASH: "not enough cash for the shares and their costs",
    Reason.VOLUME_CAP: "cut to the volume cap (a share of the bar's volume)",
    Reason.NO_POSITION: "sell of more shares than held",
    Reason.NOT_IN_UNIVERSE: "buy of a code outside the day's universe (refused when placed)",
    Reason.NO_PRICE: "no close yet to turn a value or weight into shares (refused when placed)",
}


def reason_text(code: int) -> str:
    """Unknown codes are named as such rather than failing the whole report."""
    try:
        return f"{Reason(code).name.lower()}: {REASON_TEXT[Reason(code)]}"
    except (ValueError, KeyError):
        return f"reason {code}: not known to this report"
