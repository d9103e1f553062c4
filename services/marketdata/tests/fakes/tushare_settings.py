"""What the Tushare source tests share: the token the fake server expects and fast retry settings."""

from zquant_marketdata.adapters.tushare.source import TushareSettings

TOKEN = "secret-token-0123456789abcdef"
BANKS = {"601398.SH", "601939.SH", "601288.SH", "601988.SH"}
MAX_ATTEMPTS = 3


def fast_settings(base_url: str, **overrides: object) -> TushareSettings:
    values: dict[str, object] = {
        "token": TOKEN,
        "base_url": base_url,
        "calls_per_minute": 60_000,
        "max_attempts": MAX_ATTEMPTS,
        "backoff_base_seconds": 0.005,
        "timeout": 5.0,
    }
    values.update(overrides)
    return TushareSettings(**values)  # type: ignore[arg-type]
