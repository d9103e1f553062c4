"""Kit pieces that keep secrets secret: private files, key files, log redaction, the bind address."""

from __future__ import annotations

import ipaddress
import logging
import os
import stat
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from zquant_kit import files, redaction
from zquant_kit.errors import FailedPrecondition
from zquant_kit.grpc.server import GrpcServer
from zquant_kit.secretbox import FernetSecretBox
from zquant_kit.settings import Settings

pytestmark = pytest.mark.unit


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def loose_umask():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_private_dir_and_file_are_created_owner_only_and_wider_ones_tightened(tmp_path):
    assert mode(files.private_dir(tmp_path / "a" / "data")) == 0o700
    assert mode(files.private_file(tmp_path / "a" / "data" / "x.db")) == 0o600
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    (loose / "x.db").write_text("")
    (loose / "x.db").chmod(0o644)
    (loose / "x.db-wal").write_text("")
    (loose / "x.db-wal").chmod(0o666)
    files.private_sqlite_file(loose / "x.db")
    files.tighten_existing(loose)
    assert (mode(loose), mode(loose / "x.db"), mode(loose / "x.db-wal")) == (0o700, 0o600, 0o600)
    files.tighten_existing(tmp_path / "missing")
    assert not (tmp_path / "missing").exists()


def test_key_file_is_made_once_atomically_0600_and_shared_by_racing_starts(tmp_path):
    path = tmp_path / "data" / "service.key"
    keys: list[bytes] = []
    threads = [threading.Thread(target=lambda: keys.append(files.load_or_create_key_file(path, Fernet.generate_key)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1 and mode(path) == 0o600 and mode(path.parent) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["service.key"]  # no temporary left behind
    path.chmod(0o644)
    assert files.load_or_create_key_file(path, Fernet.generate_key) == keys[0] and mode(path) == 0o600
    assert files.secret_key(" from-env ", path, Fernet.generate_key) == b"from-env"


def test_secret_box_uses_env_key_else_key_file_and_refuses_a_wrong_key(tmp_path):
    env_key = Fernet.generate_key().decode()
    box = FernetSecretBox.from_settings(Settings({"ZQUANT_DATA_DIR": str(tmp_path), "K": env_key}), "K", "k.key")
    sealed = box.encrypt("hello")
    assert Fernet(env_key.encode()).decrypt(sealed) == b"hello" and not (tmp_path / "k.key").exists()
    from_file = FernetSecretBox.from_settings(Settings({"ZQUANT_DATA_DIR": str(tmp_path)}), "K", "k.key")
    with pytest.raises(FailedPrecondition) as unreadable:
        from_file.decrypt(sealed)
    assert unreadable.value.reason == "SECRET_UNREADABLE" and mode(tmp_path / "k.key") == 0o600
    with pytest.raises(FailedPrecondition) as invalid:
        short = Settings({"ZQUANT_DATA_DIR": str(tmp_path), "K": "short"})
        FernetSecretBox.from_settings(short, "K", "k.key").encrypt("x")
    assert invalid.value.reason == "SECRET_KEY_INVALID"


@pytest.mark.parametrize(
    "text, secret",
    [
        ('username: "alice"\npassword: "pa ss-1"', "pa ss-1"),  # protobuf text repr
        ("{'refresh_token': 'abc123', 'n': 1}", "abc123"),  # dict repr
        ("(('authorization', 'Bearer eyJhbGciOi.eyJzdWIi.c2ln'), ('x-zq-signature', 'f00d'))", "eyJhbGciOi"),
        ("(('authorization', 'Bearer eyJhbGciOi.eyJzdWIi.c2ln'), ('x-zq-signature', 'f00d'))", "f00d"),
        ("tushare_token=t0ken-value, next", "t0ken-value"),
        ("'ZQUANT_SECRET_KEY': 'kek-value'", "kek-value"),
        ("params ('$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', 1)", "aGFzaA"),
        ("key " + "ab" * 32, "ab" * 32),
        ("secret zqsk_AbC-123 and zqrt_XyZ", "zqsk_AbC"),
        ("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----", "MC4CAQAw"),
    ],
)
def test_redact_hides_named_fields_and_secret_shapes(text, secret):
    assert secret not in redaction.redact(text)


def test_redact_keeps_ordinary_messages():
    message = "invalid username or password; refresh token expired"
    assert redaction.redact(message) == message


def test_installed_redaction_covers_every_logger_message_args_and_exception_text(caplog):
    redaction.install()
    redaction.install()  # idempotent
    caplog.set_level(logging.DEBUG)
    try:
        raise ValueError("password=hunter2-secret")
    except ValueError:
        logging.getLogger("some.library").exception("request %r", {"token": "tok-secret-1"})
    (record,) = caplog.records
    assert "tok-secret-1" not in caplog.text and "hunter2-secret" not in caplog.text
    assert "hunter2-secret" not in (record.exc_text or "") and "ValueError" in caplog.text


def listening_hosts(port: int) -> set[str]:
    """What the kernel says listens on `port`: /proc/net/tcp and tcp6 (gRPC binds dual-stack sockets)."""
    hosts = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port_hex = local.split(":")
            if state != "0A" or int(port_hex, 16) != port:
                continue
            raw = b"".join(bytes.fromhex(address[i : i + 8])[::-1] for i in range(0, len(address), 8))
            ip = ipaddress.ip_address(raw)
            mapped = getattr(ip, "ipv4_mapped", None)
            hosts.add(str(mapped or ip))
    return hosts


async def test_bind_host_defaults_to_loopback_and_the_bound_address_is_what_listens():
    assert Settings({}).bind_host == "127.0.0.1"
    assert Settings({"ZQUANT_BIND_HOST": "0.0.0.0"}).bind_host == "0.0.0.0"
    loopback = GrpcServer([], port=0)
    everywhere = GrpcServer([], host="0.0.0.0", port=0)
    await loopback.start()
    await everywhere.start()
    try:
        assert loopback.bound_address == f"127.0.0.1:{loopback.port}" == loopback.local_address
        assert listening_hosts(loopback.port) == {"127.0.0.1"}
        assert everywhere.bound_address == f"0.0.0.0:{everywhere.port}"
        assert everywhere.local_address == f"127.0.0.1:{everywhere.port}"
        assert listening_hosts(everywhere.port) <= {"0.0.0.0", "::"} and listening_hosts(everywhere.port)
    finally:
        await loopback.stop(0)
        await everywhere.stop(0)
