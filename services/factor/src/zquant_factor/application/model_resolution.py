"""The calculation plan of one factor: which model computes which codes, loaded once per run.

Every run mode (one day, many days, incremental) asks this for its plan, and this asks the one pure rule
(`domain.definitions.resolution.resolve_models`), so code → model mappings apply the same everywhere. The
calculation use cases check their own permission (`factor:calculate`) and visibility before calling it.
"""

from __future__ import annotations

from collections.abc import Sequence

from zquant_factor.application.definition_ports import UnitOfWorkFactory
from zquant_factor.domain.definitions.fields import check_ts_code
from zquant_factor.domain.definitions.resolution import resolve_models
from zquant_kit.errors import NotFound


class ModelResolution:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    async def plan(self, factor_id: str, codes: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """Codes grouped per model id; FAILED_PRECONDITION when a code has no model."""
        checked = [check_ts_code(code, f"codes[{i}]") for i, code in enumerate(codes)]
        async with self._uow() as uow:
            definition = await uow.definitions.get(factor_id)
            if definition is None:
                raise NotFound("factor", factor_id)
            models = await uow.models.list_for_factor(definition.id)
            config = await uow.configs.get(definition.id)
        return resolve_models(definition, models, config, checked)
