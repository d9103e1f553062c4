"""Proto ↔ record conversions of FactorService: definitions, models, parameter values, configs, calculators."""

from __future__ import annotations

from collections.abc import Sequence

from zquant.factor.v1 import factor_pb2
from zquant_factor.adapters.registry import param_spec
from zquant_factor.domain.definitions.params import ParamType
from zquant_factor.domain.definitions.records import (
    FactorConfig,
    FactorDefinition,
    FactorKind,
    FactorModel,
    ModelMapping,
    Params,
    ParamValue,
    Visibility,
)
from zquant_factor.domain.indicators.registry import Calculator
from zquant_kit.errors import InvalidArgument
from zquant_kit.grpc.convert import same_named, to_timestamp

KINDS = {
    factor_pb2.FACTOR_KIND_BUILTIN_INDICATOR: FactorKind.BUILTIN_INDICATOR,
    factor_pb2.FACTOR_KIND_CUSTOM_EXPRESSION: FactorKind.CUSTOM_EXPRESSION,
}
VISIBILITIES = {
    factor_pb2.VISIBILITY_PRIVATE: Visibility.PRIVATE,
    factor_pb2.VISIBILITY_SHARED: Visibility.SHARED,
}
# The definition's fields the message takes as they are.
_DEFINITION_AS_IS = (
    "id",
    "factor_name",
    "cn_name",
    "en_name",
    "column_name",
    "description",
    "enabled",
    "owner_display",
)
_KIND_NUMBERS = {kind: number for number, kind in KINDS.items()}
_VISIBILITY_NUMBERS = {visibility: number for number, visibility in VISIBILITIES.items()}


def kind_of(number: factor_pb2.FactorKind.ValueType) -> FactorKind:
    if number not in KINDS:
        raise InvalidArgument(
            "kind", "required: FACTOR_KIND_BUILTIN_INDICATOR or FACTOR_KIND_CUSTOM_EXPRESSION"
        )
    return KINDS[number]


def visibility_of(number: factor_pb2.Visibility.ValueType) -> Visibility | None:
    """None for VISIBILITY_UNSPECIFIED."""
    return VISIBILITIES.get(number)


def definition_message(definition: FactorDefinition) -> factor_pb2.FactorDefinition:
    return factor_pb2.FactorDefinition(
        **same_named(definition, *_DEFINITION_AS_IS),
        kind=_KIND_NUMBERS[definition.kind],
        expression=definition.expression or "",
        visibility=_VISIBILITY_NUMBERS[definition.visibility],
        owner_id=definition.owner_id or "",
        create_time=to_timestamp(definition.created_at),
        update_time=to_timestamp(definition.updated_at),
    )


def param_message(name: str, value: ParamValue) -> factor_pb2.ParamValue:
    if isinstance(value, bool):
        return factor_pb2.ParamValue(name=name, bool_value=value)
    if isinstance(value, int):
        return factor_pb2.ParamValue(name=name, int_value=value)
    return factor_pb2.ParamValue(name=name, double_value=value)


def params_of(messages: Sequence[factor_pb2.ParamValue]) -> Params:
    """The request's parameters by name; the calculator's schema checks them after."""
    params: Params = {}
    for i, message in enumerate(messages):
        which = message.WhichOneof("value")
        if not message.name:
            raise InvalidArgument(f"params[{i}].name", "required")
        if which is None:
            raise InvalidArgument(f"params[{i}]", f"parameter {message.name!r} has no value")
        if message.name in params:
            raise InvalidArgument(f"params[{i}].name", f"parameter {message.name!r} is given twice")
        params[message.name] = getattr(message, which)
    return params


def model_message(model: FactorModel) -> factor_pb2.FactorModel:
    return factor_pb2.FactorModel(
        **same_named(model, "id", "factor_id", "model_code", "is_default", "enabled"),
        params=[param_message(name, value) for name, value in sorted(model.params.items())],
        create_time=to_timestamp(model.created_at),
        update_time=to_timestamp(model.updated_at),
    )


def mappings_of(messages: Sequence[factor_pb2.ModelMapping]) -> list[ModelMapping]:
    """No codes is the default mapping; the use case checks every mapping rule."""
    return [ModelMapping(m.model_id, tuple(m.codes) if m.codes else None) for m in messages]


def config_message(config: FactorConfig) -> factor_pb2.FactorConfig:
    return factor_pb2.FactorConfig(
        factor_id=config.factor_id,
        enabled=config.enabled,
        mappings=[
            factor_pb2.ModelMapping(model_id=m.model_id, codes=list(m.codes or ())) for m in config.mappings
        ],
        update_time=to_timestamp(config.updated_at),
    )


def calculator_message(calculator: Calculator) -> factor_pb2.Calculator:
    specs = []
    for param in calculator.params:
        spec = param_spec(param)
        message = factor_pb2.ParamSpec(
            name=spec.name, type=spec.type.value, default_value=param_message(spec.name, spec.default)
        )
        if spec.type is not ParamType.BOOL and spec.minimum is not None and spec.maximum is not None:
            message.minimum, message.maximum = float(spec.minimum), float(spec.maximum)
        specs.append(message)
    return factor_pb2.Calculator(
        model_code=calculator.code,
        inputs=list(calculator.inputs),
        outputs=list(calculator.outputs),
        params=specs,
        price_scaled=calculator.price_scaled,
        resumable=calculator.resumable,
    )
