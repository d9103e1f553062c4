"""What differs between two runs, side by side: the inputs that make a fingerprint (code, params, rules, data,
settings) and the metrics they led to. Pure: both sides are plain values."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class RunSide:
    task_id: str
    code_hash: str
    params: Mapping[str, object]
    rules_version: str
    data_version: str
    fingerprint: str
    settings: Mapping[str, object]
    """The run's config besides params (dates, universe, cash, costs, timing, engine), as plain values."""
    metrics: Mapping[str, float]


@dataclass(frozen=True)
class Difference:
    field: str
    first: str
    second: str


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _same(first: object, second: object) -> bool:
    if isinstance(first, float) and isinstance(second, float) and math.isnan(first) and math.isnan(second):
        return True
    return first == second


def _keyed(prefix: str, first: Mapping[str, object], second: Mapping[str, object]) -> list[Difference]:
    return [
        Difference(f"{prefix}.{name}", _text(first.get(name)), _text(second.get(name)))
        for name in sorted(set(first) | set(second))
        if not _same(first.get(name), second.get(name))
    ]


def compare(first: RunSide, second: RunSide) -> list[Difference]:
    """Inputs first (what explains a change), then the metrics."""
    found = [
        Difference(name, a, b)
        for name, a, b in (
            ("code_hash", first.code_hash, second.code_hash),
            ("rules_version", first.rules_version, second.rules_version),
            ("data_version", first.data_version, second.data_version),
            ("fingerprint", first.fingerprint, second.fingerprint),
        )
        if a != b
    ]
    found += _keyed("params", first.params, second.params)
    found += _keyed("config", first.settings, second.settings)
    found += _keyed("metrics", dict(first.metrics), dict(second.metrics))
    return found
