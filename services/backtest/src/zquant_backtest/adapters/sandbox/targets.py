"""SandboxTargets: the vectorised mode's user module, `targets(context)`, run once in a locked-down child.

The child is sent the run's close prices and the factors its FACTORS literal declares, each dates x codes,
and returns a dates x codes weights block (raw little-endian float64, validated here: right shape, rows
either all NaN, meaning no rebalance that day, or finite, ≥ 0 and summing to at most 1 + 1e-9).

Timing: a factor's row t comes from the factor service computed from data up to t only, and
`VectorEngine.run_weights` fills row t's weights at day t + 1's bar, so a module that builds row t from rows
≤ t trades on nothing it could not have known. The module is handed the whole panel at once, so unlike the
per-day port this mode cannot stop it from reading a later row; a strategy that must be provably free of
look-ahead runs through `SandboxStrategyPort` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from zquant_backtest.domain.arrays import BoolArray, FloatArray
from zquant_backtest.domain.market import MarketPanel
from zquant_backtest.domain.params import InvalidParams, validate_params

from .child.framing import encode_down
from .messages import SandboxRunFailed, parse_ready, parse_weights
from .session import SandboxedModule, start_child

MAX_PANEL_BYTES = 256 << 20
"""Close plus factors sent to one child, well inside its address-space limit."""


@dataclass(frozen=True, eq=False)
class TargetWeights:
    """What `VectorEngine.run_weights(weights, rebalance)` takes."""

    weights: FloatArray
    rebalance: BoolArray


class SandboxTargets(SandboxedModule):
    def weights(
        self, panel: MarketPanel, factor_panels: Mapping[str, FloatArray], params: Mapping[str, object] | None = None
    ) -> TargetWeights:
        """Run `targets(context)` once; raises `SandboxRunFailed` with the reason on any failure."""
        try:
            validated = validate_params(self._facts.params_schema, params or {})
        except InvalidParams as exc:
            raise SandboxRunFailed(f"invalid params: {exc}") from None
        payload = self._payload(panel, factor_panels)
        limits = self._limits
        child, ready = start_child(self._facts, limits, "vector", panel.codes, validated)
        try:
            parse_ready(ready, "targets")
            header = {"t": "panel", "dates": [d.isoformat() for d in panel.days]}
            message, raw = child.exchange(
                encode_down(header, payload), limits.targets_deadline_s, raw_reply=panel.shape[0] * panel.shape[1] * 8
            )
            weights, rebalance = parse_weights(message, raw, panel.shape)
        except SandboxRunFailed as failed:
            child.fail(failed.reason)
        finally:
            child.kill()
        return TargetWeights(weights, rebalance)

    def _payload(self, panel: MarketPanel, factor_panels: Mapping[str, FloatArray]) -> bytes:
        missing = [name for name in self._facts.factors if name not in factor_panels]
        if missing:
            raise SandboxRunFailed(f"factors declared in FACTORS are not available: {', '.join(missing)}")
        blocks = [panel.close, *(np.asarray(factor_panels[name], dtype=np.float64) for name in self._facts.factors)]
        for name, block in zip(("close", *self._facts.factors), blocks, strict=True):
            if block.shape != panel.shape:
                raise SandboxRunFailed(f"factor '{name}' has shape {block.shape}, not the panel's {panel.shape}")
        if len(blocks) * panel.shape[0] * panel.shape[1] * 8 > MAX_PANEL_BYTES:
            raise SandboxRunFailed(f"close and {len(blocks) - 1} factors exceed {MAX_PANEL_BYTES >> 20} MiB")
        return b"".join(np.ascontiguousarray(block, dtype="<f8").tobytes() for block in blocks)
