"""BacktestService and StrategyService on a real server: the flow end to end, INVALID_ARGUMENT with the field,
isolation through every RPC with ids taken from another user, admins listing all, permissions."""

from __future__ import annotations

import grpc
import pytest

from zquant.backtest.v1 import backtest_pb2 as pb
from zquant.backtest.v1 import strategy_pb2 as spb
from zquant_kit.testing import eventually, expect_error

pytestmark = pytest.mark.contract

CODE = "def handle_bar(context, bar):\n    pass\n"
SCHEMA = '{"n": {"type": "int", "min": 1, "max": 60, "default": 5}}'


def _config(**changes) -> pb.BacktestConfig:
    fields = dict(ts_codes=["600000.SH"], start_date="20240102", end_date="20240329", initial_cash=1e6)
    fields.update(changes)
    return pb.BacktestConfig(**fields)


async def _succeeded(backtest, metadata, **changes) -> pb.BacktestTask:
    request = pb.SubmitBacktestRequest(code=CODE, params_schema_json=SCHEMA, config=_config(**changes))
    task = (await backtest.backtests.SubmitBacktest(request, metadata=metadata)).task

    async def latest() -> pb.BacktestTask:
        return (
            await backtest.backtests.GetBacktest(
                pb.GetBacktestRequest(task_id=task.task_id), metadata=metadata
            )
        ).task

    found = await eventually(latest, lambda t: t.state == pb.TASK_STATE_SUCCEEDED, timeout=15)
    assert found.state == pb.TASK_STATE_SUCCEEDED, found
    return found


async def test_submit_watch_result_report_and_compare(backtest):
    _, alice = await backtest.user("alice")
    first = await _succeeded(backtest, alice)
    second = await _succeeded(backtest, alice)
    watched = [
        m
        async for m in backtest.backtests.WatchBacktest(
            pb.WatchBacktestRequest(task_id=first.task_id), metadata=alice
        )
    ]
    assert watched[-1].state == pb.TASK_STATE_SUCCEEDED
    result = await backtest.backtests.GetBacktestResult(
        pb.GetBacktestResultRequest(task_id=first.task_id, max_rows=1), metadata=alice
    )
    assert result.total_fills == 2 and len(result.fills) == 1 and result.fills[0].ts_code == "600000.SH"
    assert len(result.equity.dates) == len(result.equity.nav) > 50 and result.fingerprint == first.fingerprint
    assert result.refusals[0].reason == "LOT_SIZE"
    compared = await backtest.backtests.CompareRuns(
        pb.CompareRunsRequest(first_task_id=first.task_id, second_task_id=second.task_id), metadata=alice
    )
    assert compared.same_fingerprint and not compared.differences
    assert compared.first.metrics.sharpe == compared.second.metrics.sharpe
    chunks = [
        c
        async for c in backtest.backtests.GetBacktestReport(
            pb.GetBacktestReportRequest(task_id=first.task_id), metadata=alice
        )
    ]
    assert chunks[0].file_name.endswith(".html") and b"<!doctype html>" in b"".join(
        c.html_chunk for c in chunks
    )


BAD_CONFIGS = [
    ({"start_date": "20240301", "end_date": "20240201"}, "config.end_date"),
    ({"start_date": "20190102"}, "config.start_date"),
    ({"initial_cash": 0.0}, "config.initial_cash"),
    ({"ts_codes": []}, "config.ts_codes"),
    ({"ts_codes": ["600000.SH", "688999.SH"]}, "config.ts_codes[1]"),
    ({"benchmark": "399999.SZ"}, "config.benchmark"),
    ({"params_json": '{"n": 100}'}, "config.params_json"),
    ({"params_json": "[1]"}, "config.params_json"),
    ({"start_date": "2024-01-02"}, "config.start_date"),
]


async def test_bad_submits_name_their_field_and_queue_nothing(backtest):
    _, alice = await backtest.user("alice")
    for config, field in BAD_CONFIGS:
        request = pb.SubmitBacktestRequest(code=CODE, params_schema_json=SCHEMA, config=_config(**config))
        details = await expect_error(
            backtest.backtests.SubmitBacktest(request, metadata=alice), grpc.StatusCode.INVALID_ARGUMENT
        )
        assert field in details.fields, (config, details)
    assert not (await backtest.backtests.ListBacktests(pb.ListBacktestsRequest(), metadata=alice)).tasks


async def test_another_users_ids_are_not_found_through_every_rpc(backtest):
    _, alice = await backtest.user("alice")
    _, bob = await backtest.user("bob")
    task = await _succeeded(backtest, alice)
    strategy = (
        await backtest.strategies.CreateStrategy(
            spb.CreateStrategyRequest(name="s", code=CODE), metadata=alice
        )
    ).strategy
    tid, sid = task.task_id, strategy.id
    b, s = backtest.backtests, backtest.strategies
    calls = [
        b.GetBacktest(pb.GetBacktestRequest(task_id=tid), metadata=bob),
        b.CancelBacktest(pb.CancelBacktestRequest(task_id=tid), metadata=bob),
        b.DeleteBacktest(pb.DeleteBacktestRequest(task_id=tid), metadata=bob),
        b.GetBacktestResult(pb.GetBacktestResultRequest(task_id=tid), metadata=bob),
        b.CompareRuns(pb.CompareRunsRequest(first_task_id=tid, second_task_id=tid), metadata=bob),
        b.SubmitBacktest(pb.SubmitBacktestRequest(strategy_id=sid, config=_config()), metadata=bob),
        s.GetStrategy(spb.GetStrategyRequest(strategy_id=sid), metadata=bob),
        s.UpdateStrategy(spb.UpdateStrategyRequest(strategy_id=sid, description="x"), metadata=bob),
        s.DeleteStrategy(spb.DeleteStrategyRequest(strategy_id=sid), metadata=bob),
    ]
    for call in calls:
        await expect_error(call, grpc.StatusCode.NOT_FOUND)
    for stream in (
        b.WatchBacktest(pb.WatchBacktestRequest(task_id=tid), metadata=bob),
        b.GetBacktestReport(pb.GetBacktestReportRequest(task_id=tid), metadata=bob),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            [m async for m in stream]
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert not (await b.ListBacktests(pb.ListBacktestsRequest(), metadata=bob)).tasks
    assert not (await s.ListStrategies(spb.ListStrategiesRequest(), metadata=bob)).strategies
    admin = await backtest.admin()
    assert [t.task_id for t in (await b.ListBacktests(pb.ListBacktestsRequest(), metadata=admin)).tasks] == [
        tid
    ]
    assert [
        x.id for x in (await s.ListStrategies(spb.ListStrategiesRequest(), metadata=admin)).strategies
    ] == [sid]
    assert (
        await b.GetBacktest(pb.GetBacktestRequest(task_id=tid), metadata=alice)
    ).task.state == pb.TASK_STATE_SUCCEEDED


async def test_strategies_templates_validation_and_permissions(backtest):
    _, alice = await backtest.user("alice")
    _, viewer = await backtest.user("vera", role="viewer")
    s = backtest.strategies
    await s.CreateStrategy(
        spb.CreateStrategyRequest(name="s", code=CODE, params_schema_json=SCHEMA), metadata=alice
    )
    details = await expect_error(
        s.CreateStrategy(spb.CreateStrategyRequest(name="s", code=CODE), metadata=alice),
        grpc.StatusCode.ALREADY_EXISTS,
    )
    assert details.resource_name == "s"
    details = await expect_error(
        s.CreateStrategy(spb.CreateStrategyRequest(name="t", code="import os\n" + CODE), metadata=alice),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert details.fields == ["code"]
    await expect_error(
        s.CreateStrategy(spb.CreateStrategyRequest(name="v", code=CODE), metadata=viewer),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    await expect_error(
        backtest.backtests.SubmitBacktest(
            pb.SubmitBacktestRequest(code=CODE, config=_config()), metadata=viewer
        ),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    templates = (await s.ListTemplates(spb.ListTemplatesRequest(), metadata=viewer)).templates
    assert [t.name for t in templates] == ["buy_and_hold"]
    checked = await s.ValidateStrategy(
        spb.ValidateStrategyRequest(
            code="import os\n" + CODE, params_json='{"n": 0}', params_schema_json=SCHEMA
        ),
        metadata=viewer,
    )
    assert not checked.valid
    assert {(p.line, p.field) for p in checked.problems} >= {(1, ""), (0, "params.n")}
    info = await s.GetSandboxInfo(spb.GetSandboxInfoRequest(), metadata=viewer)
    assert "rlimits" in info.layers
    await expect_error(
        backtest.backtests.SubmitBacktest(pb.SubmitBacktestRequest(config=_config()), metadata=alice),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
