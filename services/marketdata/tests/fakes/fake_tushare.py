"""A local stand-in for Tushare Pro's HTTP API, for tests.

It speaks the real envelope, so the real SDK (and through it the real
adapter) can be pointed at it: POST JSON `{api_name, token, params, fields}`
-> `{"code": 0, "msg": "", "data": {"fields": [...], "items": [[...], ...]}}`,
rows newest-first as Tushare sends them. Errors come back the way Tushare
sends them (HTTP 200 with a non-zero code) and can be injected on demand.

Served APIs: one table per API name (`daily`, `adj_factor`, `daily_basic`,
`stock_basic`, `index_daily`, `stk_limit`, or any other name given in memory), plus
`trade_cal`, derived from the union of trade dates in the tables. The rule datasets
(`suspend_d`, `namechange`, `dividend`, `index_weight`) are filtered as Tushare does
(`adapters.rule_rows`): start_date / end_date bound e.g. namechange's ann_date.
"""

from __future__ import annotations

import bisect
import json
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pandas as pd

from zquant_marketdata.adapters.csv_source import read_tables
from zquant_marketdata.adapters.rule_rows import select_rows
from zquant_marketdata.domain.rule_datasets import RECORD_DATASETS

TRADE_CAL_FIELDS = ["exchange", "cal_date", "is_open", "pretrade_date"]

_PERMISSION_PAGE = "权限的具体详情访问：https://tushare.pro/document/1?doc_id=108。"


class Failure(Enum):
    RATE_LIMIT = "rate_limit"
    PERMISSION_DENIED = "permission_denied"
    BAD_TOKEN = "bad_token"
    HTTP_500 = "http_500"


_ERROR_ANSWERS: dict[Failure, dict[str, Any]] = {
    Failure.RATE_LIMIT: {"code": 40203, "msg": f"抱歉，您每分钟最多访问该接口200次，{_PERMISSION_PAGE}"},
    Failure.PERMISSION_DENIED: {"code": -2002, "msg": f"抱歉，您没有接口访问权限，{_PERMISSION_PAGE}"},
    Failure.BAD_TOKEN: {"code": 40101, "msg": "您的token不对，请确认。"},
}


@dataclass(frozen=True)
class RecordedCall:
    """One request as received; `params` omits the SDK's own `ts_type_name` echo of its URL."""

    api_name: str
    params: dict[str, Any]
    fields: str


def load_tables(data_dir: Path) -> dict[str, pd.DataFrame]:
    """Tables keyed by API name from a directory laid out like shared/data; absent files are skipped."""
    return read_tables(data_dir, ("daily", "adj_factor", "daily_basic", "stock_basic", "stk_limit", *RECORD_DATASETS))


class FakeTushareServer:
    """Threaded HTTP server on 127.0.0.1 serving Tushare answers from DataFrames.

    Date columns must hold `YYYYMMDD` strings, as Tushare's do. Use as a
    context manager, or `start()` / `stop()`; `url` is what the SDK's
    `_DataApi__http_url` (or `TushareSettings.base_url`) should be set to.
    """

    def __init__(self, tables: Mapping[str, pd.DataFrame], *, token: str) -> None:
        if not token:
            raise ValueError("the fake Tushare server needs a token to check requests against")
        self._tables = dict(tables)
        self._token = token
        self._open_days = sorted(
            {day for table in self._tables.values() if "trade_date" in table.columns for day in table["trade_date"]}
        )
        self._open_day_set = frozenset(self._open_days)
        self._lock = threading.Lock()
        self._calls: list[RecordedCall] = []
        self._failure: Failure | None = None
        self._passes_left = 0
        self._failures_left: int | None = None
        self._http: _HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None

    @classmethod
    def from_data_dir(cls, data_dir: Path, *, token: str) -> FakeTushareServer:
        return cls(load_tables(data_dir), token=token)

    @property
    def url(self) -> str:
        """Base URL of the last start; it stays valid after `stop()`, to test a dead endpoint."""
        if self._url is None:
            raise RuntimeError("the fake Tushare server has not been started")
        return self._url

    def start(self) -> FakeTushareServer:
        if self._http is not None:
            raise RuntimeError("the fake Tushare server is already running")
        self._http = _HttpServer(self)
        self._url = f"http://127.0.0.1:{self._http.server_address[1]}/dataapi"
        # A short poll interval keeps stop() quick.
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-tushare", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._http is None or self._thread is None:
            return
        self._http.shutdown()
        self._http.server_close()
        self._thread.join()
        self._http = None
        self._thread = None

    def __enter__(self) -> FakeTushareServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def calls(self) -> list[RecordedCall]:
        with self._lock:
            return list(self._calls)

    def fail_next(self, failure: Failure, times: int = 1) -> None:
        """Answer the next `times` calls with `failure`."""
        self.fail_after(0, failure, times)

    def fail_after(self, successes: int, failure: Failure, times: int | None = None) -> None:
        """Answer the next `successes` calls as usual, then `times` calls (None: all) with `failure`.

        Simulates a source that breaks in the middle of a sync.
        """
        if successes < 0 or (times is not None and times < 1):
            raise ValueError("successes must be >= 0 and times >= 1")
        with self._lock:
            self._failure = failure
            self._passes_left = successes
            self._failures_left = times

    def reset(self) -> None:
        """Forget recorded calls and pending failures, so one server can serve many tests."""
        with self._lock:
            self._calls.clear()
            self._failure = None

    def answer(self, request: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """HTTP status and JSON body for one decoded request."""
        api_name = str(request.get("api_name", ""))
        params = {name: value for name, value in (request.get("params") or {}).items() if name != "ts_type_name"}
        fields = request.get("fields") or ""
        if isinstance(fields, list):
            fields = ",".join(fields)
        with self._lock:
            self._calls.append(RecordedCall(api_name, params, fields))
            failure = self._take_failure()
        if failure is Failure.HTTP_500:
            return 500, {"code": 500, "msg": "injected HTTP 500"}
        if failure is not None:
            return 200, {**_ERROR_ANSWERS[failure], "data": None}
        if request.get("token") != self._token:
            return 200, {**_ERROR_ANSWERS[Failure.BAD_TOKEN], "data": None}
        if api_name != "trade_cal" and api_name not in self._tables:
            return 200, {"code": 40102, "msg": f"fake tushare serves no api named {api_name!r}", "data": None}
        frame = self._select(api_name, params, fields)
        items = frame.astype(object).where(frame.notna(), None).to_numpy().tolist()
        return 200, {
            "request_id": uuid.uuid4().hex,
            "code": 0,
            "msg": "",
            "data": {"fields": list(frame.columns), "items": items, "has_more": False},
        }

    def _take_failure(self) -> Failure | None:
        failure = self._failure
        if failure is None:
            return None
        if self._passes_left:
            self._passes_left -= 1
            return None
        if self._failures_left is not None:
            self._failures_left -= 1
            if self._failures_left == 0:
                self._failure = None
        return failure

    def _select(self, api_name: str, params: dict[str, Any], fields: str) -> pd.DataFrame:
        if api_name in RECORD_DATASETS:
            table = select_rows(api_name, self._tables[api_name], params)
            return table.reindex(columns=[name.strip() for name in fields.split(",") if name.strip()] or table.columns)
        table = self._calendar(params) if api_name == "trade_cal" else self._tables[api_name]
        if api_name == "stock_basic":
            params = {"list_status": "L", **params}  # Tushare's default
        table = _newest_first(_filtered(table, params))
        names = [name.strip() for name in fields.split(",") if name.strip()] or list(table.columns)
        # Tushare answers every valid field asked for; columns the fake lacks come back null.
        return table.reindex(columns=names)

    def _calendar(self, params: Mapping[str, Any]) -> pd.DataFrame:
        """SSE and SZSE alike: open on every trade date in the data, closed on every other day."""
        start = params.get("start_date") or (self._open_days[0] if self._open_days else None)
        end = params.get("end_date") or (self._open_days[-1] if self._open_days else None)
        if start is None or end is None:
            return pd.DataFrame(columns=TRADE_CAL_FIELDS)
        days = list(pd.date_range(str(start), str(end), freq="D").strftime("%Y%m%d"))
        previous_open = [bisect.bisect_left(self._open_days, day) - 1 for day in days]
        return pd.DataFrame(
            {
                "exchange": params.get("exchange") or "SSE",
                "cal_date": days,
                "is_open": [int(day in self._open_day_set) for day in days],
                "pretrade_date": [self._open_days[i] if i >= 0 else None for i in previous_open],
            },
            columns=TRADE_CAL_FIELDS,
        )


def _date_column(table: pd.DataFrame) -> str | None:
    return next((name for name in ("trade_date", "cal_date") if name in table.columns), None)


def _filtered(table: pd.DataFrame, params: Mapping[str, Any]) -> pd.DataFrame:
    """start_date/end_date bound the date column; any other param naming a column must match
    one of its comma-separated values; params naming no column are ignored, as Tushare does."""
    date_column = _date_column(table)
    keep = pd.Series(True, index=table.index)
    for name, value in params.items():
        if value is None or value == "":
            continue
        if name == "start_date" and date_column:
            keep &= table[date_column] >= str(value)
        elif name == "end_date" and date_column:
            keep &= table[date_column] <= str(value)
        elif name in table.columns:
            keep &= table[name].astype(str).isin(str(value).split(","))
    return table[keep]


def _newest_first(table: pd.DataFrame) -> pd.DataFrame:
    date_column = _date_column(table)
    if date_column is None:
        return table
    by = [date_column, "ts_code"] if "ts_code" in table.columns else [date_column]
    return table.sort_values(by, ascending=[False] + [True] * (len(by) - 1), kind="stable")


def _json_scalar(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeTushareServer) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            request = json.loads(self.rfile.read(length))
        except ValueError:
            status, body = 400, {"code": 400, "msg": "request body is not JSON"}
        else:
            status, body = self.server.fake.answer(request)
        encoded = json.dumps(body, ensure_ascii=False, default=_json_scalar).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(encoded)))
        self.end_headers()
        self.wfile.write(encoded)

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: one line per request would drown test output."""
