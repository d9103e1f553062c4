"""Proto ↔ plain values for StrategyService."""

from __future__ import annotations

from zquant.backtest.v1 import strategy_pb2 as pb
from zquant_backtest.adapters.grpc.json_fields import json_text
from zquant_backtest.application.report_ports import StrategyTemplate
from zquant_backtest.application.validation_ports import StrategyProblem
from zquant_backtest.domain.strategies import StrategyRecord
from zquant_kit.grpc.convert import to_timestamp


def strategy(record: StrategyRecord) -> pb.Strategy:
    return pb.Strategy(
        id=record.id, owner_id=record.owner_id, name=record.name, description=record.description,
        category=record.category, code=record.code, params_schema_json=json_text(record.params_schema),
        code_hash=record.code_hash, create_time=to_timestamp(record.created_at),
        update_time=to_timestamp(record.updated_at),
    )  # fmt: skip


def template(item: StrategyTemplate) -> pb.StrategyTemplate:
    return pb.StrategyTemplate(
        name=item.name, title=item.title, description=item.description, category=item.category,
        code=item.source, params_schema_json=json_text(item.params_schema), engine=item.engine.value,
        default_params_json=json_text(item.default_params), factors=list(item.factors),
    )  # fmt: skip


def problem(item: StrategyProblem) -> pb.StrategyProblem:
    return pb.StrategyProblem(line=item.line, column=item.column, message=item.message, field=item.field)
