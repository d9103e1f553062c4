"""A factor config's mapping rules: every mapped model belongs to the factor, at most one default mapping,
each code in at most one mapping, every code well-formed."""

from __future__ import annotations

from collections.abc import Sequence

from zquant_factor.domain.definitions.fields import check_ts_code
from zquant_factor.domain.definitions.records import FactorModel, ModelMapping
from zquant_kit.errors import FailedPrecondition, InvalidArgument

MAX_MAPPINGS = 200
MAX_MAPPED_CODES = 20_000
"""More than every listed A-share code: a config never needs more."""


def _check_sizes(mappings: Sequence[ModelMapping]) -> None:
    if len(mappings) > MAX_MAPPINGS:
        raise InvalidArgument("mappings", f"at most {MAX_MAPPINGS} mappings")
    if sum(len(m.codes or ()) for m in mappings) > MAX_MAPPED_CODES:
        raise InvalidArgument("mappings", f"at most {MAX_MAPPED_CODES} codes in all mappings")


def check_mappings(
    factor_id: str, mappings: Sequence[ModelMapping], models: Sequence[FactorModel]
) -> tuple[ModelMapping, ...]:
    """Normalised mappings (codes upper-cased, an empty code list is the default mapping) or the first broken
    rule: INVALID_ARGUMENT naming `mappings[i]...`, FAILED_PRECONDITION for a disabled model."""
    _check_sizes(mappings)
    own = {model.id: model for model in models if model.factor_id == factor_id}
    violations: list[tuple[str, str]] = []
    default_at: int | None = None
    mapped_at: dict[str, int] = {}
    checked: list[ModelMapping] = []
    for i, mapping in enumerate(mappings):
        model = own.get(mapping.model_id)
        if not mapping.model_id:
            violations.append((f"mappings[{i}].model_id", "required"))
        elif model is None:
            violations.append(
                (f"mappings[{i}].model_id", f"model {mapping.model_id!r} is not a model of this factor")
            )
        elif not model.enabled:
            raise FailedPrecondition(
                f"mappings[{i}]: model {model.id!r} is disabled; enable it before mapping codes"
            )
        if not mapping.codes:
            if default_at is not None:
                violations.append(
                    (f"mappings[{i}].codes", f"only one default mapping; mappings[{default_at}] is one")
                )
            default_at = i
            checked.append(ModelMapping(mapping.model_id, None))
            continue
        codes: list[str] = []
        for k, raw in enumerate(mapping.codes):
            field = f"mappings[{i}].codes[{k}]"
            try:
                code = check_ts_code(raw, field)
            except InvalidArgument as bad:
                violations.append((field, bad.description))
                continue
            if code in mapped_at:
                violations.append((field, f"{code} is already mapped by mappings[{mapped_at[code]}]"))
                continue
            mapped_at[code] = i
            codes.append(code)
        checked.append(ModelMapping(mapping.model_id, tuple(codes)))
    if violations:
        raise InvalidArgument.of(violations)
    return tuple(checked)
