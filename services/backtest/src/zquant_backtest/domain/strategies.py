"""A user's strategy: its code and the schema its params are held against. Names are unique per owner."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field

MAX_NAME = 100


def code_hash(source: str) -> str:
    """What CompareRuns compares: two runs of the same text have the same hash."""
    return hashlib.sha256(source.encode()).hexdigest()


@dataclass(kw_only=True)
class StrategyRecord:
    id: str
    owner_id: str
    name: str
    description: str
    category: str
    code: str
    params_schema: Mapping[str, object] = field(default_factory=dict)
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def code_hash(self) -> str:
        return code_hash(self.code)
