"""Where the shared sample data lives: `shared/data` beside the checkout (a worktree's symlink counts)."""

from __future__ import annotations

import os
from pathlib import Path

# libs/kit/src/zquant_kit/testing/paths.py → parents[5] is the checkout (the workspace installs the kit editable).
SHARED_DATA = Path(
    os.environ.get("ZQUANT_TEST_SHARED_DATA")
    or Path(__file__).resolve().parents[5].parent / "shared" / "data"
)
