"""The factor records: a definition, its calculator models and its one config of code → model mappings.

Plain dataclasses; persistence maps them from the outside. The checks that build them live in `fields`,
`params` and `mappings`, so a record in memory has always passed them.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import TypeAlias

ParamValue: TypeAlias = int | float | bool
Params: TypeAlias = dict[str, ParamValue]


class FactorKind(enum.Enum):
    BUILTIN_INDICATOR = "builtin_indicator"
    CUSTOM_EXPRESSION = "custom_expression"


class Visibility(enum.Enum):
    PRIVATE = "private"
    SHARED = "shared"


@dataclass(kw_only=True, eq=False)
class DefinitionFields:
    """What a factor's author chooses. A create request carries these unchecked; a `FactorDefinition` has them
    checked. `expression` is set for CUSTOM_EXPRESSION only."""

    factor_name: str
    cn_name: str
    en_name: str
    column_name: str
    description: str
    kind: FactorKind
    expression: str | None = None
    enabled: bool = True
    visibility: Visibility = Visibility.PRIVATE


@dataclass(kw_only=True, eq=False)
class FactorDefinition(DefinitionFields):
    """`owner_id` None is a system-owned (built-in) factor; `owner_deleted` keeps a shared factor whose owner
    identity deleted, attributed to a deleted user."""

    id: str
    owner_id: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    owner_deleted: bool = False

    @property
    def is_system(self) -> bool:
        return self.owner_id is None

    @property
    def owner_display(self) -> str:
        if self.owner_id is None:
            return "system"
        return "deleted user" if self.owner_deleted else self.owner_id


@dataclass(eq=False)
class FactorModel:
    """One way to calculate a factor: a registered calculator (`model_code`) with checked parameters."""

    id: str
    factor_id: str
    model_code: str
    params: Params
    is_default: bool
    enabled: bool
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class ModelMapping:
    """Codes calculated with `model_id`; `codes` None is the default mapping (every code not mapped elsewhere)."""

    model_id: str
    codes: tuple[str, ...] | None

    @property
    def is_default(self) -> bool:
        return self.codes is None


@dataclass(eq=False)
class FactorConfig:
    """One per factor. While `enabled` is false the mappings are kept but not applied: every code gets the
    default model."""

    factor_id: str
    enabled: bool
    mappings: tuple[ModelMapping, ...] = field(default_factory=tuple)
    updated_at: dt.datetime | None = None
