"""MarketQueries over an in-memory repository: validation, factor gaps, qfq base, panel codec."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from zquant.common.v1 import panel_pb2
from zquant.marketdata.v1 import market_data_pb2
from zquant_kit.errors import FailedPrecondition, InvalidArgument, NotFound
from zquant_kit.grpc.panel_codec import decode_panel
from zquant_marketdata.adapters.grpc.panel_codec import encode_panel
from zquant_marketdata.application.queries import BarsQuery, MarketQueries, PanelQuery
from zquant_marketdata.domain.bar_rows import BarRows
from zquant_marketdata.domain.panel import runs_from_rows

pytestmark = pytest.mark.unit


class FakeRepo:
    """Rows as {dataset: [(code, 'YYYY-MM-DD', {col: value})]}."""

    def __init__(self, rows, calendar=()):
        self.rows = rows
        self.calendar = np.array(calendar, dtype="datetime64[D]")
        self.lookups = []

    def _select(self, dataset, codes, start, end, columns):
        picked = [r for r in self.rows.get(dataset, [])
                  if (codes is None or r[0] in codes) and start <= dt.date.fromisoformat(r[1]) <= end]
        if not picked:
            return BarRows.empty(columns)
        codes_sorted = sorted({r[0] for r in picked})
        return BarRows(
            codes=codes_sorted,
            code_index=np.array([codes_sorted.index(r[0]) for r in picked]),
            days=np.array([r[1] for r in picked], dtype="datetime64[D]"),
            values={c: np.array([r[2].get(c, np.nan) for r in picked], dtype=float) for c in columns},
        )

    async def unknown_codes(self, dataset, codes):
        known = {r[0] for rows in self.rows.values() for r in rows}
        return [c for c in codes if c not in known]

    async def count_rows(self, dataset, codes, start, end):
        return self._select(dataset, codes, start, end, []).size

    async def read_rows(self, dataset, codes, start, end, columns):
        return self._select(dataset, codes, start, end, columns)

    async def read_runs(self, dataset, codes, start, end, columns):
        rows = self._select(dataset, codes, start, end, columns)
        return runs_from_rows(rows.code_index, rows.codes, rows.days, rows.values)

    async def count_stocks(self):
        return len({r[0] for rows in self.rows.values() for r in rows})

    async def open_days(self, exchange, start, end):
        return self.calendar[(self.calendar >= np.datetime64(start)) & (self.calendar <= np.datetime64(end))]

    async def factors_on_or_before(self, codes, day):
        self.lookups.append((tuple(codes), day))
        latest = {}
        for r in self.rows.get("adj_factor", []):
            if r[0] in codes and dt.date.fromisoformat(r[1]) <= day:
                if r[0] not in latest or r[1] > latest[r[0]][1]:
                    latest[r[0]] = r
        self_rows = list(latest.values())
        return FakeRepo({"adj_factor": self_rows})._select(
            "adj_factor", None, dt.date.min, dt.date.max, ["adj_factor"])


def bar(code, day, close, pre_close):
    return (code, day, {"open": close, "high": close, "low": close, "close": close, "pre_close": pre_close,
                        "change": close - pre_close, "pct_chg": (close / pre_close - 1) * 100, "vol": 1.0})


def factor(code, day, value):
    return (code, day, {"adj_factor": value})


@pytest.fixture
def repo():
    return FakeRepo(
        {
            "daily": [bar("A", "2023-01-03", 10.0, 9.0), bar("A", "2023-01-04", 5.0, 5.0), bar("A", "2023-01-05", 6.0, 5.0),
                      bar("B", "2023-01-04", 20.0, 20.0), bar("B", "2023-01-05", 21.0, 20.0)],
            "adj_factor": [factor("A", "2022-12-30", 1.0), factor("A", "2023-01-04", 2.0),
                           factor("A", "2023-01-09", 4.0), factor("B", "2023-01-05", 3.0)],
        },
        calendar=["2023-01-03", "2023-01-04", "2023-01-05"],
    )


async def test_bars_fill_a_leading_gap_from_before_the_range(repo):
    rows = await MarketQueries(repo).bars(BarsQuery(["a"], "20230103", "20230105", adjust="hfq"))
    np.testing.assert_array_equal(rows.values["adj_factor"], [1.0, 2.0, 2.0])
    np.testing.assert_array_equal(rows.values["close"], [10.0, 10.0, 12.0])
    assert repo.lookups == [(("A",), dt.date(2023, 1, 2))]


async def test_qfq_base_default_is_range_end_and_can_lie_beyond(repo):
    queries = MarketQueries(repo)
    rows = await queries.bars(BarsQuery(["A"], "20230103", "20230105", adjust="qfq"))
    np.testing.assert_allclose(rows.values["close"], [5.0, 5.0, 6.0])
    rows = await queries.bars(BarsQuery(["A"], "20230103", "20230105", adjust="qfq", adjust_base_date="20230110"))
    np.testing.assert_allclose(rows.values["close"], [2.5, 2.5, 3.0])


async def test_bar_without_any_factor_fails_adjusted_but_not_raw(repo):
    queries = MarketQueries(repo)
    with pytest.raises(FailedPrecondition, match="B"):
        await queries.bars(BarsQuery(["A", "B"], "20230103", "20230104", adjust="qfq"))
    raw = await queries.bars(BarsQuery(["B"], "20230104", "20230104"))
    assert np.isnan(raw.values["adj_factor"]).all()
    with pytest.raises(FailedPrecondition, match="base date 20230103"):
        await queries.bars(BarsQuery(["B"], "20230105", "20230105", adjust="qfq", adjust_base_date="20230103"))


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (BarsQuery([], "20230103", "20230105"), "ts_codes"),
        (BarsQuery([" "], "20230103", "20230105"), "ts_codes[0]"),
        (BarsQuery(["A"], "", "20230105"), "start_date"),
        (BarsQuery(["A"], "20230103", "2023015"), "end_date"),
        (BarsQuery(["A"], "20230106", "20230105"), "start_date"),
        (BarsQuery(["A"], "20230103", "20230105", adjust="xfq"), "adjust"),
        (BarsQuery(["A"], "20230103", "20230105", adjust_base_date="20231301"), "adjust_base_date"),
    ],
)
async def test_bars_validation(repo, query, field):
    with pytest.raises(InvalidArgument) as caught:
        await MarketQueries(repo).bars(query)
    assert caught.value.field == field


async def test_bars_cap_and_unknown_codes(repo):
    with pytest.raises(InvalidArgument, match="exceed"):
        await MarketQueries(repo, max_bars=4).bars(BarsQuery(["A", "B"], "20230103", "20230105"))
    assert (await MarketQueries(repo, max_bars=5).bars(BarsQuery(["A", "B"], "20230103", "20230105"))).size == 5
    with pytest.raises(NotFound) as caught:
        await MarketQueries(repo).bars(BarsQuery(["A", "Z"], "20230103", "20230105"))
    assert caught.value.resource_name == "Z"


@pytest.mark.parametrize("offload", [1, 10**9])
async def test_panel(repo, offload):
    queries = MarketQueries(repo, offload_rows=offload)
    with pytest.raises(FailedPrecondition, match="B"):
        await queries.panel(PanelQuery([], "20230103", "20230105", fields=["close"], adjust="hfq"))
    panel = await queries.panel(
        PanelQuery(["A"], "20230103", "20230106", fields=["close", "adj_factor", "pct_chg"], adjust="hfq")
    )
    np.testing.assert_array_equal(panel.days, np.array(["2023-01-03", "2023-01-04", "2023-01-05"], "datetime64[D]"))
    np.testing.assert_array_equal(panel.values["close"], [[10.0, 10.0, 12.0]])
    np.testing.assert_array_equal(panel.values["adj_factor"], [[1.0, 2.0, 2.0]])
    np.testing.assert_allclose(panel.values["pct_chg"], [[(10 / 9 - 1) * 100, 0.0, 20.0]])
    raw = await queries.panel(PanelQuery([], "20230103", "20230105", fields=["close"]))
    np.testing.assert_array_equal(raw.values["close"], [[10.0, 5.0, 6.0], [np.nan, 20.0, 21.0]])

    messages = list(encode_panel(raw.codes, raw.days, raw.fields, raw.values, codes_per_chunk=1))
    assert [m.WhichOneof("part") for m in messages] == ["header", "chunk", "chunk"]
    codes, days, values = decode_panel(messages)
    assert codes == ["A", "B"] and (days == raw.days).all()
    np.testing.assert_array_equal(values["close"], raw.values["close"])
    with pytest.raises(ValueError, match="missing"):
        decode_panel(messages[:-1])
    with pytest.raises(InvalidArgument) as caught:
        await queries.panel(PanelQuery([], "20230103", "20230105", fields=["close", "close"]))
    assert caught.value.field == "fields"
    with pytest.raises(InvalidArgument, match="exceed"):
        await MarketQueries(repo, max_panel_values=5).panel(PanelQuery([], "20230103", "20230105", fields=["close"]))


async def test_panel_of_the_whole_market_is_bounded_before_reading(repo):
    class Counting(FakeRepo):
        async def count_stocks(self):
            return 2

        async def read_rows(self, *args):
            raise AssertionError("read before the size check")

        read_runs = read_rows

    counting = Counting(repo.rows, calendar=repo.calendar)
    with pytest.raises(InvalidArgument, match="narrow the universe") as caught:
        # 2 stocks × 3 weekdays × 1 field = 6 > 5
        await MarketQueries(counting, max_panel_values=5).panel(PanelQuery([], "20230103", "20230105", fields=["close"]))
    assert caught.value.field == "ts_codes"


def test_panel_decoder_rejects_a_chunk_that_does_not_fit():
    header = market_data_pb2.GetPanelResponse(header=panel_pb2.PanelHeader(
        ts_codes=["A"], trade_dates=["20230103"], fields=["close"], encoding="float64-le"))
    chunk = market_data_pb2.GetPanelResponse(chunk=panel_pb2.PanelChunk(
        field="close", code_offset=0, code_count=1, values=np.zeros(2).tobytes()))
    with pytest.raises(ValueError, match="does not fit"):
        decode_panel([header, chunk])
