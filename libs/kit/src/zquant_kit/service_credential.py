"""How zquant services prove to each other that they are services: one shared secret.

`ZQUANT_SERVICE_SECRET` when set (in Kubernetes, from a Secret); otherwise a 0600 file `service-secret`
in the data directory, created on first run, so the all-in-one and `zquant serve-dist` on one machine
share it. Callers send it as `x-zq-service-token`; the interceptor compares it in constant time and
binds the service principal. Service-only RPCs (`principal.require_service()`) refuse everyone else.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from zquant_kit.principal import Principal
from zquant_kit.settings import Settings

SERVICE_TOKEN_HEADER = "x-zq-service-token"
SECRET_ENV = "ZQUANT_SERVICE_SECRET"
SECRET_FILE = "service-secret"
MIN_SECRET_LENGTH = 32

SERVICE_PRINCIPAL = Principal(user_id="", username="", role="", auth_method="service")


def _read_or_create(path: Path) -> str:
    """Written to a private temp file, then linked into place: concurrent first starts all read one secret."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
        try:
            os.link(temp, path)
        except FileExistsError:
            pass
        finally:
            temp.unlink()
    return path.read_text().strip()


def load_service_secret(settings: Settings) -> str:
    """Read once at bootstrap (small synchronous file I/O before the loop serves anything)."""
    secret = settings.get(SECRET_ENV).strip() or _read_or_create(settings.data_dir / SECRET_FILE)
    if len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"{SECRET_ENV} must be at least {MIN_SECRET_LENGTH} characters")
    return secret


def service_metadata(secret: str) -> tuple[tuple[str, str], ...]:
    return ((SERVICE_TOKEN_HEADER, secret),)


def is_service_secret(secret: str, presented: str) -> bool:
    return hmac.compare_digest(secret.encode(), presented.encode())
