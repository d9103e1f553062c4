"""A result's fingerprint: sha256 over the engine version, the rules version, the strategy's code hash, the
canonical params, the settings and every input array's dtype, shape and bytes. Same fingerprint, same inputs."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np

from zquant_backtest.domain.market import PRICE_FIELDS, MarketPanel
from zquant_backtest.domain.params import ParamValue, canonical_params
from zquant_backtest.domain.rules import RULES_VERSION

ENGINE_VERSION = "zquant-backtest-engine-1"


def _array(digest: hashlib._Hash, name: str, values: np.ndarray | None) -> None:
    digest.update(name.encode())
    if values is None:
        digest.update(b"none")
        return
    contiguous = np.ascontiguousarray(values)
    digest.update(f"{contiguous.dtype.str}{contiguous.shape}".encode())
    digest.update(contiguous.tobytes())


def panel_digest(digest: hashlib._Hash, panel: MarketPanel) -> None:
    _array(digest, "dates", panel.dates.astype("datetime64[D]"))
    digest.update("\n".join(panel.codes).encode())
    for name in (*PRICE_FIELDS, "up_limit", "down_limit", "is_st", "is_suspended", "list_days"):
        _array(digest, name, getattr(panel, name))
    _array(digest, "members", panel.members)
    _array(digest, "benchmark", panel.benchmark_close)
    digest.update(repr((panel.dividends, panel.industries)).encode())


def fingerprint(
    panel: MarketPanel,
    strategy_hash: str,
    params: Mapping[str, ParamValue],
    settings: object,
    extra: Mapping[str, np.ndarray] | None = None,
) -> str:
    """``settings`` is hashed by its repr (frozen dataclasses); ``extra`` holds further inputs such as a target
    weights panel."""
    digest = hashlib.sha256()
    for part in (ENGINE_VERSION, RULES_VERSION, strategy_hash, canonical_params(params), repr(settings)):
        digest.update(part.encode())
        digest.update(b"\0")
    panel_digest(digest, panel)
    for name, values in sorted((extra or {}).items()):
        _array(digest, name, values)
    return digest.hexdigest()
