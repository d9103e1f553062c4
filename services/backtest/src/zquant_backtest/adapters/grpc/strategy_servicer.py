"""gRPC inbound adapter of StrategyService: proto ↔ the strategy use cases, nothing else."""

from __future__ import annotations

from zquant.backtest.v1 import strategy_pb2 as pb
from zquant.backtest.v1 import strategy_pb2_grpc
from zquant_backtest.adapters.grpc import strategy_messages as msg
from zquant_backtest.adapters.grpc.json_fields import json_object
from zquant_backtest.application.strategies import StrategyChanges, StrategyDraft, StrategyUseCases
from zquant_kit import principal
from zquant_kit.grpc.convert import optional


class StrategyServicer(strategy_pb2_grpc.StrategyServiceServicer):
    def __init__(self, strategies: StrategyUseCases) -> None:
        self._strategies = strategies

    async def CreateStrategy(self, request, context):
        draft = StrategyDraft(
            name=request.name, description=request.description, category=request.category, code=request.code,
            params_schema=json_object(request.params_schema_json, "params_schema_json"),
        )  # fmt: skip
        record = await self._strategies.create(principal.current(), draft)
        return pb.CreateStrategyResponse(strategy=msg.strategy(record))

    async def GetStrategy(self, request, context):
        record = await self._strategies.get(principal.current(), request.strategy_id)
        return pb.GetStrategyResponse(strategy=msg.strategy(record))

    async def ListStrategies(self, request, context):
        page, token = await self._strategies.list(principal.current(), request.page_size, request.page_token)
        return pb.ListStrategiesResponse(
            strategies=[msg.strategy(r) for r in page.items], next_page_token=token
        )

    async def UpdateStrategy(self, request, context):
        schema = optional(request, "params_schema_json")
        changes = StrategyChanges(
            name=optional(request, "name"), description=optional(request, "description"),
            category=optional(request, "category"), code=optional(request, "code"),
            params_schema=None if schema is None else json_object(schema, "params_schema_json"),
        )  # fmt: skip
        record = await self._strategies.update(principal.current(), request.strategy_id, changes)
        return pb.UpdateStrategyResponse(strategy=msg.strategy(record))

    async def DeleteStrategy(self, request, context):
        await self._strategies.delete(principal.current(), request.strategy_id)
        return pb.DeleteStrategyResponse()

    async def ListTemplates(self, request, context):
        templates = self._strategies.templates(principal.current())
        return pb.ListTemplatesResponse(templates=[msg.template(t) for t in templates])

    async def ValidateStrategy(self, request, context):
        params = json_object(request.params_json, "params_json")
        schema = json_object(request.params_schema_json, "params_schema_json")
        problems = self._strategies.validate(principal.current(), request.code, params, schema)
        return pb.ValidateStrategyResponse(valid=not problems, problems=[msg.problem(p) for p in problems])

    async def GetSandboxInfo(self, request, context):
        info = self._strategies.sandbox(principal.current())
        return pb.GetSandboxInfoResponse(
            layers=list(info.layers), landlock_abi=info.landlock_abi, uid=info.uid
        )
