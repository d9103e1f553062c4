"""`zquant jobs …` against a real identity + scheduler: create, list, trigger, history (the commands run in a
thread: the CLI's gRPC is blocking)."""

from __future__ import annotations

import argparse
import asyncio
import io
import json

import grpc
import pytest

from zquant.scheduler.v1 import scheduler_pb2_grpc
from zquant_kit.settings import Settings
from zquant_kit.testing import ADMIN_PASSWORD, create_user, eventually, running_stack, services
from zquant_scheduler import cli

pytestmark = pytest.mark.contract


async def test_create_list_trigger_history(tmp_path):
    settings = Settings({"ZQUANT_DATA_DIR": str(tmp_path), "ZQUANT_EVENT_BUS": "inprocess",
                         "ZQUANT_ADMIN_PASSWORD": ADMIN_PASSWORD})  # fmt: skip
    async with running_stack(services("identity", "scheduler"), settings) as client:
        _, dana = await create_user(client.channel("identity"), "dana")
        token = dict(dana)["authorization"].removeprefix("Bearer ")

        async def run(*words: str) -> str:
            parser = argparse.ArgumentParser()
            cli.register(parser.add_subparsers(dest="top"))
            args = parser.parse_args(["jobs", "--token", token, *words])
            out = io.StringIO()

            def call() -> None:
                with grpc.insecure_channel(client.stack.address("scheduler")) as channel:
                    args.command(args, scheduler_pb2_grpc.SchedulerServiceStub(channel), out)

            await asyncio.to_thread(call)
            return out.getvalue()

        config = json.dumps({"target": {"data_sync": {"mode": "SYNC_MODE_INCREMENTAL"}}})
        created = await run("create", "nightly", "--config", config, "--cron", "0 17 * * 1-5", "--trading-days")
        assert created.startswith("job nightly (") and "on trading days" in created
        listed = await run("list")
        assert "nightly" in listed and "JOB_TYPE_DATA_SYNC" in listed
        assert "queued" in await run("trigger", "nightly")
        history = await eventually(lambda: run("history", "nightly"), lambda text: "RUN_STATUS_FAILED" in text)
        assert "permission 'data:sync'" in history  # a researcher can't sync: the run acts with the owner's rights
