"""Database errors a client may cause, as the kit's errors: never INTERNAL, never SQL text.

* a unique constraint (a duplicate-name race that the use case's own check did not see) → ALREADY_EXISTS;
* a foreign-key, check or not-null constraint → FAILED_PRECONDITION;
* a value the database cannot store (out of range, NUL byte, bad encoding) → INVALID_ARGUMENT.

Only the constraint's table and column reach the message; the statement and its parameters never do.
The interceptor calls `client_error` on every unexpected exception, so every service gets this.
"""

from __future__ import annotations

import re
import sqlite3

import psycopg
from sqlalchemy import exc as sa_exc

from zquant_kit.errors import AlreadyExists, FailedPrecondition, InvalidArgument, ZqError

# PostgreSQL SQLSTATE of a unique violation (class 23: integrity constraint violation).
_UNIQUE = "23505"
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (\w+)\.(\w+)")
_SQLITE_PRIMARY_KEY = "PRIMARY KEY must be unique"


def _driver_error(error: BaseException) -> BaseException | None:
    """The DB-API exception behind `error`: SQLAlchemy wraps it; raw psycopg / sqlite3 calls raise it as is."""
    if isinstance(error, sa_exc.DBAPIError):
        return error.orig
    if isinstance(error, (psycopg.Error, sqlite3.Error)):
        return error
    return None


def _unique_target(orig: BaseException) -> tuple[str, str]:
    """(table, column) of a unique violation, from the driver's diagnostics; empty when unknown."""
    diag = getattr(orig, "diag", None)
    if diag is not None:
        detail = diag.message_detail or ""  # e.g. 'Key (name)=(x) already exists.'
        column = detail[detail.find("(") + 1 : detail.find(")")] if detail.startswith("Key (") else ""
        return diag.table_name or "", column.split(",")[0].strip()
    match = _SQLITE_UNIQUE.search(str(orig))
    return (match.group(1), match.group(2)) if match else ("", "")


def _is_unique(orig: BaseException) -> bool:
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate:
        return bool(sqlstate == _UNIQUE)
    text = str(orig)
    return "UNIQUE constraint failed" in text or _SQLITE_PRIMARY_KEY in text


def _already_exists(orig: BaseException) -> AlreadyExists:
    table, column = _unique_target(orig)
    mapped = AlreadyExists(table or "row", "", column)
    mapped.message = f"a {table or 'row'} with the same {column or 'key'} already exists"
    return mapped


def client_error(error: BaseException) -> ZqError | None:
    """The client-facing error for a database error the request caused, or None for anything else."""
    orig = _driver_error(error)
    if isinstance(orig, (psycopg.IntegrityError, sqlite3.IntegrityError)):
        if _is_unique(orig):
            return _already_exists(orig)
        return FailedPrecondition(
            "the change conflicts with related data (a referenced row is missing or a rule is broken)",
            reason="CONSTRAINT_VIOLATION",
        )
    if isinstance(orig, (psycopg.DataError, sqlite3.DataError)):
        return InvalidArgument(
            "request",
            "a value is out of range or cannot be stored (for example a NUL byte)",
            reason="VALUE_NOT_STORABLE",
        )
    return None
