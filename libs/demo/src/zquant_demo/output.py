"""How the demo prints a step header (its progress bars are the CLI's, `zquant_kit.client_cli.progress_bar`)."""

from __future__ import annotations


def step(text: str) -> None:
    print(f"==> {text}", flush=True)
