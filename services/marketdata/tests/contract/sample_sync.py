"""The settings the sync contract tests add to the stack: syncs of a small sample market into a data dir, with a
key to encrypt the stored Tushare token."""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet


def sample_sync_settings(data_dir: Path, stocks: int, days: int) -> dict[str, str]:
    """A sample market of `stocks` × `days`, `data_dir`, and a fresh secret key."""
    return {
        "ZQUANT_DATA_DIR": str(data_dir),
        "ZQUANT_SAMPLE_STOCKS": str(stocks),
        "ZQUANT_SAMPLE_DAYS": str(days),
        "ZQUANT_MARKETDATA_SECRET_KEY": Fernet.generate_key().decode(),
    }
