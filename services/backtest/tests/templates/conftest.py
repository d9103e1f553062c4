"""The packaged templates, real bank closes, and a test-only way to reach a template's pure helpers."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from zquant_backtest.adapters.templates import PackagedTemplateCatalog
from zquant_backtest.application.report_ports import StrategyTemplate

from ..unit.conftest import bank_panel  # noqa: F401  (the four real SSE banks)


@pytest.fixture(scope="session")
def catalog() -> PackagedTemplateCatalog:
    return PackagedTemplateCatalog()


def template_of(catalog: PackagedTemplateCatalog, name: str) -> StrategyTemplate:
    found = catalog.get(name)
    assert found is not None, f"no template {name}"
    return found


def module_of(template: StrategyTemplate, **sandbox_globals: Any) -> SimpleNamespace:
    """The template's functions, for checking its maths here; the service itself only ever ships the text to the
    sandbox. Only the sandbox globals given are defined: a helper calling another would fail the test."""
    namespace: dict[str, Any] = dict(sandbox_globals)
    exec(compile(template.source, f"<template {template.name}>", "exec"), namespace)
    return SimpleNamespace(**namespace)
