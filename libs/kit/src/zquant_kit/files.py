"""Private files on disk: the data directory is 0700; databases, backups and key files are 0600.

Files made before these rules (or by a loose umask) are tightened when a service opens them.
SQLite creates its `-wal` and `-shm` files with the mode of the database file, so a 0600 database
keeps its journal private too.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def _tighten(path: Path, mode: int) -> None:
    """Drops group/other bits; never widens, never touches a path that does not exist."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if current & ~mode:
        path.chmod(current & mode)


def tighten_existing(path: Path) -> None:
    """An existing data directory from before these rules becomes 0700; a missing one stays missing."""
    if path.is_dir():
        _tighten(path, DIR_MODE)


def private_dir(path: Path) -> Path:
    """Creates the directory (and missing parents) owner-only, or tightens it to 0700."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Creates an empty owner-only file when missing (its parent made if needed), or tightens it to 0600."""
    if not path.parent.exists():
        private_dir(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE)
    os.close(descriptor)
    _tighten(path, FILE_MODE)
    return path


def private_sqlite_file(path: Path) -> Path:
    """The database file and its journal files (`-wal`, `-shm`, `-journal`) when they exist."""
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        _tighten(path.with_name(path.name + suffix), FILE_MODE)
    return path


def load_or_create_key_file(path: Path, generate: Callable[[], bytes]) -> bytes:
    """Reads a key file (tightening it to 0600), or writes `generate()` to it atomically.

    The key is written to a 0600 temporary file in the same directory and linked into place, so a
    reader never sees a half-written key, and of two processes racing on first start exactly one
    key wins and both use it.
    """
    private_dir(path.parent)
    if path.exists():
        _tighten(path, FILE_MODE)
        return path.read_bytes().strip()
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp: 0600
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(generate())
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process won the race: use its key
    finally:
        os.unlink(temporary)
    return path.read_bytes().strip()


def secret_key(env_value: str, key_file: Path, generate: Callable[[], bytes]) -> bytes:
    """A key from the environment when set, else from its 0600 key file (made on first use)."""
    if env_value:
        return env_value.strip().encode()
    return load_or_create_key_file(key_file, generate)
