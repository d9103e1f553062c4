"""Job configs checked against the targets' own request bounds when a job is created: the config dict is parsed
into the contract's `JobConfig`, whose targets are marketdata's and factor's request messages, and protovalidate
checks their `buf.validate` rules — the very rules the target services enforce on the call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format

from zquant.scheduler.v1 import scheduler_pb2
from zquant_kit.errors import InvalidArgument
from zquant_kit.grpc.validation import RequestValidator
from zquant_scheduler.application.job_ports import ConfigChecker


def config_dict(config: scheduler_pb2.JobConfig) -> dict[str, Any]:
    return json_format.MessageToDict(config, preserving_proto_field_name=True)


def config_message(config: Mapping[str, Any]) -> scheduler_pb2.JobConfig:
    try:
        return json_format.ParseDict(dict(config), scheduler_pb2.JobConfig())
    except json_format.ParseError as error:
        raise InvalidArgument("config", str(error)[:300]) from None


class ProtoConfigChecker(ConfigChecker):
    def __init__(self) -> None:
        self._validator = RequestValidator()

    def check(self, config: Mapping[str, Any]) -> dict[str, Any]:
        message = config_message(config)
        if not message.WhichOneof("kind"):
            raise InvalidArgument("config", "a target or a pipeline is required")
        try:
            self._validator.check(message)
        except InvalidArgument as bad:
            raise InvalidArgument.of([(f"config.{field}", text) for field, text in bad.violations]) from None
        return config_dict(message)
