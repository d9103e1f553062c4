"""`CalculatorRegistry` over the indicator engine's registry: its calculators' parameters as `ParamSpec`s."""

from __future__ import annotations

from collections.abc import Sequence

from zquant_factor.application.definition_ports import CalculatorRegistry
from zquant_factor.domain.definitions.params import ParamSpec, ParamType
from zquant_factor.domain.indicators.registry import CALCULATORS, Calculator, Param

_TYPES = {int: ParamType.INT, float: ParamType.FLOAT, bool: ParamType.BOOL}


def param_spec(param: Param) -> ParamSpec:
    """A boolean switch has no bounds; a number keeps the engine's inclusive ones."""
    kind = _TYPES[param.kind]
    if kind is ParamType.BOOL:
        return ParamSpec(param.name, kind, None, None, param.default)
    typed = int if kind is ParamType.INT else float
    return ParamSpec(param.name, kind, typed(param.minimum), typed(param.maximum), param.default)


class EngineCalculatorRegistry(CalculatorRegistry):
    def schema(self, model_code: str) -> Sequence[ParamSpec] | None:
        found = CALCULATORS.get(model_code)
        return None if found is None else [param_spec(param) for param in found.params]

    def calculators(self) -> list[Calculator]:
        """Every calculator, by model code."""
        return [CALCULATORS[code] for code in sorted(CALCULATORS)]
