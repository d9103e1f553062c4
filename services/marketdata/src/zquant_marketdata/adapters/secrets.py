"""The Tushare token at rest: the kit's Fernet box under marketdata's own key.

The key comes from `ZQUANT_MARKETDATA_SECRET_KEY` (a Fernet key) or, when that is unset, from
`<ZQUANT_DATA_DIR>/marketdata.key`, generated on first use with mode 0600. Losing the key makes
stored tokens unreadable: set the token again.
"""

from __future__ import annotations

from pathlib import Path

from zquant_kit.secretbox import FernetSecretBox

KEY_ENV = "ZQUANT_MARKETDATA_SECRET_KEY"
KEY_FILE = "marketdata.key"
UNREADABLE = "the stored Tushare token cannot be decrypted with the current key; set it again"


def token_box(data_dir: Path, key: str) -> FernetSecretBox:
    """`key`: the value of KEY_ENV ("" when unset: the key file in `data_dir`)."""
    return FernetSecretBox(KEY_ENV, data_dir / KEY_FILE, env_value=key, unreadable=UNREADABLE)
