"""Identity's settings, read once from the environment into one frozen object."""

from __future__ import annotations

from dataclasses import dataclass

from zquant_kit.infrastructure import ServiceConfig
from zquant_kit.secretbox import FernetSecretBox
from zquant_kit.settings import Settings

NAME = "identity"
# The key-encryption key of signing keys and API-key HMAC keys: this variable, else a 0600 key file.
SECRET_KEY_ENV = "ZQUANT_SECRET_KEY"
SECRET_KEY_FILE = "identity.key"
UNREADABLE = (
    f"identity's stored keys cannot be decrypted: {SECRET_KEY_ENV} (or <data dir>/{SECRET_KEY_FILE}) "
    "is not the key they were encrypted with"
)


@dataclass(frozen=True)
class FirstAdminAccount:
    """ZQUANT_ADMIN_USERNAME / _EMAIL / _PASSWORD: the admin created on first start (empty password: generated)."""

    username: str
    email: str
    password: str


@dataclass(frozen=True)
class IdentityConfig:
    kit: ServiceConfig
    first_admin: FirstAdminAccount
    secret_key: str

    @classmethod
    def from_settings(cls, settings: Settings) -> IdentityConfig:
        return cls(
            kit=ServiceConfig.from_settings(NAME, settings),
            first_admin=FirstAdminAccount(
                username=settings.get("ZQUANT_ADMIN_USERNAME", "admin"),
                email=settings.get("ZQUANT_ADMIN_EMAIL", "admin@zquant.local"),
                password=settings.get("ZQUANT_ADMIN_PASSWORD"),
            ),
            secret_key=settings.get(SECRET_KEY_ENV),
        )

    def secret_box(self) -> FernetSecretBox:
        return FernetSecretBox(
            SECRET_KEY_ENV,
            self.kit.data_dir / SECRET_KEY_FILE,
            env_value=self.secret_key,
            unreadable=UNREADABLE,
        )
