"""`zquant demo`: registered through the `zquant.commands` entry point, like `zquant data`."""

from __future__ import annotations

import asyncio

from zquant_kit.service import discover
from zquant_kit.settings import Settings


def _run(args, settings: Settings) -> None:
    from zquant_demo.demo import run_demo

    asyncio.run(run_demo(settings, discover()))


def register(subparsers) -> None:
    demo = subparsers.add_parser("demo", help="the main flow on the embedded default, then exit")
    demo.set_defaults(handler=_run)
