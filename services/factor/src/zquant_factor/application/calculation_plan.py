"""What one factor's calculation consists of: units (a model's codes, or the expression over all codes),
each with its inputs, output columns, warm-up and whether it resumes from saved state.

Codes reach models through `ModelResolution.plan` only, the one rule of every run mode.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from zquant_factor.application.market_ports import PANEL_FIELDS
from zquant_factor.application.model_resolution import ModelResolution
from zquant_factor.domain.definitions.records import FactorDefinition, FactorKind, FactorModel
from zquant_factor.domain.expressions.expression import CheckedExpression
from zquant_factor.domain.indicators.registry import Calculator, calculator
from zquant_kit.jobs import JobFailed

RECURSIVE_WARMUP = 250
"""Trading days read before `start` for a recursion (EMA, SMA) to forget its seed (TA-Lib agrees after it)."""
RECURSIVE_WARMUP_PER_PERIOD = 20
EXPRESSION_STATE_KEY = "expression"
"""The state key of a custom expression's one unit (models have their ids)."""


@dataclass(frozen=True)
class Unit:
    state_key: str
    codes: tuple[str, ...]
    inputs: tuple[str, ...]
    columns: tuple[str, ...]
    warmup: int
    resumable: bool
    model_code: str = ""
    params: dict[str, object] = field(default_factory=dict)
    expression: str = ""


def _served(factor: str, inputs: Sequence[str]) -> tuple[str, ...]:
    missing = sorted(set(inputs) - PANEL_FIELDS)
    if missing:
        raise JobFailed(f"factor {factor!r} needs {missing}, which marketdata's panel does not serve")
    return tuple(inputs)


def calculator_warmup(calc: Calculator, params: Mapping[str, object]) -> int:
    """Trading days read before the first computed day: recursions long enough to forget their seed,
    windows twice their length (stored and on-the-fly values therefore agree)."""
    periods = [int(v) for v in params.values() if isinstance(v, int) and not isinstance(v, bool)]
    longest = max(periods, default=1)
    if calc.resumable:
        return max(RECURSIVE_WARMUP, RECURSIVE_WARMUP_PER_PERIOD * longest)
    return 2 * longest + 10


def model_unit(definition: FactorDefinition, model: FactorModel, codes: tuple[str, ...]) -> Unit:
    calc = calculator(model.model_code)
    params = dict(calc.validate(model.params))
    warmup = calculator_warmup(calc, params)
    return Unit(
        state_key=model.id,
        codes=codes,
        inputs=_served(definition.factor_name, calc.inputs),
        columns=calc.outputs,
        warmup=warmup,
        resumable=calc.resumable,
        model_code=model.model_code,
        params=dict(params),
    )


def expression_unit(definition: FactorDefinition, codes: tuple[str, ...]) -> Unit:
    """Stateless: an incremental run re-evaluates from the first full run's origin (see calculation_state)."""
    text = definition.expression or ""
    checked = CheckedExpression.parse(text)
    warmup = 2 * checked.lookback + 10 + (RECURSIVE_WARMUP if checked.recursive else 0)
    return Unit(
        state_key=EXPRESSION_STATE_KEY,
        codes=codes,
        inputs=_served(definition.factor_name, sorted(checked.fields)),
        columns=(definition.column_name,),
        warmup=warmup,
        resumable=False,
        expression=text,
    )


def value_columns(definition: FactorDefinition, models: Sequence[FactorModel]) -> tuple[str, ...]:
    """The stored columns of a factor: its column name for an expression, its models' outputs otherwise."""
    if definition.kind is FactorKind.CUSTOM_EXPRESSION:
        return (definition.column_name,)
    outputs = (calculator(m.model_code).outputs for m in models if m.enabled)
    return tuple(dict.fromkeys(name for group in outputs for name in group))


async def factor_units(
    resolution: ModelResolution,
    definition: FactorDefinition,
    models: Sequence[FactorModel],
    codes: tuple[str, ...],
) -> list[Unit]:
    if definition.kind is FactorKind.CUSTOM_EXPRESSION:
        return [expression_unit(definition, codes)]
    by_id = {model.id: model for model in models}
    plan = await resolution.plan(definition.id, codes)
    return [model_unit(definition, by_id[model_id], group) for model_id, group in plan.items()]
