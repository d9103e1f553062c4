"""The server-rendered parts of the page: every piece of text escaped here, once, on its way into the HTML."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from zquant_backtest.adapters.report.summary import number
from zquant_backtest.adapters.report.tables import MAX_REFUSAL_ROWS, CostLine, Refusals, TradeColumns


def key_values(rows: Sequence[tuple[str, str]]) -> str:
    cells = "".join(f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>" for label, value in rows)
    return f"<table class='kv'><tbody>{cells}</tbody></table>"


def costs_table(lines: Sequence[CostLine], total_costs: float) -> str:
    head = "<tr><th>Cost</th><th>Buys</th><th>Sells</th><th>Total</th></tr>"
    body = "".join(
        f"<tr><th>{escape(line.name)}</th><td>{number(line.buys)}</td><td>{number(line.sells)}</td>"
        f"<td>{number(line.total)}</td></tr>"
        for line in lines
    )
    note = (
        f"<p class='note'>In CNY over every fill of the run. The ledger paid {number(total_costs)} in fees "
        "(commission + stamp duty + transfer fee); slippage is not a fee, it is already in the fill prices.</p>"
    )
    return f"<table class='grid'><thead>{head}</thead><tbody>{body}</tbody></table>{note}"


def refusals_section(refusals: Refusals) -> str:
    if not refusals.total:
        return "<p class='note'>No order was refused or cut.</p>"
    counts = "".join(f"<tr><td>{escape(text)}</td><td>{count:,}</td></tr>" for text, count in refusals.by_reason)
    rows = "".join(
        f"<tr><td>{escape(row.date)}</td><td>{escape(row.code)}</td><td>{escape(row.reason)}</td>"
        f"<td>{row.requested:,}</td><td>{row.remaining:,}</td></tr>"
        for row in reversed(refusals.rows)
    )
    capped = (
        f" The list shows the latest {MAX_REFUSAL_ROWS:,} of {refusals.total:,}; the counts cover them all."
        if refusals.total > len(refusals.rows)
        else ""
    )
    return (
        f"<p class='note'>{refusals.total:,} orders were refused or cut.{capped}</p>"
        "<table class='grid'><thead><tr><th>Reason</th><th>Count</th></tr></thead>"
        f"<tbody>{counts}</tbody></table>"
        "<table class='grid lead3' id='refusals'><thead><tr><th>Date</th><th>Code</th><th>Reason</th>"
        f"<th>Requested</th><th>Remaining</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def trades_note(trades: TradeColumns) -> str:
    if trades.total > trades.shown:
        return (
            f"The run made {trades.total:,} fills; the table embeds the latest {trades.shown:,} to keep this file "
            "small. The costs breakdown and the metrics cover every fill."
        )
    return f"All {trades.total:,} fills of the run."
