"""What both sandboxed modes share: the module's static facts, the child's start and the run's limits."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from zquant_backtest.application.run_ports import StrategyCode
from zquant_backtest.domain.params import InvalidParams, Param, ParamValue, params_from_schema

from .child.framing import encode_down
from .child.static_check import declared_factors
from .child_process import ChildProcess
from .limits import SandboxLimits
from .messages import SandboxRunFailed


class ModuleFacts:
    """Read from the source without running it: hash, params schema, declared FACTORS."""

    def __init__(self, code: StrategyCode) -> None:
        self.source = code.source
        self.code_hash = hashlib.sha256(code.source.encode()).hexdigest()
        try:
            self.params_schema: list[Param] = params_from_schema(code.params_schema)
            self.factors: tuple[str, ...] = tuple(declared_factors(code.source))
        except (InvalidParams, ValueError) as exc:
            raise SandboxRunFailed(f"invalid strategy: {exc}") from None


class SandboxedModule:
    """A user module run in sandbox children, in either mode: what it declares is known before it runs."""

    def __init__(self, code: StrategyCode, limits: SandboxLimits | None = None) -> None:
        self._facts = ModuleFacts(code)
        self._limits = limits or SandboxLimits()

    @property
    def code_hash(self) -> str:
        return self._facts.code_hash

    @property
    def params_schema(self) -> list[Param]:
        return self._facts.params_schema

    @property
    def factors(self) -> tuple[str, ...]:
        """The factors the module declares in FACTORS: the run must serve a dates x codes panel of each."""
        return self._facts.factors


def start_child(
    facts: ModuleFacts,
    limits: SandboxLimits,
    mode: str,
    codes: tuple[str, ...],
    params: Mapping[str, ParamValue],
    fields: tuple[str, ...] = (),
) -> tuple[ChildProcess, dict[str, object]]:
    """Spawn a child, hand it the code, and wait (start deadline) until the module is loaded."""
    child = ChildProcess(limits)
    header = {"t": "start", "mode": mode, "code": facts.source, "params": dict(params), "codes": list(codes),
              "fields": list(fields), "factors": list(facts.factors), "check": limits.static_check}
    try:
        ready, _ = child.exchange(encode_down(header), limits.start_deadline_s)
    except BaseException:
        child.kill()
        raise
    return child, ready
