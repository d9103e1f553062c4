"""A deterministic sample A-share market: the default source when no Tushare token is set.

Same seed, same market. What it has, so demos and tests exercise the real rules:

* SSE-like trade days (weekdays minus New Year, Spring Festival, Qingming, Labour Day and
  National Day holidays) ending at a fixed date;
* random-walk prices rounded to the cent, clipped at the daily limit (±10%, ±20% for
  300xxx/688xxx), so some days close at limit-up/limit-down;
* ex-rights events (cash dividends, bonus shares): pre_close[t] is the ex-rights price and
  adj_factor jumps so that close[t-1] / pre_close[t] == adj_factor[t] / adj_factor[t-1];
* suspensions (runs of missing days, pre_close = last traded close afterwards), listings
  inside the window, a few delisted stocks (list_status D) and one paused (P);
* daily_basic (turnover, share counts, market values, PE/PB) and two indexes built from the
  stocks, 000001.SH (SSE stocks) and 000300.SH (all stocks), cap-weighted.

Arrays only (numpy); `adapters.sample_source` turns them into Tushare-shaped frames.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

DEFAULT_END = dt.date(2024, 12, 31)
DEFAULT_SEED = 20_240_101

_LUNAR_NEW_YEAR = {
    2010: (2, 14), 2011: (2, 3), 2012: (1, 23), 2013: (2, 10), 2014: (1, 31), 2015: (2, 19),
    2016: (2, 8), 2017: (1, 28), 2018: (2, 16), 2019: (2, 5), 2020: (1, 25), 2021: (2, 12),
    2022: (2, 1), 2023: (1, 22), 2024: (2, 10), 2025: (1, 29), 2026: (2, 17), 2027: (2, 6),
    2028: (1, 26), 2029: (2, 13), 2030: (2, 3),
}  # fmt: skip

INDEXES = {"000001.SH": ("上证指数", 3000.0), "000300.SH": ("沪深300", 4000.0)}
_INDUSTRIES = ("银行", "医药", "电子", "食品饮料", "汽车", "化工", "机械", "软件", "房地产", "电力")
_AREAS = ("北京", "上海", "深圳", "浙江", "江苏", "广东", "四川", "山东")
# (exchange suffix, first code, market, exchange, price limit)
_BOARDS = (
    (".SH", 600000, "主板", "SSE", 0.10),
    (".SZ", 1, "主板", "SZSE", 0.10),
    (".SZ", 300001, "创业板", "SZSE", 0.20),
    (".SH", 688001, "科创板", "SSE", 0.20),
)
_BOARD_WEIGHTS = (0.35, 0.30, 0.20, 0.15)


def is_holiday(day: dt.date) -> bool:
    """Approximate SSE holidays (weekends excluded separately)."""
    y = day.year
    if (day.month, day.day) == (1, 1):
        return True
    month, dom = _LUNAR_NEW_YEAR.get(y, (2, 5))
    new_year = dt.date(y, month, dom)
    if new_year - dt.timedelta(days=1) <= day <= new_year + dt.timedelta(days=6):
        return True
    if day.month == 4 and day.day in (4, 5):
        return True
    if day.month == 5 and day.day <= 3:
        return True
    return day.month == 10 and day.day <= 7


def sse_like_open_days(start: dt.date, end: dt.date) -> list[dt.date]:
    days = []
    day = start
    while day <= end:
        if day.weekday() < 5 and not is_holiday(day):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


@dataclass(frozen=True, slots=True)
class SampleSpec:
    """`days` (open days) wins over `years` when given."""

    stocks: int = 300
    years: float = 5.0
    end: dt.date = DEFAULT_END
    seed: int = DEFAULT_SEED
    days: int | None = None

    def __post_init__(self) -> None:
        if self.stocks < 1:
            raise ValueError("a sample market needs at least one stock")
        if self.days is not None and self.days < 2:
            raise ValueError("a sample market needs at least two trade days")
        if self.days is None and self.years <= 0:
            raise ValueError("years must be positive")

    def open_days(self) -> list[dt.date]:
        if self.days is not None:
            # ~245 open days a year; take a generous calendar span, keep the last `days`.
            span = int(self.days * 366 / 230) + 30
            return sse_like_open_days(self.end - dt.timedelta(days=span), self.end)[-self.days :]
        start = self.end - dt.timedelta(days=round(self.years * 365.25) - 1)
        return sse_like_open_days(start, self.end)


@dataclass(frozen=True, slots=True)
class SampleStock:
    ts_code: str
    symbol: str
    name: str
    area: str
    industry: str
    market: str
    exchange: str
    list_status: str
    list_date: dt.date
    delist_date: dt.date | None
    limit: float


@dataclass
class SampleMarket:
    """Long-form columns sorted by (trade_date, ts_code); dates are datetime64[D]."""

    spec: SampleSpec
    open_days: list[dt.date]
    stocks: list[SampleStock]
    daily: dict[str, np.ndarray]
    adj_factor: dict[str, np.ndarray]
    daily_basic: dict[str, np.ndarray]
    index_daily: dict[str, np.ndarray]
    ex_rights: list[tuple[str, dt.date]] = field(default_factory=list)
    suspended: dict[str, list[dt.date]] = field(default_factory=dict)
    distributions: list[tuple[str, dt.date, float, float]] = field(default_factory=list)
    """(ts_code, ex_date, cash dividend per share before tax, bonus shares per share) of each ex-rights day."""

    @property
    def start(self) -> dt.date:
        return self.open_days[0]

    @property
    def end(self) -> dt.date:
        return self.open_days[-1]


def round2(values: np.ndarray) -> np.ndarray:
    """Half-up to the cent, as exchanges round limit prices (np.round is half-even)."""
    return np.floor(values * 100.0 + 0.5 + 1e-9) / 100.0


def generate(spec: SampleSpec = SampleSpec()) -> SampleMarket:
    rng = np.random.default_rng(spec.seed)
    days = spec.open_days()
    n, t_count = spec.stocks, len(days)

    # --- universe ---------------------------------------------------------------------------
    boards = rng.choice(len(_BOARDS), size=n, p=_BOARD_WEIGHTS)
    counters = [0] * len(_BOARDS)
    stocks_meta = []
    for i in range(n):
        suffix, first, market, exchange, limit = _BOARDS[boards[i]]
        number = first + counters[boards[i]]
        counters[boards[i]] += 1
        stocks_meta.append((f"{number:06d}", suffix, market, exchange, limit))
    limits = np.array([meta[4] for meta in stocks_meta])

    first_idx = np.zeros(n, dtype=int)
    ipo = rng.random(n) < 0.12
    ipo[0] = False
    first_idx[ipo] = rng.integers(1, max(2, int(t_count * 0.8)), size=ipo.sum())
    last_idx = np.full(n, t_count - 1)
    status = np.array(["L"] * n, dtype=object)
    delist_dates: list[dt.date | None] = [None] * n
    candidates = [i for i in rng.permutation(n) if not ipo[i]]
    if n >= 5 and t_count >= 10:
        paused = candidates.pop()
        last_idx[paused] = int(t_count * 0.7)
        status[paused] = "P"
        delisted_count = max(1, n // 50) if n >= 10 else 0
        for _ in range(delisted_count):
            i = candidates.pop()
            last_idx[i] = int(rng.integers(int(t_count * 0.4), int(t_count * 0.9)))
            status[i] = "D"
            delist_dates[i] = days[last_idx[i] + 1]  # last_idx < t_count - 1: delisted inside the window
    list_dates = []
    for i in range(n):
        if ipo[i]:
            list_dates.append(days[first_idx[i]])
        else:
            list_dates.append(days[0] - dt.timedelta(days=int(rng.integers(30, 9000))))

    # --- events -----------------------------------------------------------------------------
    live = (np.arange(t_count)[None, :] >= first_idx[:, None]) & (np.arange(t_count)[None, :] <= last_idx[:, None])
    suspended = np.zeros((n, t_count), dtype=bool)
    suspend_draw = rng.random(n) < 0.08
    if n >= 5 and not suspend_draw.any():
        suspend_draw[int(rng.integers(0, n))] = True
    for i in np.flatnonzero(suspend_draw).tolist():
        for _ in range(int(rng.integers(1, 3))):
            length = int(rng.integers(1, 16))
            lo, hi = first_idx[i] + 2, last_idx[i] - length - 1
            if hi <= lo:
                continue
            begin = int(rng.integers(lo, hi))
            suspended[i, begin : begin + length] = True
    traded = live & ~suspended

    years = max(t_count / 245.0, 0.1)
    ex_day = np.zeros((n, t_count), dtype=bool)
    for i in range(n):
        count = int(rng.poisson(0.8 * years))
        candidates_t = np.flatnonzero(traded[i])
        candidates_t = candidates_t[candidates_t > first_idx[i]]
        if count and len(candidates_t):
            ex_day[i, rng.choice(candidates_t, size=min(count, len(candidates_t)), replace=False)] = True
    if not ex_day.any():
        i = int(np.flatnonzero(~ipo)[0])
        ex_day[i, np.flatnonzero(traded[i])[len(np.flatnonzero(traded[i])) // 2]] = True

    # --- prices -----------------------------------------------------------------------------
    beta = rng.uniform(0.6, 1.4, n)
    sigma = rng.uniform(0.012, 0.03, n) * np.where(limits > 0.15, 1.4, 1.0)
    last_close = round2(np.exp(rng.uniform(np.log(3.0), np.log(80.0), n)))
    adj = np.round(np.where(ipo, 1.0, rng.uniform(1.0, 6.0, n)), 6)
    total_share = np.round(np.exp(rng.uniform(np.log(5e3), np.log(5e6), n)), 2)  # 万股
    float_share = np.round(total_share * rng.uniform(0.3, 1.0, n), 2)
    eps = rng.normal(0.4, 0.6, n)
    bps = np.abs(rng.normal(5.0, 2.5, n)) + 0.5
    base_turnover = np.exp(rng.uniform(np.log(0.3), np.log(4.0), n))

    shape = (n, t_count)
    out = {name: np.full(shape, np.nan) for name in (
        "open", "high", "low", "close", "pre_close", "vol", "amount", "adj_factor",
        "turnover_rate", "total_share", "float_share", "volume_ratio",
    )}  # fmt: skip
    ex_rights: list[tuple[str, dt.date]] = []
    distributions: list[tuple[str, dt.date, float, float]] = []
    codes = [f"{meta[0]}{meta[1]}" for meta in stocks_meta]
    for t in range(t_count):
        market_ret = rng.normal(0.0003, 0.011)
        noise = rng.normal(0.0, 1.0, n) * sigma
        jumps = rng.random(n) < 0.015
        noise[jumps] += rng.normal(0.0, 0.08, jumps.sum())
        ret = beta * market_ret + noise
        pre_close = last_close.copy()
        todays_ex = ex_day[:, t] & traded[:, t]
        if todays_ex.any():
            dividend = pre_close[todays_ex] * rng.uniform(0.005, 0.04, todays_ex.sum())
            bonus = np.where(rng.random(todays_ex.sum()) < 0.25, rng.choice([0.1, 0.2, 0.3, 0.5], todays_ex.sum()), 0.0)
            ex_price = round2((pre_close[todays_ex] - dividend) / (1.0 + bonus))
            ex_price = np.maximum(ex_price, 0.01)
            adj[todays_ex] = np.round(adj[todays_ex] * pre_close[todays_ex] / ex_price, 6)
            total_share[todays_ex] = np.round(total_share[todays_ex] * (1.0 + bonus), 2)
            float_share[todays_ex] = np.round(float_share[todays_ex] * (1.0 + bonus), 2)
            pre_close[todays_ex] = ex_price
            ex_rights.extend((codes[i], days[t]) for i in np.flatnonzero(todays_ex))
            paid = zip(np.flatnonzero(todays_ex).tolist(), dividend.tolist(), bonus.tolist(), strict=True)
            distributions.extend((codes[i], days[t], cash, shares) for i, cash, shares in paid)
        # Newly listed stocks open around their issue price.
        up = round2(pre_close * (1.0 + limits))
        down = np.maximum(round2(pre_close * (1.0 - limits)), 0.01)
        close = np.clip(round2(pre_close * (1.0 + ret)), down, up)
        open_ = np.clip(round2(pre_close * (1.0 + 0.3 * ret + rng.normal(0.0, 0.006, n))), down, up)
        high = np.clip(round2(np.fmax(open_, close) * (1.0 + np.abs(rng.normal(0.0, 0.008, n)))), None, up)
        low = np.clip(round2(np.fmin(open_, close) * (1.0 - np.abs(rng.normal(0.0, 0.008, n)))), down, None)
        high = np.fmax(high, np.fmax(open_, close))
        low = np.fmin(low, np.fmin(open_, close))
        turnover = base_turnover * np.exp(rng.normal(0.0, 0.35, n)) * (1.0 + 8.0 * np.abs(ret))
        vol = np.round(turnover * float_share, 2)  # 手: vol*100 shares / (float_share*1e4) * 100 = %
        mask = traded[:, t]
        for name, values in (
            ("open", open_), ("high", high), ("low", low), ("close", close), ("pre_close", pre_close),
            ("vol", vol), ("adj_factor", adj), ("total_share", total_share), ("float_share", float_share),
        ):  # fmt: skip
            out[name][mask, t] = values[mask]
        out["amount"][mask, t] = np.round(vol[mask] * (open_ + high + low + close)[mask] / 4.0 * 0.1, 3)
        out["turnover_rate"][mask, t] = np.round(vol[mask] / float_share[mask], 4)
        out["volume_ratio"][mask, t] = np.round(np.exp(rng.normal(0.0, 0.3, mask.sum())), 2)
        last_close = np.where(mask, close, last_close)

    # --- long form ----------------------------------------------------------------------------
    day_array = np.array(days, dtype="datetime64[D]")
    ti, si = np.nonzero(traded.T)  # rows ordered by day, then stock
    code_array = np.array(codes)[si]
    order = np.lexsort((code_array, ti))
    ti, si, code_array = ti[order], si[order], code_array[order]
    dates = day_array[ti]

    def pick(name: str) -> np.ndarray:
        return out[name][si, ti]

    close_l, pre_l = pick("close"), pick("pre_close")
    change = np.round(close_l - pre_l, 2)
    daily = {
        "ts_code": code_array, "trade_date": dates, "open": pick("open"), "high": pick("high"),
        "low": pick("low"), "close": close_l, "pre_close": pre_l, "change": change,
        "pct_chg": np.round(change / pre_l * 100.0, 4), "vol": pick("vol"), "amount": pick("amount"),
    }  # fmt: skip
    adj_factor = {"ts_code": code_array, "trade_date": dates, "adj_factor": pick("adj_factor")}
    total_mv = np.round(close_l * pick("total_share"), 4)
    with np.errstate(divide="ignore"):
        pe = np.where(eps[si] > 0, np.round(close_l / eps[si], 4), np.nan)
    daily_basic = {
        "ts_code": code_array, "trade_date": dates, "turnover_rate": pick("turnover_rate"),
        "volume_ratio": pick("volume_ratio"), "pe": pe, "pb": np.round(close_l / bps[si], 4),
        "total_share": pick("total_share"), "float_share": pick("float_share"),
        "total_mv": total_mv, "circ_mv": np.round(close_l * pick("float_share"), 4),
    }  # fmt: skip

    index_daily = _indexes(out, traded, codes, day_array)
    stocks = []
    for i, (number, _suffix, market, exchange, limit) in enumerate(stocks_meta):
        stocks.append(
            SampleStock(
                ts_code=codes[i],
                symbol=number,
                name=f"样本{market[:1]}{i:04d}",
                area=_AREAS[i % len(_AREAS)],
                industry=_INDUSTRIES[int(rng.integers(0, len(_INDUSTRIES)))],
                market=market,
                exchange=exchange,
                list_status=str(status[i]),
                list_date=list_dates[i],
                delist_date=delist_dates[i],
                limit=limit,
            )
        )
    suspended_days = {
        codes[i]: [days[t] for t in np.flatnonzero(suspended[i] & live[i])] for i in range(n) if (suspended[i] & live[i]).any()
    }
    return SampleMarket(
        spec=spec,
        open_days=days,
        stocks=stocks,
        daily=daily,
        adj_factor=adj_factor,
        daily_basic=daily_basic,
        index_daily=index_daily,
        ex_rights=sorted(ex_rights, key=lambda item: (item[1], item[0])),
        suspended=suspended_days,
        distributions=sorted(distributions, key=lambda item: (item[1], item[0])),
    )


def _indexes(out: dict[str, np.ndarray], traded: np.ndarray, codes: list[str], day_array: np.ndarray) -> dict[str, np.ndarray]:
    """Cap-weighted (by the day's pre-close market value) relative moves of the members."""
    is_sh = np.array([code.endswith(".SH") for code in codes])
    columns: dict[str, list[object]] = {name: [] for name in (
        "ts_code", "trade_date", "open", "high", "low", "close", "pre_close", "change", "pct_chg", "vol", "amount",
    )}  # fmt: skip
    weight_base = np.nan_to_num(out["pre_close"] * out["total_share"])
    for ts_code, (_, base) in INDEXES.items():
        members = is_sh if ts_code == "000001.SH" else np.ones(len(codes), dtype=bool)
        level = base
        for t in range(len(day_array)):
            mask = members & traded[:, t]
            if not mask.any():
                continue
            weights = weight_base[mask, t] / weight_base[mask, t].sum()
            pre = out["pre_close"][mask, t]

            def rel(
                name: str, weights: np.ndarray = weights, mask: np.ndarray = mask, t: int = t, pre: np.ndarray = pre
            ) -> float:
                return float(np.sum(weights * out[name][mask, t] / pre))

            pre_level = level
            close = round(pre_level * rel("close"), 4)
            open_ = round(pre_level * rel("open"), 4)
            high = max(round(pre_level * rel("high"), 4), open_, close)
            low = min(round(pre_level * rel("low"), 4), open_, close)
            for name, value in (
                ("ts_code", ts_code), ("trade_date", day_array[t]), ("open", open_), ("high", high), ("low", low),
                ("close", close), ("pre_close", round(pre_level, 4)), ("change", round(close - pre_level, 4)),
                ("pct_chg", round((close / pre_level - 1.0) * 100.0, 4)),
                ("vol", float(np.sum(out["vol"][mask, t]))), ("amount", round(float(np.sum(out["amount"][mask, t])), 3)),
            ):  # fmt: skip
                columns[name].append(value)
            level = close
    result = {name: np.array(values) for name, values in columns.items()}
    result["trade_date"] = np.array(columns["trade_date"], dtype="datetime64[D]")
    order = np.lexsort((result["ts_code"], result["trade_date"])) if len(result["ts_code"]) else np.array([], dtype=int)
    return {name: values[order] for name, values in result.items()}
