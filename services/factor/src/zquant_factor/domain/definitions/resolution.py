"""Which model calculates which code. ONE rule for every run mode (single day, multi-day, incremental):

a code-specific mapping, else the default mapping, else the factor's default model. The seed applied its
mappings in single-day runs only; here every mode calls `resolve_models`, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from zquant_factor.domain.definitions.records import (
    FactorConfig,
    FactorDefinition,
    FactorKind,
    FactorModel,
)
from zquant_kit.errors import FailedPrecondition


class _Resolver:
    """The mappings of one factor, indexed once, so resolving thousands of codes is a dict lookup each."""

    def __init__(
        self, definition: FactorDefinition, models: Sequence[FactorModel], config: FactorConfig | None
    ):
        self.factor = definition.factor_name
        if definition.kind is FactorKind.CUSTOM_EXPRESSION:
            raise FailedPrecondition(
                f"factor {self.factor!r} is a custom expression: it has no models to resolve"
            )
        self.enabled = {m.id for m in models if m.factor_id == definition.id and m.enabled}
        defaults = [m.id for m in models if m.factor_id == definition.id and m.enabled and m.is_default]
        if len(defaults) > 1:
            raise FailedPrecondition(
                f"factor {self.factor!r} has {len(defaults)} default models; it must have one"
            )
        self.default_model = defaults[0] if defaults else None
        self.by_code: dict[str, str] = {}
        self.default_mapping: str | None = None
        if config is not None and config.enabled:
            for mapping in config.mappings:
                if mapping.model_id not in self.enabled:
                    raise FailedPrecondition(
                        f"factor {self.factor!r}: mapped model {mapping.model_id!r} is missing or disabled"
                    )
                if mapping.codes is None:
                    self.default_mapping = mapping.model_id
                else:
                    self.by_code.update(dict.fromkeys(mapping.codes, mapping.model_id))

    def model_for(self, code: str) -> str:
        found = self.by_code.get(code) or self.default_mapping or self.default_model
        if found is None:
            raise FailedPrecondition(
                f"factor {self.factor!r}: no mapping covers {code} and the factor has no enabled default model"
            )
        return found


def resolve_model(
    definition: FactorDefinition, models: Sequence[FactorModel], config: FactorConfig | None, code: str
) -> str:
    """The id of the model that calculates `code`."""
    return _Resolver(definition, models, config).model_for(code)


def resolve_models(
    definition: FactorDefinition,
    models: Sequence[FactorModel],
    config: FactorConfig | None,
    codes: Iterable[str],
) -> dict[str, tuple[str, ...]]:
    """Codes grouped per model id (each group in the order given, duplicates dropped), for a run over many codes
    and days: one calculator call per model. FAILED_PRECONDITION when any code has no model."""
    resolver = _Resolver(definition, models, config)
    groups: dict[str, list[str]] = {}
    for code in dict.fromkeys(codes):
        groups.setdefault(resolver.model_for(code), []).append(code)
    return {model_id: tuple(group) for model_id, group in groups.items()}
