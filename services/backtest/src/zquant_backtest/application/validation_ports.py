"""The static checks of a strategy (AST check of the code, the params against the schema) and the sandbox's
layers, as the use cases see them. The sandbox adapter implements both; nothing here runs user code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class StrategyProblem:
    """``line`` 1-based and ``column`` 0-based in the code (0, 0 for a params problem, which names ``field``)."""

    line: int
    column: int
    message: str
    field: str = ""


@dataclass(frozen=True)
class SandboxLayers:
    layers: tuple[str, ...]
    landlock_abi: int
    uid: int


class StrategyChecker(Protocol):
    def check_code(self, code: str) -> Sequence[StrategyProblem]:
        """The AST check: problems with a line and column; empty when the code may be run."""
        ...

    def check_schema(self, schema: Mapping[str, object]) -> Sequence[StrategyProblem]: ...

    def check_params(
        self, params: Mapping[str, object], schema: Mapping[str, object]
    ) -> Sequence[StrategyProblem]:
        """Unknown, missing, mistyped or out-of-range params, each naming `params.<name>`."""
        ...

    def layers(self) -> SandboxLayers: ...
