"""The shared service credential: from the environment, or a 0600 data-dir file every local process shares."""

import stat

import pytest

from zquant_kit import principal
from zquant_kit.errors import PermissionDenied, Unauthenticated
from zquant_kit.principal import Principal
from zquant_kit.service_credential import (
    SECRET_FILE,
    SERVICE_PRINCIPAL,
    is_service_secret,
    load_service_secret,
)
from zquant_kit.settings import Settings

pytestmark = pytest.mark.unit


def test_environment_secret_wins_and_must_be_long_enough(tmp_path):
    settings = Settings({"ZQUANT_SERVICE_SECRET": "k" * 40, "ZQUANT_DATA_DIR": str(tmp_path)})
    assert load_service_secret(settings) == "k" * 40
    assert not (tmp_path / SECRET_FILE).exists()
    with pytest.raises(ValueError, match="ZQUANT_SERVICE_SECRET"):
        load_service_secret(Settings({"ZQUANT_SERVICE_SECRET": "short", "ZQUANT_DATA_DIR": str(tmp_path)}))


def test_without_the_variable_a_private_file_is_made_once_and_shared(tmp_path):
    settings = Settings({"ZQUANT_DATA_DIR": str(tmp_path / "data")})
    first = load_service_secret(settings)
    assert len(first) >= 32 and load_service_secret(settings) == first
    path = tmp_path / "data" / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [SECRET_FILE]  # no temp file left behind


def test_comparison_and_require_service():
    assert is_service_secret("s" * 40, "s" * 40) and not is_service_secret("s" * 40, "t" * 40)
    with pytest.raises(Unauthenticated):
        principal.require_service()
    for caller, allowed in ((Principal("u", "a", "admin", frozenset({"*"})), False), (SERVICE_PRINCIPAL, True)):
        token = principal.bind(caller)
        try:
            if allowed:
                assert principal.require_service().is_service
            else:
                with pytest.raises(PermissionDenied):
                    principal.require_service()
        finally:
            principal.reset(token)
