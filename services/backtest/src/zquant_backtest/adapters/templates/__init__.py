"""The strategy templates every user starts from, shipped as module text (package data): read, never imported."""

from zquant_backtest.adapters.templates.catalog import PackagedTemplateCatalog

__all__ = ["PackagedTemplateCatalog"]
