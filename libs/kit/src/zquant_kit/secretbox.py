"""Secrets at rest: Fernet (AES-128-CBC + HMAC-SHA256) under a key kept outside the database.

The key comes from an environment variable (a Fernet key: 32 url-safe base64 bytes) or, when that
is unset, from a 0600 key file in the data directory, generated on first use. A copy of the
database alone then reveals nothing it encrypts.
"""

from __future__ import annotations

import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from zquant_kit.errors import FailedPrecondition
from zquant_kit.files import secret_key
from zquant_kit.settings import Settings


class FernetSecretBox:
    """Encrypts and decrypts text; the key is resolved lazily so wiring never touches the disk."""

    def __init__(self, key_env: str, key_file: Path, *, env_value: str = "", unreadable: str = "") -> None:
        self._key_env = key_env
        self._key_file = key_file
        self._env_value = env_value
        self._unreadable = (
            unreadable or f"stored secret cannot be decrypted with {key_env} (or {key_file.name})"
        )
        self._fernet: Fernet | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(
        cls, settings: Settings, key_env: str, key_file_name: str, unreadable: str = ""
    ) -> FernetSecretBox:
        return cls(
            key_env, settings.data_dir / key_file_name, env_value=settings.get(key_env), unreadable=unreadable
        )

    def _cipher(self) -> Fernet:
        with self._lock:
            if self._fernet is None:
                key = secret_key(self._env_value, self._key_file, Fernet.generate_key)
                try:
                    self._fernet = Fernet(key)
                except ValueError:
                    raise FailedPrecondition(
                        f"{self._key_env} (or {self._key_file.name}) is not a valid Fernet key",
                        reason="SECRET_KEY_INVALID",
                    ) from None
            return self._fernet

    def encrypt(self, plaintext: str) -> bytes:
        return self._cipher().encrypt(plaintext.encode())

    def decrypt(self, ciphertext: bytes | str) -> str:
        data = ciphertext.encode() if isinstance(ciphertext, str) else bytes(ciphertext)
        try:
            return self._cipher().decrypt(data).decode()
        except InvalidToken:
            raise FailedPrecondition(self._unreadable, reason="SECRET_UNREADABLE") from None
