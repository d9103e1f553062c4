"""The A-share trading rules as data: every entry carries the date it took effect and, in a comment, its source.

A rule stays in force until the next entry of the same kind (and board / exchange) takes effect. Rates are fractions
(0.001 = 0.1%). ``math.inf`` as a price-limit percentage means "no limit". The table starts on 1991-10-10, the day
both exchanges charged stamp duty; the rules of SSE's first months (a 1%/0.5% band, removed on 1992-05-21) are not
modelled and those days trade without a limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from zquant_backtest.domain.boards import Board, Exchange


@dataclass(frozen=True)
class StampDuty:
    effective: date
    buy_rate: float
    sell_rate: float


@dataclass(frozen=True)
class TransferFee:
    """Fee paid to CSDC (中国结算) on both sides: ``max(shares * per_share, minimum) + value * rate``."""

    effective: date
    exchange: Exchange
    rate: float
    per_share: float
    minimum: float


@dataclass(frozen=True)
class PriceLimit:
    effective: date
    board: Board
    pct: float
    st_pct: float


@dataclass(frozen=True)
class NewListing:
    """First trading days of a new listing: ``no_limit_days`` days with no limit, or a first-day cap relative to the
    issue price (Tushare's ``pre_close`` on the listing day) of ``+first_day_up`` / ``-first_day_down``."""

    effective: date
    board: Board
    no_limit_days: int
    first_day_up: float = math.nan
    first_day_down: float = math.nan


@dataclass(frozen=True)
class LotRule:
    """A buy is ``minimum + k * step`` shares; a sell must be too unless it clears the whole position (odd lots)."""

    effective: date
    board: Board
    minimum: int
    step: int


@dataclass(frozen=True)
class DividendTax:
    """Individual income tax on cash dividends. ``by_holding`` regimes tax on sale by the holding period
    (≤ 1 month, ≤ 1 year, longer); flat regimes withhold ``up_to_month`` on the pay date."""

    effective: date
    by_holding: bool
    up_to_month: float
    up_to_year: float
    over_year: float


STAMP_DUTY: tuple[StampDuty, ...] = (
    # 国家税务局: Shanghai joins Shenzhen in levying 0.3% on both sides from 1991-10-10.
    StampDuty(date(1991, 10, 10), 0.003, 0.003),
    # 国务院 / 财政部: raised to 0.5% both sides, 1997-05-12.
    StampDuty(date(1997, 5, 12), 0.005, 0.005),
    # 财政部: cut to 0.4% both sides, 1998-06-12.
    StampDuty(date(1998, 6, 12), 0.004, 0.004),
    # 财政部: cut to 0.2% both sides, 2001-11-16.
    StampDuty(date(2001, 11, 16), 0.002, 0.002),
    # 财政部: cut to 0.1% both sides, 2005-01-24.
    StampDuty(date(2005, 1, 24), 0.001, 0.001),
    # 财政部 "5·30": raised to 0.3% both sides, 2007-05-30.
    StampDuty(date(2007, 5, 30), 0.003, 0.003),
    # 财政部: cut to 0.1% both sides, 2008-04-24.
    StampDuty(date(2008, 4, 24), 0.001, 0.001),
    # 财政部 2008-09-18 announcement: sellers only, 0.1%, from 2008-09-19.
    StampDuty(date(2008, 9, 19), 0.0, 0.001),
    # 财政部 税务总局公告2023年第39号: halved to 0.05% (sell only) from 2023-08-28.
    StampDuty(date(2023, 8, 28), 0.0, 0.0005),
)

TRANSFER_FEE: tuple[TransferFee, ...] = (
    # SSE / CSDC Shanghai: 1‰ of par (1 CNY face value) = 1 CNY per 1,000 shares, minimum 1 CNY.
    TransferFee(date(1991, 10, 10), Exchange.SSE, 0.0, 0.001, 1.0),
    # SZSE charged investors no separate transfer fee before the 2015 unification.
    TransferFee(date(1991, 10, 10), Exchange.SZSE, 0.0, 0.0, 0.0),
    # CSDC 2012: SSE A-share transfer fee cut by 40% to 0.6 CNY per 1,000 shares (minimum 1 CNY). The 0.6 rate is
    # the one in force until 2015-08-01; the 2012-06-01 date (and the 1‰-of-par rate before it) are not yet checked
    # against the CSDC notice itself.
    TransferFee(date(2012, 6, 1), Exchange.SSE, 0.0, 0.0006, 1.0),
    # CSDC 2015-07 notice: 0.02‰ of traded value on both sides, both exchanges, from 2015-08-01.
    TransferFee(date(2015, 8, 1), Exchange.SSE, 0.00002, 0.0, 0.0),
    TransferFee(date(2015, 8, 1), Exchange.SZSE, 0.00002, 0.0, 0.0),
    # BSE opened 2021-11-15; assumed to follow CSDC's A-share rate of the day (0.02‰).
    TransferFee(date(2021, 11, 15), Exchange.BSE, 0.00002, 0.0, 0.0),
    # CSDC 2022-04 notice: halved to 0.01‰ from 2022-04-29.
    TransferFee(date(2022, 4, 29), Exchange.SSE, 0.00001, 0.0, 0.0),
    TransferFee(date(2022, 4, 29), Exchange.SZSE, 0.00001, 0.0, 0.0),
    TransferFee(date(2022, 4, 29), Exchange.BSE, 0.00001, 0.0, 0.0),
)

PRICE_LIMITS: tuple[PriceLimit, ...] = (
    # No daily limit before SSE/SZSE introduced the ±10% band.
    PriceLimit(date(1991, 10, 10), Board.MAIN, math.inf, math.inf),
    # SSE/SZSE notices of 1996-12-13: ±10% from 1996-12-16; ST (from 1998-04-22) ±5%.
    PriceLimit(date(1996, 12, 16), Board.MAIN, 0.10, 0.05),
    # SZSE ChiNext opened 2009-10-30 with the main-board limits.
    PriceLimit(date(2009, 10, 30), Board.CHINEXT, 0.10, 0.05),
    # SSE STAR Market trading rules: ±20% (ST too), first trades 2019-07-22.
    PriceLimit(date(2019, 7, 22), Board.STAR, 0.20, 0.20),
    # SZSE ChiNext registration reform: ±20% (ST too) from 2020-08-24.
    PriceLimit(date(2020, 8, 24), Board.CHINEXT, 0.20, 0.20),
    # BSE trading rules: ±30% from its opening on 2021-11-15.
    PriceLimit(date(2021, 11, 15), Board.BSE, 0.30, 0.30),
    # Not yet in the table: SSE/SZSE's 2025-06-27 consultation draft (征求意见稿) to widen main-board risk-warning
    # (ST) stocks to ±10%; add it with its confirmed effective date. Until then main-board ST stays ±5%.
)

NEW_LISTINGS: tuple[NewListing, ...] = (
    # First trading day without a price limit.
    NewListing(date(1991, 10, 10), Board.MAIN, 1),
    NewListing(date(2009, 10, 30), Board.CHINEXT, 1),
    # SSE/SZSE 2013-12 notices on new-listing trading (IPO reform): first-day orders within 144% / 64% of the issue
    # price ("44%"), applied here from 2014-01-01, before the reform's first listings (2014-01-17).
    NewListing(date(2014, 1, 1), Board.MAIN, 0, 0.44, 0.36),
    NewListing(date(2014, 1, 1), Board.CHINEXT, 0, 0.44, 0.36),
    # SSE STAR Market trading rules: no limit for the first 5 trading days.
    NewListing(date(2019, 7, 22), Board.STAR, 5),
    # ChiNext registration reform: no limit for the first 5 trading days from 2020-08-24.
    NewListing(date(2020, 8, 24), Board.CHINEXT, 5),
    # BSE trading rules: no limit on the first trading day.
    NewListing(date(2021, 11, 15), Board.BSE, 1),
    # Main-board registration reform (CSRC, 2023-02-17; first listings 2023-04-10): first 5 days no limit.
    NewListing(date(2023, 4, 10), Board.MAIN, 5),
)

LOTS: tuple[LotRule, ...] = (
    # SSE/SZSE trading rules: buys in board lots of 100 shares.
    LotRule(date(1991, 10, 10), Board.MAIN, 100, 100),
    LotRule(date(2009, 10, 30), Board.CHINEXT, 100, 100),
    # SSE STAR Market trading rules art. 3.3: at least 200 shares, then any multiple of 1 share.
    LotRule(date(2019, 7, 22), Board.STAR, 200, 1),
    # BSE trading rules: at least 100 shares, then steps of 1 share.
    LotRule(date(2021, 11, 15), Board.BSE, 100, 1),
)

DIVIDEND_TAX: tuple[DividendTax, ...] = (
    # 个人所得税法: 20% on dividends.
    DividendTax(date(1991, 10, 10), False, 0.20, 0.20, 0.20),
    # 财税[2005]102号: half of dividends taxable (10% effective) from 2005-06-13.
    DividendTax(date(2005, 6, 13), False, 0.10, 0.10, 0.10),
    # 财税[2012]85号: by holding period, ≤1 month 20%, ≤1 year 10%, longer 5%, from 2013-01-01.
    DividendTax(date(2013, 1, 1), True, 0.20, 0.10, 0.05),
    # 财税[2015]101号: holdings over one year exempt from 2015-09-08.
    DividendTax(date(2015, 9, 8), True, 0.20, 0.10, 0.0),
)
