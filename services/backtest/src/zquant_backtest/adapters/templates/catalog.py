"""``TemplateCatalog`` over the template sources shipped in ``sources/``: ``manifest.json`` says what each one
is (title, description, category, engine, params schema); the code is read as text and only ever runs in the
sandbox. A template's factors are its module-level ``FACTORS`` list, read from the syntax tree, not by running it."""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping, Sequence
from importlib import resources
from types import MappingProxyType
from typing import Any

from zquant_backtest.application.report_ports import StrategyTemplate, TemplateCatalog
from zquant_backtest.application.run_ports import EngineKind


def declared_factors(source: str) -> tuple[str, ...]:
    """The literal ``FACTORS = [...]`` of a module, or none."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "FACTORS" for target in node.targets
        ):
            names = ast.literal_eval(node.value)
            if not isinstance(names, list | tuple) or not all(isinstance(name, str) for name in names):
                raise ValueError("FACTORS must be a list of factor names")
            return tuple(names)
    return ()


def _template(name: str, entry: Mapping[str, Any], source: str) -> StrategyTemplate:
    schema: dict[str, Any] = entry["params_schema"]
    return StrategyTemplate(
        name=name,
        title=entry["title"],
        description=entry["description"],
        category=entry["category"],
        source=source,
        params_schema=MappingProxyType(schema),
        engine=EngineKind(entry["engine"]),
        default_params=MappingProxyType({key: spec["default"] for key, spec in schema.items()}),
        factors=declared_factors(source),
    )


def _load() -> tuple[StrategyTemplate, ...]:
    folder = resources.files(__package__).joinpath("sources")
    manifest: dict[str, Any] = json.loads(folder.joinpath("manifest.json").read_text(encoding="utf-8"))
    return tuple(
        _template(name, entry, folder.joinpath(f"{name}.py").read_text(encoding="utf-8"))
        for name, entry in manifest.items()
    )


class PackagedTemplateCatalog(TemplateCatalog):
    def __init__(self) -> None:
        self._templates = _load()
        self._by_name = {template.name: template for template in self._templates}

    def templates(self) -> Sequence[StrategyTemplate]:
        return self._templates

    def get(self, name: str) -> StrategyTemplate | None:
        return self._by_name.get(name)
