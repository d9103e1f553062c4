"""No secret in any log: every log record is redacted as it is made, whatever logger or handler.

`install()` wraps the log-record factory, so the redaction happens once per record, before any
handler, formatter or test capture sees it. It rewrites the formatted message and pre-renders the
exception text (tracebacks included) through the same patterns. Installed by the `zquant` CLI
where `ZQUANT_LOG_LEVEL` is applied, and by `start_stack` for embedded use.
"""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

MASK = "[REDACTED]"

# `password: "..."` (protobuf text), `'token': '...'` (dict repr), `secret=...`, `('authorization', '...')`.
_SECRET_NAMES = "password|passwd|token|secret|hmac|private_key|api_key|authorization|signature|credential"
_NAMED = re.compile(
    rf"""(?P<key>["']?[\w.-]*(?:{_SECRET_NAMES})[\w.-]*["']?)"""
    r"""(?P<sep>\s*[:=]\s*|\s*,\s*)"""
    r"""(?P<value>["']?\[REDACTED\]["']?|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,;)}\]]+)""",
    re.IGNORECASE,
)
# Secrets recognisable by their shape wherever they appear.
_SHAPES = re.compile(
    r"-----BEGIN [A-Z ]+-----.*?-----END [A-Z ]+-----"  # PEM keys
    r"|\bBearer\s+[\w.~+/=-]+"
    r"|\beyJ[\w-]+\.[\w-]+\.[\w-]*"  # JWTs
    r"|\bzq(?:sk|rt)_[\w-]+"  # API-key secrets, refresh tokens
    r"|\bgAAAAA[\w-]+=*"  # Fernet ciphertexts
    r"|\$argon2(?:id|i|d)\$[\w$=,+/.-]+"  # password hashes
    r"|\b[0-9a-fA-F]{64}\b",  # 32-byte keys in hex (HMAC keys)
    re.DOTALL,
)


def redact(text: str) -> str:
    text = _SHAPES.sub(MASK, text)
    return _NAMED.sub(lambda m: f"{m['key']}{m['sep']}{MASK}", text)


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed format string: keep the record, drop the arguments
        message = str(record.msg)
    record.msg, record.args = redact(message), None
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install() -> None:
    """Idempotent: wraps the current record factory once per process."""
    current = logging.getLogRecordFactory()
    if getattr(current, "zquant_redacting", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        _redact_record(record)
        return record

    factory.zquant_redacting = True  # type: ignore[attr-defined]  # the mark `install` looks for
    logging.setLogRecordFactory(factory)
