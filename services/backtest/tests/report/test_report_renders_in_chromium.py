"""The report of a real run, opened in Debian's headless Chromium: it loads nothing, logs no error, every chart
draws, the strategy name stays text, and the trade filters narrow the table."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from zquant_backtest.domain.simulation import BacktestResult

from .conftest import XSS_NAME

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
DRAWN = """els => els.filter(e => { const b = e.getBBox(); return b.width > 0 && b.height > 0; }).length"""


@dataclass
class Opened:
    page: Page
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-prereqs` as root (installs Debian's chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


def open_report(browser: Browser, html: str, folder: Path) -> Opened:
    path = folder / "report.html"
    path.write_text(html, encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    seen = Opened(page)
    page.on("console", lambda message: seen.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.on("request", lambda request: seen.requests.append(request.url))
    page.on("dialog", lambda dialog: (seen.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(path.as_uri(), wait_until="load")
    return seen


@pytest.fixture(scope="module")
def opened(browser: Browser, bank_report: str, tmp_path_factory: pytest.TempPathFactory) -> Opened:
    return open_report(browser, bank_report, tmp_path_factory.mktemp("report"))


def test_it_loads_only_itself_without_errors(opened: Opened) -> None:
    assert opened.errors == []
    assert [url for url in opened.requests if not url.startswith("file://")] == []
    assert len(opened.requests) == 1


def test_every_chart_draws(opened: Opened, bank_run: BacktestResult) -> None:
    page = opened.page
    lines = {chart: page.eval_on_selector_all(f"#{chart} path[data-series]", DRAWN)
             for chart in ("chart-equity", "chart-drawdown", "chart-sharpe")}  # fmt: skip
    assert lines == {"chart-equity": 2, "chart-drawdown": 1, "chart-sharpe": 1}  # strategy and benchmark
    months, years = bank_run.performance.monthly[0].size, bank_run.performance.yearly[0].size
    assert page.eval_on_selector_all("#chart-monthly rect:has(title)", DRAWN) == months
    assert page.eval_on_selector_all("#chart-yearly rect:has(title)", DRAWN) == years
    width = page.eval_on_selector("#chart-equity path[data-series='strategy']", "e => e.getBBox().width")
    assert width > 800  # spans the plot (viewBox 960 wide, less the margins)


def test_the_strategy_name_is_text_not_markup(opened: Opened) -> None:
    page = opened.page
    assert page.text_content("#strategy-name") == XSS_NAME
    assert page.evaluate("window.__xss") is None
    assert page.query_selector_all("img") == []
    assert opened.dialogs == []
    assert XSS_NAME in page.title()


def _rows(page: Page) -> list[dict[str, str]]:
    return page.eval_on_selector_all("#trades tbody tr", "rows => rows.map(r => ({...r.dataset}))")


def test_the_trade_filters_narrow_the_table(opened: Opened, bank_run: BacktestResult) -> None:
    page = opened.page
    fills = bank_run.fills
    assert len(_rows(page)) == fills.qty.size > 20
    code = bank_run.codes[1]
    page.fill("#filter-code", code[:6])
    rows = _rows(page)
    assert {row["code"] for row in rows} == {code}
    assert len(rows) == int(np.count_nonzero(fills.code == 1))
    page.select_option("#filter-side", "sell")
    sells = _rows(page)
    assert sells and {row["side"] for row in sells} == {"sell"}
    assert len(sells) == int(np.count_nonzero((fills.code == 1) & (fills.qty < 0)))
    page.fill("#filter-code", "")
    page.select_option("#filter-side", "")
    page.fill("#filter-from", "2021-01-01")
    page.fill("#filter-to", "2021-12-31")
    dated = _rows(page)
    assert dated and all("2021-01-01" <= row["date"] <= "2021-12-31" for row in dated)
    in_2021 = np.asarray(bank_run.dates)[fills.day].astype("datetime64[Y]") == np.datetime64("2021", "Y")
    assert len(dated) == int(in_2021.sum())
    assert page.text_content("#trade-count") == f"{len(dated)} of {fills.qty.size} fills shown"


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # the flat NAV's Sharpe is NaN
def test_a_run_without_trades_or_benchmark_still_renders(browser: Browser, idle_report: str, tmp_path: Path) -> None:
    seen = open_report(browser, idle_report, tmp_path)
    page = seen.page
    assert seen.errors == []
    widths = page.eval_on_selector_all("#chart-equity path[data-series]", "els => els.map(e => e.getBBox().width)")
    assert len(widths) == 1 and widths[0] > 800  # the flat NAV, and no benchmark line
    assert "not enough days" in (page.text_content("#chart-sharpe") or "")  # under the 126-day window
    assert page.eval_on_selector_all("#chart-monthly rect:has(title)", DRAWN) == 1  # 22 days of January 2024
    assert page.text_content("#trade-count") == "0 of 0 fills shown"
    assert "No order was refused" in (page.text_content("main") or "")
