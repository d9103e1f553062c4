"""Which request fields name what a marketdata RPC acted on, in the audit log: the first one set wins."""

AUDIT_TARGET_FIELDS = ("position_id", "run_id", "name", "ts_code", "id")
