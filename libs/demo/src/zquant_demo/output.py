"""How the demo prints: a step header and a progress bar."""

from __future__ import annotations


def step(text: str) -> None:
    print(f"==> {text}", flush=True)


def bar(percent: float, width: int = 30) -> str:
    filled = int(width * percent / 100)
    return "[" + "#" * filled + "." * (width - filled) + "]"
