"""The strategy checks and sandbox layers of the sandbox adapter, behind the use cases' `StrategyChecker`."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from zquant_backtest.adapters.sandbox.child.static_check import Problem, check_source
from zquant_backtest.adapters.sandbox.launcher import probe_layers
from zquant_backtest.adapters.sandbox.validate import check_params, check_schema
from zquant_backtest.application.validation_ports import SandboxLayers, StrategyChecker, StrategyProblem


def _problems(found: Sequence[Problem]) -> list[StrategyProblem]:
    return [StrategyProblem(p.line, p.column, p.message, p.field) for p in found]


class SandboxStrategyChecker(StrategyChecker):
    def check_code(self, code: str) -> Sequence[StrategyProblem]:
        return _problems(check_source(code))

    def check_schema(self, schema: Mapping[str, object]) -> Sequence[StrategyProblem]:
        return _problems(check_schema(dict(schema)))

    def check_params(
        self, params: Mapping[str, object], schema: Mapping[str, object]
    ) -> Sequence[StrategyProblem]:
        return _problems(check_params(dict(params), dict(schema)))

    def layers(self) -> SandboxLayers:
        info = probe_layers()
        return SandboxLayers(
            layers=info.layers,
            landlock_abi=info.landlock_abi or 0,
            uid=os.getuid() if info.uid is None else info.uid,
        )
