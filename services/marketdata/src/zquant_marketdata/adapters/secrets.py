"""Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) with a key from the environment or a key file.

The key comes from `ZQUANT_MARKETDATA_SECRET_KEY` (a Fernet key: 32 url-safe base64 bytes) or,
when that is unset, from `<ZQUANT_DATA_DIR>/marketdata.key`, generated on first use with
mode 0600. Losing the key makes stored tokens unreadable: set the token again.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from zquant_kit.errors import FailedPrecondition

KEY_ENV = "ZQUANT_MARKETDATA_SECRET_KEY"
KEY_FILE = "marketdata.key"


def load_or_create_key_file(path: Path) -> bytes:
    """Reads the key file, creating it (0600, exclusively) when absent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    key = Fernet.generate_key()
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key)
    return key


class FernetSecretBox:
    """`SecretBox` port; the key is resolved lazily so wiring never touches the disk."""

    def __init__(self, key: str | bytes | None = None, key_file: Path | None = None) -> None:
        if key is None and key_file is None:
            raise ValueError("FernetSecretBox needs a key or a key file")
        self._key = key.encode() if isinstance(key, str) else key
        self._key_file = key_file
        self._fernet: Fernet | None = None
        self._lock = threading.Lock()

    def _cipher(self) -> Fernet:
        with self._lock:
            if self._fernet is None:
                key = self._key if self._key is not None else load_or_create_key_file(self._key_file)
                try:
                    self._fernet = Fernet(key)
                except ValueError:
                    raise FailedPrecondition(
                        f"{KEY_ENV} (or the key file) is not a valid Fernet key", reason="SECRET_KEY_INVALID"
                    ) from None
            return self._fernet

    def encrypt(self, plaintext: str) -> bytes:
        return self._cipher().encrypt(plaintext.encode())

    def decrypt(self, ciphertext: bytes) -> str:
        try:
            return self._cipher().decrypt(bytes(ciphertext)).decode()
        except InvalidToken:
            raise FailedPrecondition(
                "the stored Tushare token cannot be decrypted with the current key; set it again",
                reason="SECRET_UNREADABLE",
            ) from None
